/**
 * The second API generation is served from the same route modules under `/api/v2/chat` and `/api/v2`,
 * for the endpoints chatport implements and no others, answering in the v2 form; the first keeps its
 * paths and its flattened form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { sdkTypeProblems } from '../helpers/sdk-types.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('API generations (%s)', (dialect) => {
  let t: TestServer;
  let call: (method: string, path: string, body?: unknown) => ReturnType<typeof rawRequest>;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    const token = await signToken(t.app.apiSecret, { server: true });
    call = (method, path, body) => rawRequest(t.baseURL, method, path, { apiKey: t.app.apiKey, token, body });
    await t.app.client.upsertUsers([{ id: 'ann', name: 'Ann', colour: 'red' } as never]);
  });
  afterAll(() => t.close());

  it('answers the same user in both forms: flattened at the root, nested under /api/v2', async () => {
    const payload = encodeURIComponent(JSON.stringify({ filter_conditions: { id: 'ann' } }));
    const v1 = (await call('GET', `/users?payload=${payload}`)).body.users as Array<Record<string, unknown>>;
    const v2 = (await call('GET', `/api/v2/users?payload=${payload}`)).body.users as Array<
      Record<string, unknown>
    >;
    expect(v1[0]).toMatchObject({ id: 'ann', name: 'Ann', colour: 'red' });
    expect(v1[0]).not.toHaveProperty('custom');
    expect(v2[0]).toMatchObject({
      id: 'ann',
      name: 'Ann',
      custom: { colour: 'red' },
      language: '',
      invisible: false,
    });
    expect(v2[0]).not.toHaveProperty('colour');
  });

  it('a v1 user breaks the promises of the v2 SDK types, which is why v2 has a form of its own', async () => {
    const payload = encodeURIComponent(JSON.stringify({ filter_conditions: { id: 'ann' } }));
    const [v1] = (await call('GET', `/users?payload=${payload}`)).body.users as unknown[];
    const problems = sdkTypeProblems(
      { ...(v1 as object), created_at: new Date(), updated_at: new Date() },
      'UserResponse',
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "UserResponse.custom: required by the SDK's type, missing",
        "UserResponse.language: required by the SDK's type, missing",
      ]),
    );
  });

  it('serves under /api/v2 only the endpoints chatport implements', async () => {
    expect((await call('POST', '/api/v2/chat/channels', {})).status).toBe(201);
    expect((await call('GET', '/api/v2/tasks/nothing')).status).toBe(404);
    // stream-chat's status route and single-user deletion have no v2 path; nothing else is stripped.
    for (const [method, path] of [
      ['GET', '/api/v2/chat/export_channels/nothing'],
      ['DELETE', '/api/v2/users/ann'],
      ['GET', '/api/v2/chat/users'],
      ['POST', '/api/v2/channels'],
      ['GET', '/api/v2/health'],
    ] as const) {
      const response = await call(method, path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.message).toMatch(/no route/);
    }
  });

  it('lists both generations in the OpenAPI document', async () => {
    const document = (await rawRequest(t.baseURL, 'GET', '/openapi.json')).body as {
      paths: Record<string, unknown>;
    };
    const paths = Object.keys(document.paths);
    for (const path of [
      '/users',
      '/api/v2/users',
      '/channels/{type}/{id}/query',
      '/api/v2/chat/channels/{type}/{id}/query',
      '/tasks/{id}',
      '/api/v2/tasks/{id}',
      '/export_channels/{id}',
    ]) {
      expect(paths, path).toContain(path);
    }
    expect(paths).not.toContain('/api/v2/chat/export_channels/{id}');
  });
});
