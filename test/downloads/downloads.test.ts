import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRow, TaskRow } from '../../src/database/database.types.js';
import { createManualClock } from '../../src/lib/time.js';
import { signDownloadUrl } from '../../src/modules/downloads/download-links.js';
import { presentDownload } from '../../src/modules/downloads/downloads.presenter.js';
import { updateAppSecret } from '../../src/modules/apps/apps.repository.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { appRow, errorOf, publishExport } from './published-export.fixture.js';

/** 3000 lines of v2 export, so ranges have room: every byte position is distinct enough to check. */
const content = Buffer.from(
  Array.from(
    { length: 3000 },
    (_, i) => `{"type":"message","data":{"id":"m${i}","text":"héllo ${i}"}}\n`,
  ).join(''),
);

describe.each(testDialects)('downloading an export file (%s)', (dialect) => {
  const clock = createManualClock(Math.floor(Date.now() / 1000) * 1_000_000);
  let t: TestServer;
  let app: AppRow;
  let task: TaskRow;
  let other: TaskRow;

  beforeAll(async () => {
    t = await startTestServer(dialect, { clock });
    app = await appRow(t);
    task = await publishExport(t, app, { filename: 'channels.jsonl', content });
    other = await publishExport(t, app, { filename: 'channels.jsonl', content: Buffer.from('[]') });
  });
  afterAll(() => t.close());

  async function freshUrl(row: TaskRow = task, owner: AppRow = app): Promise<string> {
    const presented = await presentDownload({
      storage: t.server.context.storage,
      task: row,
      app: owner,
      config: t.server.context.config,
      clock,
    });
    if (!('url' in presented)) throw new Error(`no link: ${presented.note}`);
    return presented.url;
  }

  it('serves the exact bytes at the presented link, with length, tag, type and file name', async () => {
    const url = await freshUrl();
    expect(url.startsWith(`${t.server.context.config.publicUrl}/downloads/${app.id}/${task.id}/`)).toBe(true);
    const response = await fetch(local(url));
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.equals(content)).toBe(true);
    expect(response.headers.get('content-length')).toBe(String(content.length));
    expect(response.headers.get('etag')).toBe(
      `"${crypto.createHash('sha256').update(content).digest('hex')}"`,
    );
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="channels.jsonl"');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
  });

  it('answers HEAD with the same headers and no body', async () => {
    const response = await fetch(local(await freshUrl()), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(content.length));
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers If-None-Match with the current tag with 304', async () => {
    const first = await fetch(local(await freshUrl()));
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const response = await fetch(local(await freshUrl()), { headers: { 'if-none-match': etag } });
    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe(etag);
    const changed = await fetch(local(await freshUrl()), {
      headers: { 'if-none-match': '"something-else"' },
    });
    expect(changed.status).toBe(200);
    await changed.arrayBuffer();
  });

  it('answers a Range request with 206 and exactly that slice', async () => {
    const response = await fetch(local(await freshUrl()), { headers: { range: 'bytes=1000-1999' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 1000-1999/${content.length}`);
    expect(response.headers.get('content-length')).toBe('1000');
    expect(Buffer.from(await response.arrayBuffer()).equals(content.subarray(1000, 2000))).toBe(true);

    const tail = await fetch(local(await freshUrl()), { headers: { range: 'bytes=-10' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(content.subarray(content.length - 10))).toBe(true);
  });

  it('answers a range past the end with 416 and the real size', async () => {
    const response = await fetch(local(await freshUrl()), { headers: { range: `bytes=${content.length}-` } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe(`bytes */${content.length}`);
    expect(await errorOf(response)).toMatchObject({ code: 4, StatusCode: 416 });
  });

  it('refuses a link once 24 hours have passed with 403 code 17; a fresh one works', async () => {
    const url = await freshUrl();
    clock.advanceMillis(25 * 3600_000);
    const response = await fetch(local(url));
    expect(response.status).toBe(403);
    const body = await errorOf(response);
    expect(body).toMatchObject({ code: 17, StatusCode: 403 });
    expect(body.message).toBe(
      'Download failed with error: "the download link has expired; get the task status again for a fresh link"',
    );
    const again = await fetch(local(await freshUrl()));
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).equals(content)).toBe(true);
  });

  describe('refuses a tampered or malformed link with 403 code 17', () => {
    async function tamper(change: (url: URL) => void): Promise<string> {
      const url = new URL(local(await freshUrl()));
      change(url);
      return url.toString();
    }
    function swapLastCharacter(text: string): string {
      return text.slice(0, -1) + (text.endsWith('A') ? 'B' : 'A');
    }

    it.each<[string, (url: URL) => void]>([
      [
        'a changed signature',
        (url) => url.searchParams.set('signature', swapLastCharacter(url.searchParams.get('signature')!)),
      ],
      ['another task’s id', (url) => (url.pathname = url.pathname.replace(task.id, other.id))],
      [
        'a later expiry',
        (url) => url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600)),
      ],
      ['another file name', (url) => (url.pathname = url.pathname.replace('channels.jsonl', 'users.jsonl'))],
      [
        'another app id',
        (url) => (url.pathname = url.pathname.replace(`/downloads/${app.id}/`, `/downloads/${app.id + 1}/`)),
      ],
      [
        'an app id that is no number',
        (url) => (url.pathname = url.pathname.replace(`/downloads/${app.id}/`, '/downloads/x1/')),
      ],
      ['no signature', (url) => url.searchParams.delete('signature')],
      ['no expiry', (url) => url.searchParams.delete('expires')],
      ['a non-numeric expiry', (url) => url.searchParams.set('expires', 'never')],
      ['two signatures', (url) => url.searchParams.append('signature', url.searchParams.get('signature')!)],
    ])('%s', async (_what, change) => {
      const response = await fetch(await tamper(change));
      expect(response.status).toBe(403);
      expect(await errorOf(response)).toMatchObject({ code: 17, StatusCode: 403 });
    });
  });

  it('refuses every link issued before the app’s secret was rotated', async () => {
    const rotating = await appRow(t, (await t.createTestApp('rotating')).apiKey);
    const own = await publishExport(t, rotating, { content: Buffer.from('{"rotating":true}') });
    const url = await freshUrl(own, rotating);
    expect((await fetch(local(url))).status).toBe(200);
    await updateAppSecret(t.server.context.db, rotating.id, 'a-brand-new-secret-for-this-app');
    const response = await fetch(local(url));
    expect(response.status).toBe(403);
    expect(await errorOf(response)).toMatchObject({ code: 17 });
    const renewed = await fetch(
      local(await freshUrl(own, { ...rotating, api_secret: 'a-brand-new-secret-for-this-app' })),
    );
    expect(await renewed.text()).toBe('{"rotating":true}');
  });

  it('answers a validly signed link to a file its task did not publish with 404 code 16', async () => {
    const sign = (taskId: string, filename: string) =>
      local(
        signDownloadUrl({
          publicUrl: t.server.context.config.publicUrl,
          appId: app.id,
          taskId,
          filename,
          expiresAtSeconds: Math.floor(clock.nowMicros() / 1e6) + 3600,
          secret: app.api_secret,
        }),
      );
    // A file in the task's folder that the task did not publish: the URL alone must not reach it.
    const unpublished = await t.server.context.storage.openWrite(`exports/${app.id}/${task.id}/other.json`);
    unpublished.stream.end('{"not":"published"}');
    await unpublished.commit();
    for (const url of [sign(crypto.randomUUID(), 'channels.jsonl'), sign(task.id, 'other.json')]) {
      const response = await fetch(url);
      expect(response.status).toBe(404);
      expect(await errorOf(response)).toMatchObject({ code: 16, StatusCode: 404 });
    }
  });

  it('keeps a link of one app from reaching another app’s task', async () => {
    const stranger = await appRow(t, (await t.createTestApp('stranger')).apiKey);
    // Signed with the stranger's own secret, naming this app's task under the stranger's id.
    const url = signDownloadUrl({
      publicUrl: t.baseURL,
      appId: stranger.id,
      taskId: task.id,
      filename: 'channels.jsonl',
      expiresAtSeconds: Math.floor(clock.nowMicros() / 1e6) + 3600,
      secret: stranger.api_secret,
    });
    const response = await fetch(url);
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toMatchObject({ code: 16 });
  });

  function local(url: string): string {
    return url.replace(t.server.context.config.publicUrl, t.baseURL);
  }
});
