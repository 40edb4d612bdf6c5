/**
 * A shape's API forms as objects: `v1` with the custom fields flattened beside the known ones (as
 * `stream-chat` reads them), `v2` with them under `custom` and the promoted fields at the top level
 * (as `@stream-io/node-sdk`'s types promise).
 */
import { parseObject, type JsonObject } from '../json.js';
import { formatMicros } from '../time.js';
import {
  fieldsOf,
  fitsPromoted,
  isColumnField,
  isSuppliedField,
  type ApiForm,
  type ResolvedField,
  type Shape,
} from './shape.js';

/** What a row's presentation takes from outside the row. */
export interface ObjectSupplies {
  /** A user as this form shows them, by id, for `user` and `users` fields. */
  user?: (id: string) => JsonObject;
  /** Supplied fields' values, by name; an optional one left undefined is left out. */
  values?: Record<string, unknown>;
}

export type ObjectPresenter<Row> = (row: Row, supplies?: ObjectSupplies) => JsonObject;

type Setter = (row: Record<string, unknown>, supplies: ObjectSupplies, out: JsonObject) => void;

function userOf(supplies: ObjectSupplies, name: string): (id: string) => JsonObject {
  if (!supplies.user) throw new Error(`${name} needs a user lookup to be presented`);
  return supplies.user;
}

/** A constant's value, a fresh copy each time for arrays and objects (callers may change what they get). */
function constantOf(value: unknown): () => unknown {
  if (value === null || typeof value !== 'object') return () => value;
  const json = JSON.stringify(value);
  return () => JSON.parse(json) as unknown;
}

function valueOf(field: ResolvedField): (row: Record<string, unknown>, supplies: ObjectSupplies) => unknown {
  if (isSuppliedField(field)) return (_row, supplies) => supplies.values?.[field.name];
  if (!isColumnField(field)) return constantOf(field.value);
  const { column, name, replacedWhen, mapped } = field;
  switch (field.kind) {
    case 'string':
      if (mapped) return (row) => mapped.cases[row[column] as string] ?? mapped.otherwise;
      // The API shows what is stored; `option` replacements belong to exports.
      if (replacedWhen && replacedWhen.option === undefined)
        return (row) => (row[replacedWhen.column] === null ? row[column] : replacedWhen.by);
      return (row) => row[column];
    case 'flag':
      return (row) => row[column] === 1;
    case 'integer':
      return (row) => row[column];
    case 'json':
      return (row) => JSON.parse(row[column] as string) as unknown;
    case 'time':
      return (row) => formatMicros(row[column] as number);
    case 'user':
      return (row, supplies) => userOf(supplies, name)(row[column] as string);
    case 'users':
      return (row, supplies) => (JSON.parse(row[column] as string) as string[]).map(userOf(supplies, name));
  }
}

function setterOf(field: ResolvedField): Setter {
  const value = valueOf(field);
  const when = isColumnField(field) ? field.presentWhen : undefined;
  if (isSuppliedField(field)) {
    return (row, supplies, out) => {
      const supplied = value(row, supplies);
      if (supplied !== undefined) out[field.name] = supplied;
      else if (!field.optional) throw new Error(`${field.name} must be supplied`);
    };
  }
  if (when === undefined) return (row, supplies, out) => void (out[field.name] = value(row, supplies));
  return (row, supplies, out) => {
    if (row[when] !== null) out[field.name] = value(row, supplies);
  };
}

/** The presenter of a shape's API form, compiled once. */
export function objectPresenter<Row>(shape: Shape<Row>, form: ApiForm): ObjectPresenter<Row> {
  const setters = fieldsOf(shape as Shape<unknown>, form).map(setterOf);
  const customColumn = shape.custom;
  const promoted = shape.promoted.map((field) => ({ field, fallback: constantOf(field.default) }));
  if (form === 'v1') {
    return (row, supplies = {}) => {
      const record = row as Record<string, unknown>;
      const out: JsonObject = customColumn === undefined ? {} : parseObject(record[customColumn] as string);
      for (const set of setters) set(record, supplies, out);
      return out;
    };
  }
  return (row, supplies = {}) => {
    const record = row as Record<string, unknown>;
    const out: JsonObject = {};
    for (const set of setters) set(record, supplies, out);
    const custom = customColumn === undefined ? undefined : parseObject(record[customColumn] as string);
    for (const { field, fallback } of promoted) {
      const kept = custom?.[field.name];
      if (kept !== undefined && fitsPromoted(field, kept)) {
        out[field.name] = kept;
        delete custom![field.name];
      } else if (field.default !== undefined) out[field.name] = fallback();
    }
    if (custom !== undefined) out.custom = custom;
    return out;
  };
}

/** The presenters of both API forms, by form. */
export function objectPresenters<Row>(shape: Shape<Row>): Record<ApiForm, ObjectPresenter<Row>> {
  return { v1: objectPresenter(shape, 'v1'), v2: objectPresenter(shape, 'v2') };
}
