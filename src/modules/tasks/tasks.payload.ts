import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { UnrecoverableError } from '../../lib/errors.js';

/**
 * A TaskKind's parsePayload for a payload declared as a schema: one compiled check against the same
 * declaration its TypeScript type comes from (a route builds the payload from that type, so a stored
 * payload fails only when written by another version or by hand). A payload that fails cannot succeed
 * on any attempt: UnrecoverableError type `invalid_payload`, naming the first field at fault.
 */
export function payloadParser<const Schema extends TSchema>(
  kind: string,
  schema: Schema,
): (payload: unknown) => Static<Schema> {
  const validator = Compile(schema);
  return (payload) => {
    if (validator.Check(payload)) return payload as Static<Schema>;
    const [first] = validator.Errors(payload);
    const where = first ? ` at ${first.instancePath || '/'}: ${first.message}` : '';
    throw new UnrecoverableError(`the ${kind} task’s payload is not valid${where}`, 'invalid_payload');
  };
}
