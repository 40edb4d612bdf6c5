import type { JsonSchema } from './json-model.js';

/**
 * The routes the server registers, read from its own OpenAPI document (`GET /openapi.json`, which
 * @fastify/swagger builds from every route's schemas): a route added later is fuzzed without a change
 * here. Only what the fuzz suite needs: method, path, parameters and body schema.
 */
export interface RouteSpec {
  method: string;
  /** OpenAPI form: `/messages/{id}/reaction/{type}`. */
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: JsonSchema }>;
  body: JsonSchema | undefined;
}

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string; schema?: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

const METHODS = new Set(['get', 'head', 'post', 'put', 'patch', 'delete']);

export function routesOf(document: OpenApiDocument): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!METHODS.has(method)) continue;
      const parameters = operation.parameters ?? [];
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!),
        query: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: operation.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return routes;
}

/** Records the seeded app holds, so that requests can name real ones and get past "not found". */
export interface KnownRecords {
  userId: string;
  channelType: string;
  channelId: string;
  messageId: string;
  reactionType: string;
  taskId: string;
  /** The path and query of a valid download link of a completed export. */
  download: { appId: string; taskId: string; filename: string; expires: string; signature: string };
}

/**
 * A value for a path parameter that names a real record, told by the static segment before it:
 * `/channels/{type}/{id}`, `/messages/{id}/reaction/{type}`, `/users/{id}`, `/tasks/{id}`, ...
 */
export function knownParamValue(route: RouteSpec, param: string, known: KnownRecords): string {
  if (route.path.includes('/downloads/')) {
    const download = known.download as Record<string, string>;
    return Object.hasOwn(download, param) ? download[param]! : 'x';
  }
  const segments = route.path.split('/');
  const index = segments.indexOf(`{${param}}`);
  const owner = segments
    .slice(0, index)
    .reverse()
    .find((segment) => !segment.startsWith('{'));
  switch (owner) {
    case 'channels':
      return param === 'type' ? known.channelType : known.channelId;
    case 'messages':
      return known.messageId;
    case 'reaction':
      return known.reactionType;
    case 'users':
    case 'member':
      return known.userId;
    case 'tasks':
    case 'export_channels':
      return known.taskId;
    default:
      return 'x';
  }
}

/**
 * The query a route needs beyond its schema to reach its handler: a download link's signature, and the
 * acting user a server-side call names in the query (`PATCH .../member?user_id=`), without whom every
 * probe of the body would stop at the missing user.
 */
export function knownQuery(route: RouteSpec, known: KnownRecords): Array<[string, string]> {
  const query: Array<[string, string]> = [];
  if (route.query.some(({ name }) => name === 'user_id')) query.push(['user_id', known.userId]);
  if (route.path.includes('/downloads/'))
    query.push(['expires', known.download.expires], ['signature', known.download.signature]);
  return query;
}
