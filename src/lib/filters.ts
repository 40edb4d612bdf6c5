import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { inputError } from './errors.js';
import { isPlainObject } from './json.js';
import { parseTimestamp } from './time.js';

/**
 * Stream's filter language (a subset of MongoDB's) compiled to Kysely expressions:
 * `{field: value}`, `{field: {$eq|$ne|$in|$nin|$gt|$gte|$lt|$lte: value}}`, `$and`, `$or`, `$nor`.
 * Each queryable field is declared with its column and value kind; anything else is an input error
 * naming the field, so a filter can never reach SQL unchecked.
 */
export type FieldKind = 'string' | 'time' | 'number' | 'boolean';

export interface FieldSpec {
  column: string;
  kind: FieldKind;
}

/** A field compiled by hand (e.g. channel `members`, which needs a sub-query). */
export type CustomField<DB, TB extends keyof DB> = (
  eb: ExpressionBuilder<DB, TB>,
  operator: string,
  value: unknown,
) => Expression<SqlBool>;

const COMPARISONS: Record<string, string> = {
  $eq: '=',
  $ne: '<>',
  $gt: '>',
  $gte: '>=',
  $lt: '<',
  $lte: '<=',
};

function coerce(field: string, kind: FieldKind, value: unknown): string | number {
  switch (kind) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value ? 1 : 0;
      break;
    case 'time':
      if (typeof value === 'string') {
        const micros = parseTimestamp(value);
        if (micros !== null) return micros;
      }
      break;
  }
  throw inputError(
    `filter_conditions.${field}`,
    `expects a ${kind === 'time' ? 'RFC 3339 timestamp' : kind}`,
  );
}

export function compileFilter<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  filter: unknown,
  fields: Record<string, FieldSpec>,
  customFields: Record<string, CustomField<DB, TB>> = {},
): Expression<SqlBool> {
  if (filter === undefined || filter === null) return eb.lit(true) as unknown as Expression<SqlBool>;
  if (!isPlainObject(filter)) throw inputError('filter_conditions', 'must be an object');
  const parts: Expression<SqlBool>[] = [];
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(condition) || condition.length === 0) {
        throw inputError(`filter_conditions.${key}`, 'must be a non-empty list of filters');
      }
      const inner = condition.map((c) => compileFilter(eb, c, fields, customFields));
      parts.push(key === '$and' ? eb.and(inner) : key === '$or' ? eb.or(inner) : eb.not(eb.or(inner)));
      continue;
    }
    const custom = customFields[key];
    const spec = fields[key];
    if (!custom && !spec) throw inputError(`filter_conditions.${key}`, 'is not a field you can filter on');
    const operations: Array<[string, unknown]> =
      isPlainObject(condition) && Object.keys(condition).some((k) => k.startsWith('$'))
        ? Object.entries(condition)
        : [['$eq', condition]];
    for (const [operator, value] of operations) {
      if (custom) {
        parts.push(custom(eb, operator, value));
        continue;
      }
      const column = eb.ref(spec!.column as never);
      if (operator === '$in' || operator === '$nin') {
        if (!Array.isArray(value)) throw inputError(`filter_conditions.${key}.${operator}`, 'must be a list');
        if (value.length === 0) {
          parts.push(eb.lit(operator === '$nin') as unknown as Expression<SqlBool>);
          continue;
        }
        const values = value.map((v) => coerce(key, spec!.kind, v));
        parts.push(eb(column, operator === '$in' ? 'in' : 'not in', values as never));
      } else if (operator === '$exists') {
        parts.push(value ? eb(column, 'is not', null) : eb(column, 'is', null));
      } else if (COMPARISONS[operator]) {
        parts.push(eb(column, COMPARISONS[operator] as '=', coerce(key, spec!.kind, value) as never));
      } else {
        throw inputError(`filter_conditions.${key}`, `operator ${operator} is not supported`);
      }
    }
  }
  return parts.length === 0 ? (eb.lit(true) as unknown as Expression<SqlBool>) : eb.and(parts);
}

export interface SortSpec {
  field: string;
  direction: 'asc' | 'desc';
}

/** `[{field, direction: 1|-1}]` (or Stream's older `{field: direction}`) → checked sort keys. */
export function parseSort(sort: unknown, allowed: ReadonlySet<string>): SortSpec[] {
  if (sort === undefined || sort === null) return [];
  const entries: Array<[string, unknown]> = Array.isArray(sort)
    ? sort.map((s: unknown) => {
        if (!isPlainObject(s) || typeof s.field !== 'string')
          throw inputError('sort', 'each entry needs a field');
        return [s.field, s.direction ?? 1];
      })
    : isPlainObject(sort)
      ? Object.entries(sort)
      : (() => {
          throw inputError('sort', 'must be a list of {field, direction}');
        })();
  return entries.map(([field, direction]) => {
    if (!allowed.has(field)) throw inputError(`sort.${field}`, 'is not a field you can sort on');
    if (direction !== 1 && direction !== -1) throw inputError(`sort.${field}`, 'direction must be 1 or -1');
    return { field, direction: direction === 1 ? 'asc' : 'desc' };
  });
}
