import { SignJWT } from 'jose';

/** A bare HTTP client for what the SDK cannot send: user tokens, broken tokens, malformed bodies. */
export interface RawResponse {
  status: number;
  body: Record<string, unknown>;
}

export async function rawRequest(
  baseURL: string,
  method: string,
  path: string,
  options: {
    apiKey?: string;
    token?: string;
    authType?: string | null;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<RawResponse> {
  const url = new URL(path, baseURL);
  if (options.apiKey !== undefined) url.searchParams.set('api_key', options.apiKey);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = options.token;
  if (options.authType !== null) headers['stream-auth-type'] = options.authType ?? 'jwt';
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, body: parsed };
}

export async function signToken(
  secret: string,
  payload: Record<string, unknown>,
  alg = 'HS256',
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`), which must always be refused. */
export function unsignedToken(payload: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}
