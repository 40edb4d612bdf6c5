import { parseObject } from '../../lib/json.js';
import { formatMicros } from '../../lib/time.js';
import { presentDownload } from '../downloads/downloads.presenter.js';
import type { TaskPresenter } from '../tasks/tasks.types.js';

/**
 * A completed export's `result`: its counts and size, and a download link signed afresh on every
 * request (valid 24 hours; presigned by the store with S3); after retention, no link but
 * `expired: true` and a note saying so.
 */
export const exportResultPresenter: TaskPresenter = async (task, { context, app }) => {
  const stored = parseObject(task.result);
  const result: Record<string, unknown> = { ...stored };
  for (const key of ['started_at', 'finished_at']) {
    if (typeof stored[key] === 'number') result[key] = formatMicros(stored[key]);
  }
  if (task.file_key === null) return result;
  const { config, clock, storage } = context;
  const download = await presentDownload({ task, app, config, clock, storage });
  if ('url' in download) {
    result.url = download.url;
    result.url_expires_at = download.expires_at;
  } else {
    result.expired = true;
    result.note = download.note;
  }
  return result;
};
