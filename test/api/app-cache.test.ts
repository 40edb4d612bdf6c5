import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { createManualClock } from '../../src/lib/time.js';
import { APP_CACHE_MILLIS } from '../../src/modules/apps/apps.cache.js';
import { ensureApp } from '../../src/modules/apps/apps.usecases.js';
import { closeContext, createContext } from '../../src/runtime.js';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestApp, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('apps cached by the API process (%s)', (dialect) => {
  const clock = createManualClock(Date.now() * 1000);
  let t: TestServer;
  // Another process on the same database: its own handle, so nothing it writes reaches the server's cache.
  let other: Context;

  beforeAll(async () => {
    t = await startTestServer(dialect, { clock });
    other = await createContext(t.server.context.config);
  });
  afterAll(async () => {
    await closeContext(other);
    await t.close();
  });

  const status = async (app: { apiKey: string }, secret: string) => {
    const token = await signToken(secret, { server: true });
    const response = await rawRequest(t.baseURL, 'GET', '/users', { apiKey: app.apiKey, token });
    return response.status === 200 ? 200 : [response.status, response.body.code];
  };

  const rotate = (db: Context['db'], app: TestApp, apiSecret: string) =>
    ensureApp({ db, clock, credentials: { apiKey: app.apiKey, apiSecret }, name: 'rotated' });

  it('a secret rotated by another process is honoured once the cached app expires', async () => {
    const app = await t.createTestApp('rotated-elsewhere');
    expect(await status(app, app.apiSecret)).toBe(200);
    await rotate(other.db, app, 'rotated-by-another-process');

    // Within APP_CACHE_MILLIS the server still knows the app by its old secret.
    clock.advanceMillis(APP_CACHE_MILLIS - 1);
    expect(await status(app, app.apiSecret)).toBe(200);
    expect(await status(app, 'rotated-by-another-process')).toEqual([401, 43]);

    clock.advanceMillis(1);
    expect(await status(app, app.apiSecret)).toEqual([401, 43]);
    expect(await status(app, 'rotated-by-another-process')).toBe(200);
  });

  it('a secret rotated in the serving process is honoured at once', async () => {
    const app = await t.createTestApp('rotated-here');
    expect(await status(app, app.apiSecret)).toBe(200);
    await rotate(t.server.context.db, app, 'rotated-in-this-process');
    expect(await status(app, app.apiSecret)).toEqual([401, 43]);
    expect(await status(app, 'rotated-in-this-process')).toBe(200);
  });

  it('an app created by another process works at once: unknown keys are not cached', async () => {
    const credentials = { apiKey: `made-elsewhere-${dialect}`, apiSecret: 'a-secret-made-elsewhere' };
    expect(await status(credentials, credentials.apiSecret)).toEqual([401, 2]);
    await ensureApp({ db: other.db, clock, credentials, name: 'made elsewhere' });
    expect(await status(credentials, credentials.apiSecret)).toBe(200);
  });

  it('a token verified once is checked again when the app is read again after a rotation', async () => {
    const app = await t.createTestApp('token-cache');
    const token = await signToken(app.apiSecret, { server: true });
    const get = () => rawRequest(t.baseURL, 'GET', '/users', { apiKey: app.apiKey, token });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    await rotate(other.db, app, 'rotated-after-caching-the-token');
    clock.advanceMillis(APP_CACHE_MILLIS);
    expect([(await get()).status, (await get()).body.code]).toEqual([401, 43]);
  });
});
