import type { Context } from '../../context.js';
import { EXPORT_CHANNELS_KIND } from '../exports/channel-export.task.js';
import { exportResultPresenter } from '../exports/export.presenter.js';
import { EXPORT_USERS_KIND } from '../user-exports/user-export.task.js';
import type { TaskPresenters } from './tasks.types.js';

/**
 * How the status routes render a completed task's `result`, by kind. Kinds without an entry serve the
 * stored result JSON. Exports add theirs here, to re-sign the download link on every request.
 */
export function buildTaskPresenters(_context: Context): TaskPresenters {
  return {
    [EXPORT_CHANNELS_KIND]: exportResultPresenter,
    [EXPORT_USERS_KIND]: exportResultPresenter,
  };
}
