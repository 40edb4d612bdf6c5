import fc from 'fast-check';

/**
 * JSON as the fuzz suite builds it. Objects are lists of entries, so a key can be `__proto__` or
 * appear twice (a JavaScript object literal could hold neither); RawJson is text written as it is,
 * for what JSON.stringify cannot produce (9223372036854775808, 1e400, -0, 100,000 levels of nesting).
 */
export class JsonObject {
  constructor(readonly entries: Array<[string, JsonModel]>) {}
}

export class RawJson {
  constructor(readonly text: string) {}
}

export type JsonModel = null | boolean | number | string | JsonModel[] | JsonObject | RawJson;

export function toJsonText(value: JsonModel): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof JsonObject) {
    return `{${value.entries.map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  return JSON.stringify(value);
}

export const object = (entries: Record<string, JsonModel>): JsonObject =>
  new JsonObject(Object.entries(entries));

/** A JSON schema as @fastify/swagger writes it from the routes' TypeBox schemas (the parts used here). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

/** Keys that mean something somewhere in the API (fields, filter operators), so generated JSON reaches the code. */
export const MEANINGFUL_KEYS = [
  'id',
  'text',
  'user_id',
  'user',
  'type',
  'cid',
  'members',
  'created_by_id',
  'member_count',
  'created_at',
  'updated_at',
  'last_message_at',
  'role',
  'banned',
  'frozen',
  'disabled',
  'parent_id',
  'mentioned_users',
  'attachments',
  'custom',
  'name',
  'score',
  'set',
  'unset',
  'filter_conditions',
  'sort',
  'limit',
  'offset',
  'field',
  'direction',
  'teams',
  'data',
  'messages',
  'truncated_at',
  'hard_delete',
  '$and',
  '$or',
  '$nor',
  '$in',
  '$nin',
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$exists',
  '$regex',
  '$contains',
];

/** Ids the seeded app holds, so that some generated requests name real records. */
export const KNOWN_IDS = ['ann', 'ben', 'c1', 'm1', 'm1-reply', 'messaging', 'like', 'messaging:c1'];

const scalar: fc.Arbitrary<JsonModel> = fc.oneof(
  fc.constantFrom<JsonModel>(...KNOWN_IDS, null, true, false, 0, 1, -1, 2.5, ''),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON, shaped like the API's: keys are mostly its field names and filter operators. */
export const anyJson: fc.Arbitrary<JsonModel> = fc.letrec<{ value: JsonModel }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom(...MEANINGFUL_KEYS), fc.string({ maxLength: 8 })), tie('value')),
        {
          maxLength: 4,
        },
      )
      .map((entries) => new JsonObject(entries)),
  ),
})).value;

function typesOf(schema: JsonSchema): string[] {
  if (schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/**
 * Values a schema accepts, generated from it: an object's declared properties (required ones always),
 * an array's items, a string's enum, an integer's range, and `anyJson` wherever anything goes.
 * `nasty` is mixed in at every position (about one value in eight), so bad input reaches every field.
 */
export function fromSchema(
  schema: JsonSchema,
  nasty: fc.Arbitrary<JsonModel>,
  depth = 0,
): fc.Arbitrary<JsonModel> {
  const valid = validFromSchema(schema, nasty, depth);
  return fc.oneof({ weight: 7, arbitrary: valid }, { weight: 1, arbitrary: nasty });
}

function validFromSchema(
  schema: JsonSchema,
  nasty: fc.Arbitrary<JsonModel>,
  depth: number,
): fc.Arbitrary<JsonModel> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => validFromSchema(s, nasty, depth)));
  if (schema.enum) return fc.constantFrom(...(schema.enum as JsonModel[]));
  if (schema.const !== undefined) return fc.constant(schema.const as JsonModel);
  const types = typesOf(schema);
  if (types.length === 0 || depth > 4) return anyJson;
  const type = types[0];
  switch (type) {
    case 'string':
      return fc.oneof(fc.constantFrom(...KNOWN_IDS), fc.string({ maxLength: 16 }));
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -5;
      const max = Math.min(schema.maximum ?? min + 55, min + 55);
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, schema.maximum ?? min + 100));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(schema.items ?? {}, nasty, depth + 1), {
        minLength: Math.min(schema.minItems ?? 0, 2),
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'object':
      return objectFromSchema(schema, nasty, depth);
    default:
      return anyJson;
  }
}

function objectFromSchema(
  schema: JsonSchema,
  nasty: fc.Arbitrary<JsonModel>,
  depth: number,
): fc.Arbitrary<JsonModel> {
  const properties = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const declared = properties.map(([name, propertySchema]) =>
    required.has(name)
      ? fromSchema(propertySchema, nasty, depth + 1).map(
          (value) => [[name, value]] as Array<[string, JsonModel]>,
        )
      : fc
          .option(fromSchema(propertySchema, nasty, depth + 1), { nil: undefined })
          .map((value) => (value === undefined ? [] : ([[name, value]] as Array<[string, JsonModel]>))),
  );
  const extraValues =
    typeof schema.additionalProperties === 'object'
      ? fromSchema(schema.additionalProperties, nasty, depth + 1)
      : anyJson;
  const extras = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...MEANINGFUL_KEYS, ...KNOWN_IDS), fc.string({ maxLength: 8 })),
      extraValues,
    ),
    { maxLength: properties.length === 0 ? 4 : 2 },
  );
  return fc
    .tuple(fc.tuple(...declared), extras)
    .map(([parts, extra]) => new JsonObject([...parts.flat(), ...extra]));
}
