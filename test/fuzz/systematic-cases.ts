import { JsonObject, object, toJsonText } from './json-model.js';
import type { JsonModel, JsonSchema } from './json-model.js';
import {
  BROKEN_ESCAPES,
  NASTY_HEADERS,
  NASTY_JSON,
  NASTY_KINDS,
  NASTY_QUERY_JSON,
  NASTY_TEXT,
  PROBES_PER_POSITION,
  ODD_BODY_ENCODINGS,
  PROTOTYPE_NAMES,
  type BodyEncoding,
  type UrlEncoding,
} from './nasty-inputs.js';
import { baselineRequest, minimalValue, plainText, type FuzzRequest, type UrlText } from './fuzz-request.js';
import type { KnownRecords, RouteSpec } from './route-catalogue.js';

/** Keys under which nasty values go inside a body's free-form objects (a message, channel data, a filter). */
const NESTED_KEYS = [
  'id',
  'text',
  // With deep nesting: a partial update's `set` (PATCH /users, members, channels, messages).
  'set',
  'user_id',
  'members',
  'cid',
  'member_count',
  'created_at',
  '$or',
  'mentioned_users',
  'unset',
  'parent_id',
];

const isObjectSchema = (schema: JsonSchema) =>
  schema.type === 'object' || typeof schema.additionalProperties === 'object' || schema.type === undefined;

/** `base` (an object) with these entries set, replacing any of the same name. */
function withEntries(base: JsonModel, extra: Array<[string, JsonModel]>): JsonObject {
  const names = new Set(extra.map(([name]) => name));
  const entries = base instanceof JsonObject ? base.entries.filter(([name]) => !names.has(name)) : [];
  return new JsonObject([...entries, ...extra]);
}

/**
 * A nasty value under `key` inside a property's objects, the rest of them as valid as the schema
 * and the seeded records allow (the acting user, the channel), so the value gets past the schema and
 * into the use case: `{message: {text: ☠, user_id}}`, `{users: {ann: {id: ann, text: ☠}}}`,
 * `{channels: [{cid, id: ☠}]}`. Undefined for properties that hold no objects.
 */
function nestedProbe(schema: JsonSchema, key: string, nasty: JsonModel, known: KnownRecords) {
  const context: Array<[string, JsonModel]> = [
    ['user_id', known.userId],
    ['created_by_id', known.userId],
    ['cid', `${known.channelType}:${known.channelId}`],
    [key, nasty],
  ];
  if (schema.type === 'array') {
    return schema.items && isObjectSchema(schema.items)
      ? [withEntries(minimalValue(schema.items, known), context)]
      : undefined;
  }
  if (!isObjectSchema(schema)) return undefined;
  if (typeof schema.additionalProperties === 'object' && !schema.properties) {
    const entry = minimalValue(schema.additionalProperties, known);
    return new JsonObject([
      [
        known.userId,
        withEntries(entry, [
          ['id', known.userId],
          [key, nasty],
        ]),
      ],
    ]);
  }
  return withEntries(minimalValue(schema, known), context);
}

/** Ways JSON rides in a query string: as the whole payload, as its filter, a filter field, its sort or limit. */
const inQueryJson = (json: JsonModel): JsonModel[] => [
  json,
  object({ filter_conditions: json }),
  object({ filter_conditions: object({ id: json }) }),
  object({ sort: json, limit: json }),
];

/**
 * The systematic cases of a route: the baseline request, then each nasty probe of each kind in each
 * position on its own, everything else valid: every path parameter, every declared query parameter
 * (as text, as repeated keys and, for strings, as JSON), the api_key, headers, the whole body, each of
 * its properties, and inside its free-form objects.
 */
export function systematicCases(route: RouteSpec, known: KnownRecords): FuzzRequest[] {
  const base = baselineRequest(route, known);
  const cases: FuzzRequest[] = [base];
  // A probe of a parameter the baseline names (`user_id`) takes its place rather than repeating it.
  const withQuery = (...extra: Array<[UrlText, UrlText]>): FuzzRequest => ({
    ...base,
    query: [...base.query.filter(([key]) => !extra.some(([name]) => name.text === key.text)), ...extra],
  });
  const withBody = (json: JsonModel, encoding: BodyEncoding = 'utf8'): FuzzRequest => ({
    ...base,
    body: { json, encoding },
  });

  for (const kind of NASTY_KINDS) {
    route.pathParams.forEach((_, index) => {
      const texts: UrlText[] = NASTY_TEXT[kind].map(plainText);
      if (kind === 'oddEncoding') {
        const valid = base.pathParams[index]!.text;
        texts.push(
          ...BROKEN_ESCAPES.map((escape) => ({
            text: valid,
            encoding: { kind: 'broken', escape } as UrlEncoding,
          })),
        );
        texts.push(
          ...NASTY_TEXT.oddEncoding.map((text) => ({ text, encoding: { kind: 'raw' } as UrlEncoding })),
        );
      }
      for (const text of texts) {
        cases.push({ ...base, pathParams: base.pathParams.map((param, i) => (i === index ? text : param)) });
      }
    });

    for (const { name, schema } of route.query) {
      for (const text of NASTY_TEXT[kind]) cases.push(withQuery([plainText(name), plainText(text)]));
      if (kind === 'hugeList')
        cases.push(
          withQuery(
            ...Array.from({ length: 1_500 }, () => [plainText(name), plainText('a')] as [UrlText, UrlText]),
          ),
        );
      if (kind === 'oddEncoding') {
        for (const escape of BROKEN_ESCAPES)
          cases.push(withQuery([plainText(name), { text: 'ann', encoding: { kind: 'broken', escape } }]));
      }
      if (schema.type === 'string') {
        for (const json of NASTY_QUERY_JSON[kind]) {
          const [whole, ...wrapped] = inQueryJson(json).map(toJsonText);
          // Unescaped too: what overflowed the stack was JSON punctuation sent as it is.
          cases.push(
            withQuery([plainText(name), plainText(whole!)]),
            withQuery([plainText(name), { text: whole!, encoding: { kind: 'raw' } }]),
          );
          if (NASTY_QUERY_JSON[kind].indexOf(json) < PROBES_PER_POSITION) {
            for (const text of wrapped) cases.push(withQuery([plainText(name), plainText(text)]));
          }
        }
      }
    }
    if (kind === 'prototypeName')
      for (const name of PROTOTYPE_NAMES) cases.push(withQuery([plainText(name), plainText('1')]));

    for (const text of NASTY_TEXT[kind]) cases.push({ ...base, apiKey: plainText(text) });
    for (const headers of NASTY_HEADERS[kind]) cases.push({ ...base, headers });

    if (!route.body) continue;
    for (const json of NASTY_JSON[kind]) cases.push(withBody(json));
    for (const json of NASTY_JSON[kind].slice(0, PROBES_PER_POSITION)) {
      for (const [name] of Object.entries(route.body.properties ?? {})) {
        cases.push(withBody(withEntries(base.body!.json, [[name, json]])));
      }
    }
    const [first] = NASTY_JSON[kind];
    // Four keys a kind, a different four for each kind: every key meets two kinds.
    const kindIndex = NASTY_KINDS.indexOf(kind);
    const keys = [0, 1, 2, 3].map((i) => NESTED_KEYS[(kindIndex * 4 + i) % NESTED_KEYS.length]!);
    for (const [name, schema] of Object.entries(route.body.properties ?? {})) {
      for (const key of keys) {
        const inner = nestedProbe(schema, key, first!, known);
        if (inner !== undefined) cases.push(withBody(withEntries(base.body!.json, [[name, inner]])));
      }
    }
    if (kind === 'oddEncoding')
      for (const encoding of ODD_BODY_ENCODINGS) cases.push(withBody(base.body!.json, encoding));
  }
  return cases;
}
