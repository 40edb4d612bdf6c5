/**
 * Glossary of Stream shapes. A shape is the one declaration of a thing the API shows (a user, a
 * channel, a member, a message, a reaction, a task status): its fields in order, where each value comes
 * from, which forms carry it, and where its custom data lives. Every form is derived from it:
 * - `v1`: Stream's first API generation (`stream-chat`), custom fields flattened beside the known
 *   ones; also the records of a v1 export file.
 * - `v2`: the second generation (`@stream-io/node-sdk`, paths under `/api/v2`), custom data under
 *   `custom` and every field Stream's spec marks required present (`promoted` fields).
 * - `line`: the data of a v2 export line, Stream's import format: custom flattened, users by id.
 * API objects come from shape-object.ts; export JSON text from the encoding plan built here, by
 * shape-json.ts (JavaScript) and exports/shape-sql.ts (SQL), so both write the same bytes.
 */

export type ShapeForm = 'v1' | 'v2' | 'line';
/** The forms the HTTP API answers in: one per API generation. */
export type ApiForm = 'v1' | 'v2';
/** The forms written as JSON text, custom data flattened: v1 export records and v2 export lines. */
export type FlatForm = 'v1' | 'line';

export const API_FORMS: readonly ShapeForm[] = ['v1', 'v2'];

/** How a stored column is written. */
export type ValueKind =
  /** text, as a JSON string */
  | 'string'
  /** INTEGER 0 or 1, as false or true */
  | 'flag'
  /** a number */
  | 'integer'
  /** text holding JSON, spliced as it is */
  | 'json'
  /** BIGINT microseconds, as `2021-02-17T08:17:49.745857Z` */
  | 'time'
  /** a user id: the user embedded (v1, v2), the id (line) */
  | 'user'
  /** a JSON array of user ids: the users embedded (v1, v2), the ids (line) */
  | 'users';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface FieldCommon {
  /** The name on the wire. */
  name: string;
  /** The forms that carry it. Default: all three. */
  forms?: readonly ShapeForm[];
}

/** A field read from a column of the row. */
export interface ColumnField<Row> extends FieldCommon {
  kind: ValueKind;
  /** Default: the field's name. */
  column?: keyof Row & string;
  /** Left out while its own column is NULL. Default false. */
  optional?: boolean;
  /** Left out while this other column is NULL (a reply's `show_in_channel` follows `parent_id`). */
  presentWhen?: keyof Row & string;
  /**
   * Written as the string `by` instead while `column` is not NULL (a deleted message's type); with
   * `option`, only when that encoding option is on (an export's `clear_deleted_message_text`).
   */
  replacedWhen?: { column: keyof Row & string; by: string; option?: string };
  /** Stored strings written as others (`channel_moderator` → `moderator`), `otherwise` for the rest. */
  mapped?: { cases: Record<string, string>; otherwise: string };
}

/** A field whose value never changes. */
export interface ConstantField extends FieldCommon {
  value: JsonValue;
}

/**
 * A field whose value the caller supplies: related rows (a message's reactions), values from another
 * table (a line's `channel_type`). An optional one is left out where it is not supplied.
 */
export interface SuppliedField extends FieldCommon {
  supplied: true;
  optional?: boolean;
}

export type FieldSpec<Row> = ColumnField<Row> | ConstantField | SuppliedField;

/**
 * A field kept in the custom data that the v2 form lifts to the top level, because Stream's spec names
 * it there (a user's `name`); `default` is shown while the custom data has no such value.
 */
export interface PromotedField {
  name: string;
  type: 'string' | 'boolean' | 'number' | 'strings' | 'array' | 'object';
  default?: JsonValue;
}

export interface ShapeSpec<Row> {
  /** What it is, for error messages: `user`, `message`. */
  name: string;
  /** The column holding the custom data, a JSON object; none when the shape has no custom data. */
  custom?: keyof Row & string;
  fields: FieldSpec<Row>[];
  promoted?: PromotedField[];
  /** Input names that are not custom data though no form shows them (`user_id` beside `user`). */
  inputOnly?: string[];
}

/** A column field with its defaults filled in. */
export interface ResolvedColumnField extends ColumnField<Record<string, unknown>> {
  column: string;
  forms: readonly ShapeForm[];
}

export type ResolvedField =
  | ResolvedColumnField
  | (ConstantField & { forms: readonly ShapeForm[] })
  | (SuppliedField & { forms: readonly ShapeForm[] });

export interface Shape<Row> {
  readonly name: string;
  readonly custom: string | undefined;
  readonly fields: readonly ResolvedField[];
  readonly promoted: readonly PromotedField[];
  /** Names that are not custom data: every field of every form, `custom`, and the input-only names. */
  readonly known: ReadonlySet<string>;
  /** Only for typing: the row a shape reads. */
  readonly row?: Row;
}

const ALL_FORMS: readonly ShapeForm[] = ['v1', 'v2', 'line'];

/** Whether a field is read from a column (else it is a constant or supplied). */
export function isColumnField(field: ResolvedField): field is ResolvedColumnField {
  return 'kind' in field;
}

/** Whether the caller supplies a field's value. */
export function isSuppliedField(
  field: ResolvedField,
): field is SuppliedField & { forms: readonly ShapeForm[] } {
  return 'supplied' in field;
}

/** Declares a shape; checked once here, so a mistake fails at start, not on the first request. */
export function defineShape<Row>(spec: ShapeSpec<Row>): Shape<Row> {
  const fields = spec.fields.map((field): ResolvedField => {
    const forms = field.forms ?? ALL_FORMS;
    if (!('kind' in field)) return { ...field, forms };
    const column = field.column ?? field.name;
    const resolved: ResolvedColumnField = {
      ...(field as ColumnField<Record<string, unknown>>),
      column,
      forms,
      ...(field.optional ? { presentWhen: column } : {}),
    };
    if ((field.replacedWhen || field.mapped) && field.kind !== 'string')
      throw new Error(`${spec.name}.${field.name}: only strings are replaced or mapped`);
    return resolved;
  });
  for (const form of ALL_FORMS) {
    const first = fields.find((f) => f.forms.includes(form));
    if (first && isColumnField(first) && first.presentWhen !== undefined)
      throw new Error(`${spec.name}: the first field of the ${form} form must always be present`);
  }
  const known = new Set([...fields.map((f) => f.name), 'custom', ...(spec.inputOnly ?? [])]);
  return {
    name: spec.name,
    custom: spec.custom,
    fields,
    promoted: spec.promoted ?? [],
    known,
  };
}

/**
 * A shape with more fields after the base's and more promoted ones: Stream's FullUserResponse is a
 * UserResponse with the user's own state.
 */
export function extendShape<Row>(
  base: Shape<Row>,
  more: { name: string; fields?: FieldSpec<Row>[]; promoted?: PromotedField[] },
): Shape<Row> {
  const added = defineShape<Row>({ name: more.name, fields: more.fields ?? [] }).fields;
  return {
    ...base,
    name: more.name,
    fields: [...base.fields, ...added],
    promoted: [...base.promoted, ...(more.promoted ?? [])],
    known: new Set([...base.known, ...added.map((field) => field.name)]),
  };
}

/** The fields a form carries, in order. */
export function fieldsOf(shape: Shape<unknown>, form: ShapeForm): ResolvedField[] {
  return shape.fields.filter((field) => field.forms.includes(form));
}

/** Whether a custom value has the type a promoted field promises. */
export function fitsPromoted(field: PromotedField, value: unknown): boolean {
  switch (field.type) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number';
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
  }
}
