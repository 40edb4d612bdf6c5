import type { ApiForm } from '../lib/shapes/shape.js';

/**
 * The two generations of Stream's server API chatport serves, from the same route modules registered
 * once for each. `stream-chat` calls paths at the root and reads custom data flattened (v1);
 * `@stream-io/node-sdk` calls them under `/api/v2/chat` (channels, messages, reactions, channel exports)
 * and `/api/v2` (users, user exports, tasks) and reads custom data under `custom` (v2). Only endpoints
 * chatport implements answer under the prefixes: nothing else is stripped or rewritten.
 */
export interface ApiGeneration {
  /** The form responses take (lib/shapes/shape.ts). */
  form: ApiForm;
  /** Prefix of the chat product's endpoints. */
  chatPrefix: string;
  /** Prefix of the endpoints every Stream product shares. */
  commonPrefix: string;
}

export const apiGenerations: readonly ApiGeneration[] = [
  { form: 'v1', chatPrefix: '', commonPrefix: '' },
  { form: 'v2', chatPrefix: '/api/v2/chat', commonPrefix: '/api/v2' },
];
