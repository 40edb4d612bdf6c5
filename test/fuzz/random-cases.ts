import fc from 'fast-check';
import { KNOWN_IDS, MEANINGFUL_KEYS, anyJson, fromSchema, object, toJsonText } from './json-model.js';
import type { JsonModel, JsonSchema } from './json-model.js';
import {
  BROKEN_ESCAPES,
  NASTY_HEADERS,
  NASTY_JSON,
  NASTY_TEXT,
  ODD_BODY_ENCODINGS,
  PROTOTYPE_NAMES,
  type BodyEncoding,
  type UrlEncoding,
} from './nasty-inputs.js';
import { plainText, type Credentials, type FuzzRequest, type UrlText } from './fuzz-request.js';
import { knownParamValue, knownQuery, type KnownRecords, type RouteSpec } from './route-catalogue.js';

const allNastyJson = Object.values(NASTY_JSON).flat();
const allNastyTexts = Object.values(NASTY_TEXT).flat();
const allNastyHeaders = Object.values(NASTY_HEADERS).flat();

/** Most nasty values are small; lists of 40,000 and 100,000 levels of nesting come up more rarely. */
const nastyJson: fc.Arbitrary<JsonModel> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(...allNastyJson.filter((json) => toJsonText(json).length < 2_000)),
  },
  { weight: 1, arbitrary: fc.constantFrom(...allNastyJson) },
);

const urlEncoding: fc.Arbitrary<UrlEncoding> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<UrlEncoding>({ kind: 'standard' }) },
  { weight: 1, arbitrary: fc.constant<UrlEncoding>({ kind: 'raw' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...BROKEN_ESCAPES).map((escape): UrlEncoding => ({ kind: 'broken', escape })),
  },
);

const urlText = (valid: fc.Arbitrary<string>): fc.Arbitrary<UrlText> =>
  fc.record({
    text: fc.oneof(
      { weight: 6, arbitrary: valid },
      { weight: 2, arbitrary: fc.constantFrom(...allNastyTexts) },
      fc.string(),
    ),
    encoding: urlEncoding,
  });

/** A query value as text: a boolean or number as a client writes one, or a string (JSON for strings, often). */
function queryValue(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.type === 'boolean') return fc.constantFrom('true', 'false', '1', '0', '');
  if (schema.type === 'integer' || schema.type === 'number')
    return fc.integer({ min: -5, max: 400 }).map(String);
  return fc.oneof(
    fc.constantFrom(...KNOWN_IDS),
    fromSchema({}, nastyJson).map(toJsonText),
    fc
      .record({ filter_conditions: anyJson, sort: anyJson, limit: anyJson })
      .map((p) => toJsonText(object(p))),
  );
}

/** Requests in which any number of positions can hold generated or nasty values at once. */
export function randomCases(route: RouteSpec, known: KnownRecords): fc.Arbitrary<FuzzRequest> {
  const declared = route.query.map(({ name, schema }) =>
    fc
      .option(urlText(queryValue(schema)), { nil: undefined, freq: 2 })
      .map((value) => (value === undefined ? [] : [[plainText(name), value] as [UrlText, UrlText]])),
  );
  const extraQuery = fc.array(
    fc.tuple(
      urlText(fc.constantFrom(...PROTOTYPE_NAMES, ...MEANINGFUL_KEYS)),
      urlText(fc.constantFrom(...KNOWN_IDS)),
    ),
    { maxLength: 2 },
  );
  const methods = route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
  return fc.record({
    method: fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(...methods) },
      fc.constantFrom('OPTIONS', 'TRACE', 'PROPFIND'),
    ),
    pathParams: fc.tuple(
      ...route.pathParams.map((name) =>
        urlText(fc.oneof(fc.constant(knownParamValue(route, name, known)), fc.constantFrom(...KNOWN_IDS))),
      ),
    ),
    query: fc
      .tuple(fc.tuple(...declared), extraQuery)
      .map(([parts, extra]) => [
        ...knownQuery(route, known).map(([k, v]) => [plainText(k), plainText(v)] as [UrlText, UrlText]),
        ...parts.flat(),
        ...extra,
      ]),
    apiKey: fc.oneof(
      { weight: 10, arbitrary: fc.constant<'valid'>('valid') },
      fc.constant<'missing'>('missing'),
      urlText(fc.constantFrom(...KNOWN_IDS)),
    ),
    credentials: fc.oneof(
      { weight: 8, arbitrary: fc.constant<Credentials>('server') },
      { weight: 2, arbitrary: fc.constant<Credentials>('user') },
      fc.constantFrom<Credentials>('none', 'forged'),
    ),
    headers: fc.oneof(
      { weight: 4, arbitrary: fc.constant<Array<[string, string]>>([]) },
      fc.constantFrom(...allNastyHeaders),
    ),
    body: route.body
      ? fc.record({
          json: fromSchema(route.body, nastyJson),
          encoding: fc.oneof(
            { weight: 12, arbitrary: fc.constant<BodyEncoding>('utf8') },
            fc.constantFrom(...ODD_BODY_ENCODINGS),
          ),
        })
      : fc.option(fc.record({ json: anyJson, encoding: fc.constant<BodyEncoding>('utf8') }), {
          nil: undefined,
          freq: 4,
        }),
  });
}
