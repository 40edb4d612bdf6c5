import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { JsonFields, JsonScalar } from '../database/dialects/json-fields.js';
import { inputError } from './errors.js';
import { isPlainObject, ownValue } from './json.js';
import { parseTimestamp } from './time.js';

/**
 * Stream's filter language (a subset of MongoDB's) compiled to Kysely expressions:
 * `{field: value}`, `{field: {$eq|$ne|$in|$nin|$gt|$gte|$lt|$lte: value}}`, `$and`, `$or`, `$nor`, and
 * `$autocomplete` on the text fields declared for it.
 * Each queryable field is declared with its column and value kind; anything else is an input error
 * naming the field, so a filter can never reach SQL unchecked. Field names and operators are looked up
 * among own properties only: `constructor` or `toString` is an unknown field, not Object's.
 */
export type FieldKind = 'string' | 'time' | 'integer' | 'boolean';

export interface FieldSpec {
  column: string;
  /** `integer`: a 32-bit INTEGER column, so values outside its range are refused before PostgreSQL sees them. */
  kind: FieldKind;
  /** Takes `$autocomplete` (a text field). Default false. */
  autocomplete?: boolean;
}

/** A field compiled by hand (e.g. channel `members`, which needs a sub-query). */
export type CustomField<DB, TB extends keyof DB> = (
  eb: ExpressionBuilder<DB, TB>,
  operator: string,
  value: unknown,
) => Expression<SqlBool>;

/**
 * How large one filter may be, wherever it arrives (a body or `?payload=`). Within these, the SQL it
 * compiles to stays far inside both databases' limits: bound values (SQLite 32,766, PostgreSQL 65,535)
 * and expression depth (SQLite 1,000).
 */
export const FILTER_LIMITS = {
  /** Levels of `$and` / `$or` / `$nor` inside one another: 10. */
  depth: 10,
  /** Conditions in all, each field/operator pair and each branch of `$and` / `$or` / `$nor`: 100. */
  conditions: 100,
  /** Values in all, each value of an `$in` / `$nin` list counted: 1,000. */
  values: 1000,
} as const;

const INTEGER_MIN = -2_147_483_648;
const INTEGER_MAX = 2_147_483_647;

const LOGICAL_OPERATORS = new Set(['$and', '$or', '$nor']);

const COMPARISONS: Record<string, '=' | '<>' | '>' | '>=' | '<' | '<='> = {
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
    case 'integer':
      if (
        typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= INTEGER_MIN &&
        value <= INTEGER_MAX
      )
        return value;
      throw inputError(
        `filter_conditions.${field}`,
        `expects an integer from ${INTEGER_MIN} to ${INTEGER_MAX}`,
      );
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

/** `{$gt: 1, $lt: 5}` holds operators; anything else (`"x"`, `{a: 1}`, a list) is a value for `$eq`. */
function operationsOf(condition: unknown): Array<[string, unknown]> {
  return isPlainObject(condition) && Object.keys(condition).some((k) => k.startsWith('$'))
    ? Object.entries(condition)
    : [['$eq', condition]];
}

/** Refuses a filter past FILTER_LIMITS before any of it is compiled; stops as soon as one is passed. */
function checkFilterSize(filter: unknown): void {
  let conditions = 0;
  let values = 0;
  const count = (addedConditions: number, addedValues: number) => {
    conditions += addedConditions;
    values += addedValues;
    if (conditions > FILTER_LIMITS.conditions)
      throw inputError('filter_conditions', `has more than ${FILTER_LIMITS.conditions} conditions`);
    if (values > FILTER_LIMITS.values)
      throw inputError('filter_conditions', `has more than ${FILTER_LIMITS.values} values`);
  };
  const visit = (node: unknown, depth: number): void => {
    if (!isPlainObject(node)) return; // compileFilter names the misshapen part
    for (const [key, condition] of Object.entries(node)) {
      if (LOGICAL_OPERATORS.has(key)) {
        if (!Array.isArray(condition)) continue;
        if (depth >= FILTER_LIMITS.depth) {
          throw inputError(
            'filter_conditions',
            `nests $and, $or and $nor more than ${FILTER_LIMITS.depth} levels deep`,
          );
        }
        count(condition.length, 0);
        for (const branch of condition) visit(branch, depth + 1);
        continue;
      }
      for (const [, value] of operationsOf(condition)) count(1, Array.isArray(value) ? value.length : 1);
    }
  };
  visit(filter, 0);
}

/** The fields no declaration names (an entity's custom data), compiled by hand; `key` is the field. */
export type OtherFields<DB, TB extends keyof DB> = (
  eb: ExpressionBuilder<DB, TB>,
  key: string,
  operator: string,
  value: unknown,
) => Expression<SqlBool>;

/**
 * Compiles a filter (undefined or null: everything) after checking it against FILTER_LIMITS. Fields
 * neither declared nor custom go to `otherFields` when given, else they are refused.
 */
export function compileFilter<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  filter: unknown,
  fields: Readonly<Record<string, FieldSpec>>,
  customFields: Readonly<Record<string, CustomField<DB, TB>>> = {},
  otherFields?: OtherFields<DB, TB>,
): Expression<SqlBool> {
  checkFilterSize(filter);
  return compileChecked(eb, filter, fields, customFields, otherFields);
}

function compileChecked<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  filter: unknown,
  fields: Readonly<Record<string, FieldSpec>>,
  customFields: Readonly<Record<string, CustomField<DB, TB>>>,
  otherFields: OtherFields<DB, TB> | undefined,
): Expression<SqlBool> {
  if (filter === undefined || filter === null) return eb.lit(true) as unknown as Expression<SqlBool>;
  if (!isPlainObject(filter)) throw inputError('filter_conditions', 'must be an object');
  const parts: Expression<SqlBool>[] = [];
  for (const [key, condition] of Object.entries(filter)) {
    if (LOGICAL_OPERATORS.has(key)) {
      if (!Array.isArray(condition) || condition.length === 0) {
        throw inputError(`filter_conditions.${key}`, 'must be a non-empty list of filters');
      }
      const inner = condition.map((c) => compileChecked(eb, c, fields, customFields, otherFields));
      parts.push(key === '$and' ? eb.and(inner) : key === '$or' ? eb.or(inner) : eb.not(eb.or(inner)));
      continue;
    }
    const custom = ownValue(customFields, key);
    const spec = ownValue(fields, key);
    for (const [operator, value] of operationsOf(condition)) {
      if (custom) {
        parts.push(custom(eb, operator, value));
        continue;
      }
      if (!spec && otherFields) {
        parts.push(otherFields(eb, key, operator, value));
        continue;
      }
      if (!spec) throw inputError(`filter_conditions.${key}`, 'is not a field you can filter on');
      parts.push(compileCondition(eb, key, spec, operator, value));
    }
  }
  return parts.length === 0 ? (eb.lit(true) as unknown as Expression<SqlBool>) : eb.and(parts);
}

function compileCondition<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  key: string,
  spec: FieldSpec,
  operator: string,
  value: unknown,
): Expression<SqlBool> {
  const column = eb.ref(spec.column as never);
  if (operator === '$in' || operator === '$nin') {
    if (!Array.isArray(value)) throw inputError(`filter_conditions.${key}.${operator}`, 'must be a list');
    if (value.length === 0) return eb.lit(operator === '$nin') as unknown as Expression<SqlBool>;
    const values = value.map((v) => coerce(key, spec.kind, v));
    return eb(column, operator === '$in' ? 'in' : 'not in', values as never);
  }
  if (operator === '$exists') return value ? eb(column, 'is not', null) : eb(column, 'is', null);
  if (operator === '$autocomplete' && spec.autocomplete)
    return matchText(eb, column, `filter_conditions.${key}.$autocomplete`, value, 'word-prefix');
  const comparison = ownValue(COMPARISONS, operator);
  if (!comparison) throw inputError(`filter_conditions.${key}`, `operator ${operator} is not supported`);
  return eb(column, comparison, coerce(key, spec.kind, value) as never);
}

export interface SortSpec {
  field: string;
  direction: 'asc' | 'desc';
}

/** Sort keys one query may name, as Stream's API allows: 5. */
export const MAX_SORT_FIELDS = 5;

/** `[{field, direction: 1|-1}]` (or Stream's older `{field: direction}`) → checked sort keys. */
export function parseSort(sort: unknown, allowed: ReadonlySet<string>): SortSpec[] {
  if (sort === undefined || sort === null) return [];
  if (!Array.isArray(sort) && !isPlainObject(sort))
    throw inputError('sort', 'must be a list of {field, direction}');
  if ((Array.isArray(sort) ? sort.length : Object.keys(sort).length) > MAX_SORT_FIELDS)
    throw inputError('sort', `can name at most ${MAX_SORT_FIELDS} fields`);
  const entries: Array<[string, unknown]> = Array.isArray(sort)
    ? sort.map((s: unknown) => {
        if (!isPlainObject(s) || typeof s.field !== 'string')
          throw inputError('sort', 'each entry needs a field');
        return [s.field, s.direction ?? 1];
      })
    : Object.entries(sort);
  return entries.map(([field, direction]) => {
    if (!allowed.has(field)) throw inputError(`sort.${field}`, 'is not a field you can sort on');
    if (direction !== 1 && direction !== -1) throw inputError(`sort.${field}`, 'direction must be 1 or -1');
    return { field, direction: direction === 1 ? 'asc' : 'desc' };
  });
}

/** `%`, `_` and the escape character itself, escaped for `LIKE ... ESCAPE '\'`. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * How a text operator matches, ignoring ASCII case, with `%` and `_` standing for themselves:
 * - `word-prefix`: the text, or one of its words (after a space), starts with the value. Stream's
 *   `$autocomplete`, on users, channels and members alike ("prefix match on strings");
 * - `contains`: the value appears anywhere in the text. Stream's `$q` on a member's name ("name
 *   containing tom", as Stream's query-members page documents it).
 */
export type TextMatch = 'word-prefix' | 'contains';

/** The text operators and how each matches. */
export const TEXT_OPERATORS: Readonly<Record<string, TextMatch>> = {
  $autocomplete: 'word-prefix',
  $q: 'contains',
};

/**
 * `expression` (a text column or expression) matched against `value` as `match` says; `where` names
 * the condition in errors (`filter_conditions.name.$autocomplete`).
 */
export function matchText<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  expression: Expression<unknown>,
  where: string,
  value: unknown,
  match: TextMatch,
): Expression<SqlBool> {
  if (typeof value !== 'string' || value.trim() === '') throw inputError(where, 'must be a non-empty string');
  const literal = likeLiteral(value.toLowerCase());
  const lowered = sql<string>`lower(${expression})`;
  if (match === 'contains') return sql<SqlBool>`${lowered} like ${`%${literal}%`} escape '\\'`;
  return eb.or([
    sql<SqlBool>`${lowered} like ${`${literal}%`} escape '\\'`,
    sql<SqlBool>`${lowered} like ${`% ${literal}%`} escape '\\'`,
  ]);
}

/** Names a custom field may have in a filter: what ids allow, and dots for nothing deeper. */
const CUSTOM_FIELD_NAME = /^[A-Za-z0-9_\-@!]{1,255}$/;

/**
 * Filters on custom data kept as JSON text in `column` (a member's `code_name`): `$eq`, `$ne`, `$in`,
 * `$nin` with strings, numbers and booleans; `$gt`, `$gte`, `$lt`, `$lte` with a string or a number;
 * `$exists`. A value matches only a stored value of its own JSON type.
 */
export function customDataFilter<DB, TB extends keyof DB>(
  json: JsonFields,
  column: string,
): OtherFields<DB, TB> {
  return (eb, key, operator, value) => {
    const where = `filter_conditions.${key}`;
    if (!CUSTOM_FIELD_NAME.test(key)) throw inputError(where, 'is not a field you can filter on');
    const ref = eb.ref(column as never);
    const scalar = (v: unknown): JsonScalar => {
      if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
        return v;
      throw inputError(where, 'expects a string, a number or a boolean');
    };
    if (operator === '$exists') {
      if (typeof value !== 'boolean') throw inputError(where, '$exists expects a boolean');
      const exists = json.exists(ref, key);
      return value ? exists : eb.not(exists);
    }
    if (operator === '$in' || operator === '$nin') {
      if (!Array.isArray(value)) throw inputError(`${where}.${operator}`, 'must be a list');
      if (value.length === 0) return eb.lit(operator === '$nin') as unknown as Expression<SqlBool>;
      const any = eb.or(value.map((v) => json.equals(ref, key, scalar(v))));
      return operator === '$in' ? any : eb.not(any);
    }
    if (operator === '$eq') return json.equals(ref, key, scalar(value));
    if (operator === '$ne') return eb.not(json.equals(ref, key, scalar(value)));
    const comparison = ownValue(COMPARISONS, operator);
    if (!comparison) throw inputError(where, `operator ${operator} is not supported`);
    if (typeof value !== 'string' && (typeof value !== 'number' || !Number.isFinite(value)))
      throw inputError(where, `${operator} expects a string or a number`);
    return json.compare(ref, key, comparison, value);
  };
}

/**
 * A text field of custom data kept as JSON text in `column` (a user's or a channel's `name`): the text
 * operators (`$autocomplete`, `$q`) match its text, the others are those of customDataFilter.
 */
export function customTextField<DB, TB extends keyof DB>(
  json: JsonFields,
  column: string,
  key: string,
): CustomField<DB, TB> {
  const others = customDataFilter<DB, TB>(json, column);
  return (eb, operator, value) => {
    const match = ownValue(TEXT_OPERATORS, operator);
    if (!match) return others(eb, key, operator, value);
    const text = json.text(eb.ref(column as never), key);
    return matchText(eb, text, `filter_conditions.${key}.${operator}`, value, match);
  };
}
