/**
 * Nothing accepted and ignored: every field Stream's spec defines in the request body of a route
 * chatport serves (test/fixtures/stream-request-bodies.json, taken from Stream's OpenAPI document)
 * is either declared in the schema chatport serves for that route (read from its own
 * `GET /openapi.json`, so what another change implements counts at once) or refused with 400 code 4
 * naming it. One level of nested objects is walked too (a channel's `data`, a `message`, pagination,
 * export entries, ...). A user reference (`user`, `created_by`) names a user by `id`; its other
 * fields describe that user and are not walked. Both API generations, both databases.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ONLY_FIELDS } from '../../src/lib/request-fields.js';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

interface SpecField {
  type: string;
  nested?: 'object' | 'items' | 'values';
  schema?: string;
  fields?: Record<string, SpecField>;
}
interface SpecOperation {
  operation: string;
  method: string;
  path: string;
  fields: Record<string, SpecField>;
}
type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  not?: unknown;
  type?: string;
};
type Body = Record<string, unknown>;

const spec = JSON.parse(
  fs.readFileSync(new URL('../fixtures/stream-request-bodies.json', import.meta.url), 'utf8'),
) as { operations: SpecOperation[] };

/** Bodies that pass validation, for the routes that require fields; a refused field is added to them. */
const BASE_BODIES: Record<string, Body> = {
  SendMessage: { message: { text: 'walk', user_id: 'ann' } },
  UpdateMessage: { message: { text: 'walk', user_id: 'ann' } },
  SendReaction: { reaction: { type: 'walk', user_id: 'ann' } },
  DeleteChannels: { cids: ['messaging:nothing'] },
  UpdateUsers: { users: {} },
  UpdateUsersPartial: { users: [{ id: 'ann' }] },
  DeleteUsers: { user_ids: ['nobody'] },
  RestoreUsers: { user_ids: ['nobody'] },
  ExportUsers: { user_ids: ['nobody'] },
  ExportChannels: { channels: [{ cid: 'messaging:c1' }] },
};

/** A valid entry of a list or map field, to which a nested field is added. */
const BASE_ENTRIES: Record<string, Body> = {
  add_members: { user_id: 'ann' },
  assign_roles: { user_id: 'ann' },
  invites: { user_id: 'ann' },
  channels: { cid: 'messaging:c1' },
  users: { id: 'ann' },
  sort: { field: 'created_at' },
  message: { text: 'walk', user_id: 'ann' },
  reaction: { type: 'walk', user_id: 'ann' },
};

const USER_REFERENCES = new Set(['user', 'created_by']);

const SAMPLES: Record<string, unknown> = { string: 'walk', boolean: true, integer: 1, number: 1, array: [] };
const sample = (type: string): unknown => (type in SAMPLES ? SAMPLES[type] : {});

const isDeclared = (schema: JsonSchema | undefined, name: string): boolean => {
  const property = schema?.properties?.[name];
  return property !== undefined && property.not === undefined;
};

/** The object schema inside a property: itself, its list's entries, or its map's values. */
function objectSchemaOf(property: JsonSchema, nested: SpecField['nested']): JsonSchema | undefined {
  const objectBranch = (schema: JsonSchema | undefined): JsonSchema | undefined =>
    schema?.properties ? schema : schema?.anyOf?.map(objectBranch).find(Boolean);
  if (nested === 'object') return objectBranch(property);
  if (nested === 'items') {
    const list = property.type === 'array' ? property : property.anyOf?.find((s) => s.type === 'array');
    return objectBranch(list?.items);
  }
  const values =
    typeof property.additionalProperties === 'object'
      ? property.additionalProperties
      : Object.values(property.patternProperties ?? {})[0];
  return objectBranch(values);
}

interface Probe {
  /** How the field is named in an error: `data.config_overrides`. */
  field: string;
  body: Body;
}

/** The spec's fields chatport's served schema does not declare, each as a request that adds it. */
function undeclaredFields(
  operation: SpecOperation,
  schema: JsonSchema,
): { probes: Probe[]; problems: string[] } {
  const base = BASE_BODIES[operation.operation] ?? {};
  const probes: Probe[] = [];
  const problems: string[] = [];
  for (const [name, field] of Object.entries(operation.fields)) {
    if (!isDeclared(schema, name)) {
      probes.push({ field: name, body: { ...structuredClone(base), [name]: sample(field.type) } });
      continue;
    }
    if (!field.nested || !field.fields || USER_REFERENCES.has(name)) continue;
    const inner = objectSchemaOf(schema.properties![name]!, field.nested);
    if (!inner) {
      problems.push(`${operation.operation}.${name}: chatport's schema declares none of its fields`);
      continue;
    }
    for (const [innerName, innerField] of Object.entries(field.fields)) {
      if (isDeclared(inner, innerName)) continue;
      const entry = { ...structuredClone(BASE_ENTRIES[name] ?? {}), [innerName]: sample(innerField.type) };
      const body = structuredClone(base);
      if (field.nested === 'object') {
        body[name] = entry;
        probes.push({ field: `${name}.${innerName}`, body });
      } else if (field.nested === 'items') {
        body[name] = [entry];
        probes.push({ field: `${name}.0.${innerName}`, body });
      } else {
        body[name] = { ann: entry };
        probes.push({ field: `${name}.ann.${innerName}`, body });
      }
    }
  }
  return { probes, problems };
}

const GENERATIONS = [
  { name: 'v1', prefixes: [''] },
  { name: 'v2', prefixes: ['/api/v2/chat', '/api/v2'] },
];

describe.each(testDialects)('no request field is accepted and ignored (%s)', (dialect) => {
  let t: TestServer;
  let token: string;
  let served: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
  >;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await signToken(t.app.apiSecret, { server: true });
    await t.app.client.upsertUsers([{ id: 'ann' }]);
    await t.app.client
      .channel('messaging', 'c1', { created_by_id: 'ann', members: ['ann'] } as never)
      .create();
    await t.app.client.channel('messaging', 'c1').sendMessage({ id: 'm1', text: 'hi', user_id: 'ann' });
    served = ((await (await fetch(`${t.baseURL}/openapi.json`)).json()) as { paths: typeof served }).paths;
  });
  afterAll(() => t.close());

  it('the reference spec names every route walked here, and chatport serves each in both generations', () => {
    expect(spec.operations.length).toBeGreaterThanOrEqual(18);
    for (const operation of spec.operations) {
      for (const generation of GENERATIONS) {
        const path = generation.prefixes.map((p) => p + operation.path).find((p) => served[p]);
        expect(path, `${operation.operation} in ${generation.name}`).toBeDefined();
        expect(served[path!]![operation.method.toLowerCase()], operation.operation).toBeDefined();
      }
    }
  });

  describe.each(GENERATIONS)('$name', (generation) => {
    it.each(spec.operations.map((o) => [o.operation, o] as const))(
      '%s: each spec field is declared by chatport or refused naming it',
      async (_name, operation) => {
        const path = generation.prefixes.map((p) => p + operation.path).find((p) => served[p])!;
        const schema =
          served[path]![operation.method.toLowerCase()]!.requestBody!.content['application/json']!.schema;
        const { probes, problems } = undeclaredFields(operation, schema);
        expect(problems).toEqual([]);
        const url = path
          .replace('{type}', 'messaging')
          .replace('{id}', operation.path.startsWith('/messages') ? 'm1' : 'c1');
        const answers: Array<{ field: string; status: number; named: boolean }> = [];
        for (const probe of probes) {
          const response = await rawRequest(t.baseURL, operation.method, url, {
            apiKey: t.app.apiKey,
            token,
            body: probe.body,
          });
          const fields = (response.body.exception_fields ?? {}) as Record<string, string>;
          answers.push({
            field: probe.field,
            status: response.status,
            named: response.body.code === 4 && Object.hasOwn(fields, probe.field),
          });
        }
        expect(answers.filter((a) => a.status !== 400 || !a.named)).toEqual([]);
      },
    );
  });

  it('a refused field gets Stream’s error body saying chatport does not support it, and changes nothing', async () => {
    const response = await rawRequest(t.baseURL, 'POST', '/channels/messaging/c1', {
      apiKey: t.app.apiKey,
      token,
      body: { data: { color: 'blue' }, cooldown: 10 },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 4,
      StatusCode: 400,
      message: 'UpdateChannel failed with error: "cooldown is not supported by chatport"',
      exception_fields: { cooldown: 'is not supported by chatport' },
    });
    const [channel] = await t.app.client.queryChannels({ cid: 'messaging:c1' });
    expect(channel!.data).not.toHaveProperty('color');
  });

  it('client-only fields (watch, presence, state, ...) are accepted and change nothing', async () => {
    const channel = t.app.client.channel('messaging', 'c1');
    const state = await channel.query({ watch: true, presence: true, state: true, watchers: { limit: 5 } });
    expect(state.watchers).toEqual([]);
    expect(state.messages.map((m) => m.id)).toEqual(['m1']);
    const channels = await t.app.client.queryChannels(
      { cid: 'messaging:c1' },
      {},
      { watch: true, presence: true },
    );
    expect(channels).toHaveLength(1);
  });

  it('GET /users refuses payload fields it does not implement, and leaves deactivated users out unless asked', async () => {
    await t.app.client.upsertUsers([{ id: 'gone' }]);
    await t.server.context.db
      .updateTable('users')
      .set({ deactivated_at: 1 })
      .where('id', '=', 'gone')
      .execute();
    const ids = async (options: Record<string, unknown>) =>
      (await t.app.client.queryUsers({ id: { $in: ['ann', 'gone'] } }, {}, options)).users.map((u) => u.id);
    expect(await ids({})).toEqual(['ann']);
    expect(await ids({ include_deactivated_users: true })).toEqual(['ann', 'gone']);
    expect(await ids({ presence: true })).toEqual(['ann']);
    const refused = await rawRequest(
      t.baseURL,
      'GET',
      `/users?payload=${encodeURIComponent(JSON.stringify({ filter_conditions: {}, user_id: 'ann' }))}`,
      { apiKey: t.app.apiKey, token },
    );
    expect([refused.status, refused.body.code, refused.body.exception_fields]).toEqual([
      400,
      4,
      { user_id: 'is not supported by chatport' },
    ]);
  });

  it('a channel query pages its members with members.offset', async () => {
    await t.app.client.upsertUsers([{ id: 'bob' }, { id: 'cy' }]);
    await t.app.client.channel('messaging', 'c1').addMembers(['bob', 'cy']);
    const state = await t.app.client.channel('messaging', 'c1').query({ members: { limit: 1, offset: 1 } });
    expect(state.members.map((m) => m.user_id)).toEqual(['bob']);
  });
});

describe('the client-only fields', () => {
  it('are each listed in docs/data-model.md', () => {
    const docs = fs.readFileSync(new URL('../../docs/data-model.md', import.meta.url), 'utf8');
    const section = docs.slice(docs.indexOf('## Request fields'));
    for (const name of Object.keys(CLIENT_ONLY_FIELDS)) expect(section).toContain(`\`${name}\``);
  });
});
