import type { FastifyError, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { HttpApp } from './http-app.js';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { Kysely } from 'kysely';
import type { AppRow, Database } from '../database/database.types.js';
import type { Caller } from '../lib/caller.js';
import { ApiError } from '../lib/errors.js';
import type { Clock } from '../lib/time.js';
import { createAppCache } from '../modules/apps/apps.cache.js';
import { findAppByKey } from '../modules/apps/apps.repository.js';

export type RouteAccess = 'server' | 'user' | 'public';

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

export interface AuthOptions {
  db: Kysely<Database>;
  clock: Clock;
}

/**
 * Authenticates every route not declared `access: 'public'`, through an onRequest hook added to the
 * route itself (public routes and unknown URLs carry none). Apps are cached by api_key (apps.cache.ts:
 * another process's secret rotation is seen within APP_CACHE_MILLIS), and verified tokens that carry
 * no time claims (the SDKs' server token is `{"server":true}`, the same on every request) are
 * remembered per cached app row, so the HMAC check runs once per row, not per request. A request
 * both caches answer is authenticated without a promise or a query.
 */
export function registerAuth(app: HttpApp, { db, clock }: AuthOptions): void {
  const apps = createAppCache({ db, clock, load: (apiKey) => findAppByKey(db, apiKey) });
  const secretKeys = new WeakMap<AppRow, Uint8Array>();
  // Keyed by the row object: a row read again (after the cache's TTL, or a rotation) starts empty.
  const verifiedTokens = new WeakMap<AppRow, Map<string, Caller>>();

  function secretOf(row: AppRow): Uint8Array {
    let key = secretKeys.get(row);
    if (!key) {
      key = new TextEncoder().encode(row.api_secret);
      secretKeys.set(row, key);
    }
    return key;
  }

  function apiKeyOf(request: FastifyRequest): string {
    const query = request.query as Record<string, unknown> | undefined;
    const apiKey = query?.api_key;
    if (typeof apiKey !== 'string' || apiKey === '') {
      throw new ApiError('apiKeyInvalid', 'api_key not found');
    }
    return apiKey;
  }

  /** The raw token, once the app is known (so an unknown api_key is reported first). */
  function tokenOf(request: FastifyRequest): string {
    if (request.headers['stream-auth-type'] !== 'jwt') {
      throw new ApiError('authInvalid', 'stream-auth-type header must be "jwt"');
    }
    const token = request.headers.authorization;
    if (!token) throw new ApiError('authInvalid', 'authorization header is missing');
    return token.startsWith('Bearer ') ? token.slice(7) : token;
  }

  /** Authenticates from the caches alone; false when the app or the token is not cached. */
  function authenticateCached(request: FastifyRequest): boolean {
    const row = apps.peek(apiKeyOf(request));
    if (!row) return false;
    request.app = row;
    const caller = verifiedTokens.get(row)?.get(tokenOf(request));
    if (!caller) return false;
    request.caller = caller;
    return true;
  }

  async function authenticate(request: FastifyRequest): Promise<void> {
    const apiKey = apiKeyOf(request);
    const row = await apps.get(apiKey);
    if (!row) throw new ApiError('apiKeyInvalid', `api_key not valid: ${apiKey}`);
    request.app = row;
    // authenticateCached found no verified token for this row (or no row): verify it.
    const token = tokenOf(request);
    const { caller, timeless } = await verifyTokenClaims(token, secretOf(row), clock);
    if (timeless) {
      let known = verifiedTokens.get(row);
      if (!known) verifiedTokens.set(row, (known = new Map()));
      if (known.size >= 1000) known.clear();
      known.set(token, caller);
    }
    request.caller = caller;
  }

  function accessError(request: FastifyRequest, access: RouteAccess): ApiError | undefined {
    return access === 'server' && request.caller.kind !== 'server'
      ? new ApiError('notAllowed', 'this endpoint is server-side only; use a server token')
      : undefined;
  }

  // A callback hook rather than an async one: the cached path finishes without a promise.
  function authenticationHook(access: RouteAccess): onRequestHookHandler {
    return (request, _reply, done) => {
      let cached: boolean;
      try {
        cached = authenticateCached(request);
      } catch (error) {
        done(error as FastifyError);
        return;
      }
      if (cached) {
        done(accessError(request, access) as FastifyError | undefined);
        return;
      }
      authenticate(request).then(
        () => done(accessError(request, access) as FastifyError | undefined),
        (error: unknown) => done(error as FastifyError),
      );
    };
  }
  const hooks = { server: authenticationHook('server'), user: authenticationHook('user') };

  app.decorateRequest('app', undefined as unknown as { getter: () => AppRow });
  app.decorateRequest('caller', undefined as unknown as { getter: () => Caller });
  app.addHook('onRoute', (route) => {
    const access = route.config?.access ?? 'server';
    if (access === 'public') return;
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [hooks[access], ...own];
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
