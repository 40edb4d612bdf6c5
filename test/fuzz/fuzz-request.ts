import type { RawHttpRequest } from '../helpers/raw-http.js';
import { toJsonText, JsonObject, type JsonModel, type JsonSchema } from './json-model.js';
import { encodeBody, encodeUrlText, type BodyEncoding, type UrlEncoding } from './nasty-inputs.js';
import { knownParamValue, knownQuery, type KnownRecords, type RouteSpec } from './route-catalogue.js';

/** A text in the URL and how it is encoded there. */
export interface UrlText {
  text: string;
  encoding: UrlEncoding;
}

/** Which credentials a request carries: the app's server token, a user token, none, or a forged one. */
export type Credentials = 'server' | 'user' | 'none' | 'forged';

/** One request of the fuzz suite, before it is rendered to bytes. */
export interface FuzzRequest {
  method: string;
  /** One per path parameter of the route, in order. */
  pathParams: UrlText[];
  query: Array<[UrlText, UrlText]>;
  apiKey: 'valid' | 'missing' | UrlText;
  credentials: Credentials;
  /** Sent after the credentials and content type, so they can repeat or contradict them. */
  headers: Array<[string, string]>;
  body: { json: JsonModel; encoding: BodyEncoding } | undefined;
}

export interface FuzzTarget {
  port: number;
  apiKey: string;
  tokens: Record<Exclude<Credentials, 'none'>, string>;
  known: KnownRecords;
}

const STANDARD: UrlEncoding = { kind: 'standard' };

export const plainText = (text: string): UrlText => ({ text, encoding: STANDARD });

/** Writes a FuzzRequest as the exact bytes it will be sent as. */
export function renderRequest(route: RouteSpec, request: FuzzRequest, target: FuzzTarget): RawHttpRequest {
  let path = route.path;
  route.pathParams.forEach((name, index) => {
    const value = request.pathParams[index]!;
    path = path.replace(`{${name}}`, encodeUrlText(value.text, value.encoding));
  });
  const query: string[] = [];
  if (request.apiKey === 'valid') query.push(`api_key=${target.apiKey}`);
  else if (request.apiKey !== 'missing')
    query.push(`api_key=${encodeUrlText(request.apiKey.text, request.apiKey.encoding)}`);
  for (const [key, value] of request.query) {
    query.push(`${encodeUrlText(key.text, key.encoding)}=${encodeUrlText(value.text, value.encoding)}`);
  }
  const headers: Array<[string, string]> = [];
  if (request.credentials !== 'none') {
    headers.push(['authorization', target.tokens[request.credentials]], ['stream-auth-type', 'jwt']);
  }
  const ownContentType = request.headers.some(([name]) => name.toLowerCase() === 'content-type');
  if (request.body !== undefined && !ownContentType) headers.push(['content-type', 'application/json']);
  headers.push(...request.headers);
  return {
    method: request.method,
    target: query.length > 0 ? `${path}?${query.join('&')}` : path,
    headers,
    body:
      request.body === undefined
        ? undefined
        : encodeBody(toJsonText(request.body.json), request.body.encoding),
  };
}

/** A short account of a request for a failure message: enough to replay it by hand. */
export function describeRequest(request: RawHttpRequest): string {
  const clip = (text: string, length: number) => (text.length > length ? `${text.slice(0, length)}…` : text);
  const headers = request.headers.map(([name, value]) => `${name}: ${clip(JSON.stringify(value), 80)}`);
  const body =
    request.body === undefined ? '' : ` body ${clip(JSON.stringify(request.body.toString('latin1')), 300)}`;
  return `${request.method} ${clip(request.target, 300)} [${clip(headers.join('; '), 400)}]${body}`;
}

/** The simplest body a schema accepts: required properties only, each its plainest value. */
export function minimalValue(schema: JsonSchema, known: KnownRecords): JsonModel {
  if (schema.anyOf?.[0]) return minimalValue(schema.anyOf[0], known);
  if (schema.enum?.length) return schema.enum[0] as JsonModel;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return known.userId;
    case 'integer':
    case 'number':
      return schema.minimum ?? 0;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => minimalValue(schema.items ?? {}, known));
    case 'object':
      return new JsonObject(
        (schema.required ?? []).map((name) => [name, minimalValue(schema.properties?.[name] ?? {}, known)]),
      );
    default:
      return new JsonObject([]);
  }
}

/** A request that names real records with valid credentials: what each systematic case varies one part of. */
export function baselineRequest(route: RouteSpec, known: KnownRecords): FuzzRequest {
  return {
    method: route.method,
    pathParams: route.pathParams.map((name) => plainText(knownParamValue(route, name, known))),
    query: knownQuery(route, known).map(([key, value]) => [plainText(key), plainText(value)]),
    apiKey: 'valid',
    credentials: 'server',
    headers: [],
    body: route.body ? { json: minimalValue(route.body, known), encoding: 'utf8' } : undefined,
  };
}
