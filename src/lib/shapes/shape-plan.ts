/**
 * The encoding plan of a flat form (v1 records, v2 export lines): the JSON text of a row as constant
 * pieces and values, the constants already joined, so an encoder (JavaScript or SQL) only fills in the
 * values. Built once per encoder, never per row.
 */
import {
  fieldsOf,
  isColumnField,
  isSuppliedField,
  type FlatForm,
  type ResolvedColumnField,
  type Shape,
  type ValueKind,
} from './shape.js';

/** A column's value; a `user` field of a line is its id (`string`), a `users` field its ids (`json`). */
export interface ColumnValue {
  part: 'column';
  name: string;
  column: string;
  kind: ValueKind;
  /** Written as `byJson` (JSON text) while this column is not NULL. */
  replaced?: { column: string; byJson: string };
  mapped?: { cases: Record<string, string>; otherwise: string };
}

export type PlanPart =
  | { part: 'text'; text: string }
  /** The custom data's fields, `"a":1,` (nothing for `{}`): spliced before the known fields. */
  | { part: 'custom'; column: string }
  | ColumnValue
  /** A value the caller supplies as JSON text. */
  | { part: 'supplied'; name: string }
  /** Parts written only while `when` is not NULL. */
  | { part: 'group'; when: string; parts: PlanPart[] };

export interface PlanOptions {
  /** Supplied fields the encoder is given per row; optional ones not named here are left out. */
  supplied?: Iterable<string>;
  /** Supplied fields with one value for every row (a line's `channel_type`), written as constants. */
  fixed?: Record<string, unknown>;
  /** Encoding options named by `replacedWhen.option`; off unless set. */
  options?: Record<string, boolean>;
  /** Constant text before and after the object (a line's `{"type":"message","data":` and `}}\n`). */
  prefix?: string;
  suffix?: string;
}

function pushPart(parts: PlanPart[], part: PlanPart): void {
  const last = parts[parts.length - 1];
  if (part.part === 'text' && last?.part === 'text') last.text += part.text;
  else parts.push(part);
}

function columnValue(field: ResolvedColumnField, form: FlatForm, options: PlanOptions): ColumnValue {
  let kind = field.kind;
  if (form === 'line' && kind === 'user') kind = 'string';
  if (form === 'line' && kind === 'users') kind = 'json';
  const value: ColumnValue = { part: 'column', name: field.name, column: field.column, kind };
  const replaced = field.replacedWhen;
  if (replaced && (replaced.option === undefined || options.options?.[replaced.option] === true))
    value.replaced = { column: replaced.column, byJson: JSON.stringify(replaced.by) };
  if (field.mapped) value.mapped = field.mapped;
  return value;
}

/** The plan of a shape's flat form. */
export function encodingPlan(shape: Shape<unknown>, form: FlatForm, options: PlanOptions = {}): PlanPart[] {
  const supplied = new Set(options.supplied ?? []);
  const fixed = options.fixed ?? {};
  const parts: PlanPart[] = [{ part: 'text', text: `${options.prefix ?? ''}{` }];
  if (shape.custom !== undefined) parts.push({ part: 'custom', column: shape.custom });
  let first = true;
  for (const field of fieldsOf(shape, form)) {
    const own: PlanPart[] = [];
    const key = `${first ? '' : ','}${JSON.stringify(field.name)}:`;
    if (isSuppliedField(field)) {
      if (Object.hasOwn(fixed, field.name)) {
        own.push({ part: 'text', text: key + JSON.stringify(fixed[field.name]) });
      } else if (supplied.has(field.name)) {
        own.push({ part: 'text', text: key }, { part: 'supplied', name: field.name });
      } else if (field.optional) {
        continue;
      } else {
        throw new Error(`${shape.name}.${field.name} must be supplied to encode the ${form} form`);
      }
    } else if (!isColumnField(field)) {
      own.push({ part: 'text', text: key + JSON.stringify(field.value) });
    } else if (field.kind === 'time') {
      own.push({ part: 'text', text: `${key}"` }, columnValue(field, form, options), {
        part: 'text',
        text: '"',
      });
    } else {
      own.push({ part: 'text', text: key }, columnValue(field, form, options));
    }
    first = false;
    const when = isColumnField(field) ? field.presentWhen : undefined;
    if (when === undefined) {
      for (const part of own) pushPart(parts, part);
      continue;
    }
    // Consecutive fields present on the same condition share one test.
    const last = parts[parts.length - 1];
    const group =
      last?.part === 'group' && last.when === when ? last : { part: 'group' as const, when, parts: [] };
    if (group !== last) parts.push(group);
    for (const part of own) pushPart(group.parts, part);
  }
  pushPart(parts, { part: 'text', text: `}${options.suffix ?? ''}` });
  return parts;
}
