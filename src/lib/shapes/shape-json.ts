/**
 * JSON text of a shape's flat forms in JavaScript: what the export writers use for the few rows they
 * encode themselves (users, channels, members; a user export's messages), and the reference the
 * database-built encodings are held to byte for byte (test/exports/export-encoding.test.ts).
 */
import { formatMicros } from '../time.js';
import { encodingPlan, type ColumnValue, type PlanOptions, type PlanPart } from './shape-plan.js';
import type { FlatForm, Shape } from './shape.js';

/** What a row's encoding takes from outside the row. */
export interface JsonSupplies {
  /** A user's JSON by id, for `user` and `users` fields (v1). */
  user?: (id: string) => string;
  /** Supplied fields' JSON text, by name. */
  values?: Record<string, string>;
}

export type JsonEncoder<Row> = (row: Row, supplies?: JsonSupplies) => string;

type Piece = string | ((row: Record<string, unknown>, supplies: JsonSupplies) => string);

/** `{"a":1}` → `"a":1,` (empty for `{}`): custom fields spliced before the known ones. */
export function customPrefix(customJson: string): string {
  return customJson.length > 2 ? `${customJson.slice(1, -1)},` : '';
}

function userOf(supplies: JsonSupplies, name: string): (id: string) => string {
  if (!supplies.user) throw new Error(`${name} needs a user lookup to be encoded`);
  return supplies.user;
}

function columnPiece(value: ColumnValue): Piece {
  const { column, name } = value;
  let encode: (row: Record<string, unknown>, supplies: JsonSupplies) => string;
  switch (value.kind) {
    case 'string':
      if (value.mapped) {
        const { cases, otherwise } = value.mapped;
        const known = new Map(Object.entries(cases).map(([from, to]) => [from, JSON.stringify(to)]));
        const rest = JSON.stringify(otherwise);
        encode = (row) => known.get(row[column] as string) ?? rest;
      } else encode = (row) => JSON.stringify(row[column]);
      break;
    case 'flag':
      encode = (row) => (row[column] === 1 ? 'true' : 'false');
      break;
    case 'integer':
      encode = (row) => String(row[column]);
      break;
    case 'json':
      encode = (row) => row[column] as string;
      break;
    case 'time':
      encode = (row) => formatMicros(row[column] as number);
      break;
    case 'user':
      encode = (row, supplies) => userOf(supplies, name)(row[column] as string);
      break;
    case 'users':
      encode = (row, supplies) => {
        const ids = row[column] as string;
        if (ids.length <= 2) return '[]';
        return `[${(JSON.parse(ids) as string[]).map(userOf(supplies, name)).join(',')}]`;
      };
      break;
  }
  const replaced = value.replaced;
  if (!replaced) return encode;
  return (row, supplies) => (row[replaced.column] === null ? encode(row, supplies) : replaced.byJson);
}

function compile(parts: PlanPart[]): Piece[] {
  return parts.map((part): Piece => {
    switch (part.part) {
      case 'text':
        return part.text;
      case 'custom':
        return (row) => customPrefix(row[part.column] as string);
      case 'column':
        return columnPiece(part);
      case 'supplied':
        return (_row, supplies) => {
          const value = supplies.values?.[part.name];
          if (value === undefined) throw new Error(`${part.name} was not supplied`);
          return value;
        };
      case 'group': {
        const inner = compile(part.parts);
        return (row, supplies) => (row[part.when] === null ? '' : join(inner, row, supplies));
      }
    }
  });
}

function join(pieces: Piece[], row: Record<string, unknown>, supplies: JsonSupplies): string {
  let json = '';
  for (const piece of pieces) json += typeof piece === 'string' ? piece : piece(row, supplies);
  return json;
}

/** An encoder of a shape's flat form, compiled once: per row it only fills in the values. */
export function jsonEncoder<Row>(
  shape: Shape<Row>,
  form: FlatForm,
  options: PlanOptions = {},
): JsonEncoder<Row> {
  const pieces = compile(encodingPlan(shape as Shape<unknown>, form, options));
  return (row, supplies = {}) => join(pieces, row as Record<string, unknown>, supplies);
}
