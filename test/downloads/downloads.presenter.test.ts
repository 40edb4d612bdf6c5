import { describe, expect, it } from 'vitest';
import { verifyDownloadSignature } from '../../src/modules/downloads/download-links.js';
import { presentDownload } from '../../src/modules/downloads/downloads.presenter.js';
import { createManualClock, MICROS_PER_DAY, MICROS_PER_HOUR, parseTimestamp } from '../../src/lib/time.js';

const start = parseTimestamp('2024-03-01T12:00:00.250000Z')!;
const app = { id: 4, api_secret: 'secret-of-app-4' };
const config = { publicUrl: 'https://chat.example.com', linkTtlHours: 24, retentionDays: 60 };
const task = {
  id: 'task-1',
  app_id: 4,
  file_key: 'exports/4/task-1/channels.json',
  file_expires_at: start + 60 * MICROS_PER_DAY,
  file_deleted_at: null,
};

function parse(url: string) {
  const parsed = new URL(url);
  return {
    path: parsed.pathname,
    expires: parsed.searchParams.get('expires') ?? undefined,
    signature: parsed.searchParams.get('signature') ?? undefined,
  };
}

describe('presenting a completed export’s file', async () => {
  it('signs a link to the task’s file that is valid for 24 hours', async () => {
    const clock = createManualClock(start);
    const presented = await presentDownload({ storage: {}, task, app, config, clock });
    if (!('url' in presented)) throw new Error('expected a link');
    expect(presented.expires_at).toBe('2024-03-02T12:00:00.000000Z');
    const link = parse(presented.url);
    expect(link.path).toBe('/downloads/4/task-1/channels.json');
    const check = (nowSeconds: number) =>
      verifyDownloadSignature({
        appId: 4,
        taskId: 'task-1',
        filename: 'channels.json',
        expires: link.expires,
        signature: link.signature,
        secret: app.api_secret,
        nowSeconds,
      });
    expect(check(Math.floor(start / 1e6))).toEqual({ valid: true });
    expect(check(Math.floor((start + 24 * MICROS_PER_HOUR) / 1e6) + 1)).toEqual({
      valid: false,
      reason: 'expired',
    });
  });

  it('signs a fresh link on every call', async () => {
    const clock = createManualClock(start);
    const first = await presentDownload({ storage: {}, task, app, config, clock });
    clock.advanceMillis(10 * 60_000);
    const second = await presentDownload({ storage: {}, task, app, config, clock });
    expect(second).toMatchObject({ expires_at: '2024-03-02T12:10:00.000000Z' });
    expect(second).not.toEqual(first);
  });

  it('never issues a link that outlives the file', async () => {
    const clock = createManualClock(task.file_expires_at - 2 * MICROS_PER_HOUR);
    expect(await presentDownload({ storage: {}, task, app, config, clock })).toMatchObject({
      expires_at: '2024-04-30T12:00:00.000000Z',
    });
  });

  it('reports expiry, with no link, once retention is over, swept or not', async () => {
    const clock = createManualClock(task.file_expires_at);
    const unswept = await presentDownload({ storage: {}, task, app, config, clock });
    expect(unswept).toEqual({
      expired: true,
      note: 'export files are kept for 60 days; this one expired at 2024-04-30T12:00:00.250000Z and is no longer available',
    });
    const swept = await presentDownload({
      storage: {},
      task: { ...task, file_deleted_at: task.file_expires_at + 1 },
      app,
      config,
      clock,
    });
    expect(swept).toEqual(unswept);
  });

  it('refuses a task without a file or of another app', async () => {
    const clock = createManualClock(start);
    await expect(
      presentDownload({ storage: {}, task: { ...task, file_key: null }, app, config, clock }),
    ).rejects.toThrow('published no file');
    await expect(
      presentDownload({ storage: {}, task: { ...task, app_id: 5 }, app, config, clock }),
    ).rejects.toThrow('belongs to app 5');
  });
});
