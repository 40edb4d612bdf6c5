import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(testDialects)('server start-up (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
  });
  afterAll(() => t.close());

  it('answers GET /health with 200 and the database in use', async () => {
    const response = await fetch(`${t.baseURL}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', database: dialect });
    expect(body.duration).toMatch(/^\d+\.\d{2}ms$/);
  });

  it('answers an unknown route with 404 code 16 in Stream’s error shape', async () => {
    const response = await fetch(`${t.baseURL}/no/such/route?api_key=${t.app.apiKey}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 16, StatusCode: 404 });
  });
});

describe('OpenAPI document', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer('sqlite');
  });
  afterAll(() => t.close());

  it('is generated from the route schemas and served at /openapi.json', async () => {
    const response = await fetch(`${t.baseURL}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toBe('3.1.0');
    for (const path of [
      '/export_channels',
      '/export_channels/{id}',
      '/tasks/{id}',
      '/users/{id}/export',
      '/export/users',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    const exportBody = JSON.stringify(document.paths['/export_channels']!.post);
    expect(exportBody).toContain('include_truncated_messages');
    expect(exportBody).toContain('since_cursor');
    expect(JSON.stringify(document.paths['/tasks/{id}']!.get)).toContain('cursor');
  });
});
