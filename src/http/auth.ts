import type { FastifyRequest } from 'fastify';
import type { HttpApp } from './http-app.js';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { Kysely } from 'kysely';
import type { AppRow, Database } from '../database/database.types.js';
import { ApiError } from '../lib/errors.js';
import type { Clock } from '../lib/time.js';
import { findAppByKey } from '../modules/apps/apps.repository.js';

/**
 * Who is calling. A server token (`{"server":true}`) may do everything within its app. A user token
 * (`{"user_id":"u1"}`) may only act as that user on their own messages and reactions: routes declare
 * `access: 'user'` to admit it, and their use cases check ownership. Everything else is server-side only
 * and answers a user token with 403 code 17.
 */
export type Caller = { kind: 'server' } | { kind: 'user'; userId: string };

export type RouteAccess = 'server' | 'user' | 'public';

/**
 * The user a request acts as: a user token always acts as itself (naming anyone else is 403 code 17);
 * a server token must name the user in `field`.
 */
export function actingUserId(caller: Caller, named: string | undefined, field: string): string {
  if (caller.kind === 'user') {
    if (named !== undefined && named !== caller.userId) {
      throw new ApiError('notAllowed', `a user token can only act as ${caller.userId}`);
    }
    return caller.userId;
  }
  if (named === undefined)
    throw new ApiError('inputError', `${field} is required with a server token`, {
      [field]: 'is required with a server token',
    });
  return named;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Stream's operation name, used in error messages: `<Operation> failed with error: "..."`. */
    operation?: string;
    /** Who may call: 'server' (default), 'user' (server or user tokens), 'public' (no auth). */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    app: AppRow;
    caller: Caller;
  }
}

/** Seconds of clock skew tolerated for exp, nbf and iat. */
const CLOCK_TOLERANCE_SECONDS = 5;
const APP_CACHE_MILLIS = 10_000;

export interface AuthOptions {
  db: Kysely<Database>;
  clock: Clock;
}

export function registerAuth(app: HttpApp, { db, clock }: AuthOptions): void {
  // Apps change rarely; a short cache keeps the database off the path of every request. Unknown keys
  // are not cached, so an app created by another process works at once.
  const appCache = new Map<string, { app: AppRow; at: number }>();
  const secretKeys = new WeakMap<AppRow, Uint8Array>();
  // Verified tokens that carry no time claims (the SDKs' server token is `{"server":true}`, the same
  // on every request) are remembered per app row, so the HMAC check runs once, not per request. The
  // cache lives as long as the cached app row, so a rotated secret is honoured within seconds.
  const verifiedTokens = new WeakMap<AppRow, Map<string, Caller>>();

  async function lookupApp(apiKey: string): Promise<AppRow | undefined> {
    const now = Date.now();
    const cached = appCache.get(apiKey);
    if (cached && now - cached.at < APP_CACHE_MILLIS) return cached.app;
    const row = await findAppByKey(db, apiKey);
    if (row) {
      if (appCache.size > 1000) appCache.clear();
      appCache.set(apiKey, { app: row, at: now });
    } else appCache.delete(apiKey);
    return row;
  }

  function secretOf(row: AppRow): Uint8Array {
    let key = secretKeys.get(row);
    if (!key) {
      key = new TextEncoder().encode(row.api_secret);
      secretKeys.set(row, key);
    }
    return key;
  }

  async function authenticate(request: FastifyRequest): Promise<void> {
    const query = request.query as Record<string, unknown> | undefined;
    const apiKey = query?.api_key;
    if (typeof apiKey !== 'string' || apiKey === '') {
      throw new ApiError('apiKeyInvalid', 'api_key not found');
    }
    const row = await lookupApp(apiKey);
    if (!row) throw new ApiError('apiKeyInvalid', `api_key not valid: ${apiKey}`);
    request.app = row;

    const authType = request.headers['stream-auth-type'];
    if (authType !== 'jwt') {
      throw new ApiError('authInvalid', 'stream-auth-type header must be "jwt"');
    }
    let token = request.headers.authorization;
    if (!token) throw new ApiError('authInvalid', 'authorization header is missing');
    if (token.startsWith('Bearer ')) token = token.slice(7);
    let known = verifiedTokens.get(row);
    const cached = known?.get(token);
    if (cached) {
      request.caller = cached;
      return;
    }
    const { caller, timeless } = await verifyTokenClaims(token, secretOf(row), clock);
    if (timeless) {
      if (!known) verifiedTokens.set(row, (known = new Map()));
      if (known.size >= 1000) known.clear();
      known.set(token, caller);
    }
    request.caller = caller;
  }

  app.decorateRequest('app', undefined as unknown as { getter: () => AppRow });
  app.decorateRequest('caller', undefined as unknown as { getter: () => Caller });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access ?? 'server';
    if (access === 'public' || !request.routeOptions.url) return;
    await authenticate(request);
    if (access === 'server' && request.caller.kind !== 'server') {
      throw new ApiError('notAllowed', 'this endpoint is server-side only; use a server token');
    }
  });
}

/** Verifies an HS256 token over its raw segments and maps every failure to Stream's code. */
export async function verifyToken(token: string, secret: Uint8Array, clock: Clock): Promise<Caller> {
  return (await verifyTokenClaims(token, secret, clock)).caller;
}

/** verifyToken, also telling whether the token has no exp, nbf or iat (so its validity never changes). */
async function verifyTokenClaims(
  token: string,
  secret: Uint8Array,
  clock: Clock,
): Promise<{ caller: Caller; timeless: boolean }> {
  let payload: Record<string, unknown>;
  const nowSeconds = Math.floor(clock.nowMicros() / 1_000_000);
  try {
    const verified = await jwtVerify(token, secret, {
      algorithms: ['HS256'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowSeconds * 1000),
    });
    payload = verified.payload;
  } catch (error) {
    throw tokenError(error);
  }
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) {
    throw new ApiError('tokenUsedBeforeIssued', 'token used before issue at (iat)');
  }
  const timeless = payload.exp === undefined && payload.nbf === undefined && payload.iat === undefined;
  if (payload.server === true) return { caller: { kind: 'server' }, timeless };
  if (typeof payload.user_id === 'string' && payload.user_id !== '') {
    return { caller: { kind: 'user', userId: payload.user_id }, timeless };
  }
  throw new ApiError('authInvalid', 'token carries neither server:true nor a user_id');
}

function tokenError(error: unknown): ApiError {
  if (error instanceof joseErrors.JWTExpired) return new ApiError('tokenExpired', 'token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new ApiError('tokenNotValidYet', 'token not valid yet (nbf)');
    if (error.claim === 'iat')
      return new ApiError('tokenUsedBeforeIssued', 'token used before issue at (iat)');
    return new ApiError('authInvalid', `token claim ${error.claim} is invalid`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new ApiError(
      'tokenSignatureInvalid',
      'signature is not valid for this api_key, make sure the secret is right',
    );
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return new ApiError('authInvalid', 'token algorithm must be HS256');
  }
  return new ApiError('authInvalid', 'token is malformed');
}
