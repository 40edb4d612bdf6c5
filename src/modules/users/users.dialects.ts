/**
 * The SQL a user query needs that differs between the databases: reading a text field of the custom
 * data (a user's `name` lives there, as Stream has it).
 */
import { sql, type RawBuilder } from 'kysely';
import type { DialectName } from '../../database/database.js';

/** The custom data's `key` as text; NULL when absent or not a string. `key` is chatport's own, never a client's. */
export function customText(dialect: DialectName, key: string): RawBuilder<string | null> {
  if (dialect === 'postgres') {
    return sql<
      string | null
    >`(case when jsonb_typeof(custom::jsonb -> ${key}) = 'string' then custom::jsonb ->> ${key} end)`;
  }
  const path = `$.${key}`;
  return sql<
    string | null
  >`(case when json_type(custom, ${path}) = 'text' then json_extract(custom, ${path}) end)`;
}
