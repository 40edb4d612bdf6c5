import { ApiError } from './errors.js';

/**
 * Who is calling. A server token (`{"server":true}`) may do everything within its app. A user token
 * (`{"user_id":"u1"}`) may only act as that user on their own messages and reactions: routes declare
 * `access: 'user'` to admit it, and their use cases check ownership. Everything else is server-side only
 * and answers a user token with 403 code 17. The HTTP layer (http/auth.ts) tells which from the token.
 */
export type Caller = { kind: 'server' } | { kind: 'user'; userId: string };

/**
 * The user a request acts as: a user token always acts as itself (naming anyone else is 403 code 17);
 * a server token must name the user in `field`.
 */
export function actingUserId(caller: Caller, named: string | undefined, field: string): string {
  if (caller.kind === 'user') {
    if (named !== undefined && named !== caller.userId) {
      throw new ApiError('notAllowed', `a user token can only act as ${caller.userId}`);
    }
    return caller.userId;
  }
  if (named === undefined)
    throw new ApiError('inputError', `${field} is required with a server token`, {
      [field]: 'is required with a server token',
    });
  return named;
}
