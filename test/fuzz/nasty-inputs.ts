import { JsonObject, RawJson, object, toJsonText, type JsonModel } from './json-model.js';

/**
 * The kinds of bad input the fuzz suite puts in every position of every route (path, query, JSON in
 * the query, headers, body), each as the few probes that have broken servers like this one: a NUL
 * character, JavaScript's built-in property names, lists past any bound, nesting past any stack
 * (brackets, or the dots of a partial update's field name), numbers no column holds, and text that is
 * not what its encoding claims.
 */
export type NastyKind =
  'nul' | 'prototypeName' | 'hugeList' | 'deepNesting' | 'extremeNumber' | 'oddEncoding';

export const NASTY_KINDS: NastyKind[] = [
  'nul',
  'prototypeName',
  'hugeList',
  'deepNesting',
  'extremeNumber',
  'oddEncoding',
];

export const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
];

const deepOr = (levels: number) =>
  new RawJson(`${'{"$or":['.repeat(levels)}{"id":"ann"}${']}'.repeat(levels)}`);
const deepArray = (levels: number) => new RawJson(`${'['.repeat(levels)}1${']'.repeat(levels)}`);
const deepObject = (levels: number) => new RawJson(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);
/** A dotted name a partial update would follow one level a dot, as deep as `levels`. */
const dottedName = (levels: number) => new JsonObject([[Array(levels).fill('a').join('.'), 1]]);
const hugeStrings = (count: number) =>
  new RawJson(`[${Array.from({ length: count }, (_, i) => `"u${i}"`).join(',')}]`);

/**
 * JSON values of each kind, for bodies and for JSON sent in the query string. The first
 * PROBES_PER_POSITION of each are the likeliest to break something: those go in every position, the
 * rest only as a whole body, a whole `?payload=` and in the random phase.
 */
export const NASTY_JSON: Record<NastyKind, JsonModel[]> = {
  nul: ['a\u0000b', new JsonObject([['a\u0000b', 'x']]), object({ id: '\u0000' })],
  prototypeName: [
    new JsonObject(PROTOTYPE_NAMES.map((name) => [name, 'x'])),
    new JsonObject([['__proto__', object({ role: 'admin' })]]),
    object({ constructor: object({ $gt: 1 }), toString: ['x'] }),
    ...PROTOTYPE_NAMES,
  ],
  hugeList: [hugeStrings(40_000), object({ $in: hugeStrings(40_000) })],
  deepNesting: [deepOr(12), deepOr(1_500), deepArray(100_000), dottedName(250_000), deepObject(150)],
  extremeNumber: [
    new RawJson('9223372036854775808'),
    1e300,
    1.5,
    object({ $gt: new RawJson('9223372036854775808') }),
    new RawJson('1e400'),
    new RawJson('-9223372036854775809'),
    new RawJson('-0'),
    -0.5,
    -1e300,
    2 ** 31,
    2 ** 53 + 2,
    5e-324,
  ],
  oddEncoding: [
    new RawJson('"\\ud800"'),
    'x'.repeat(70_000),
    new RawJson('"\\udfff\\ud800x"'),
    '\u202e\ufeff\u200b',
    '😀'.repeat(50),
    '%E0%A4%A%zz',
  ],
};

/** How many of each kind's NASTY_JSON values go in every single position (see NASTY_JSON). */
export const PROBES_PER_POSITION = 4;

/**
 * JSON of each kind small enough for a query string (16 KiB of request line and headers): larger
 * would only meet the header limit, which NASTY_HEADERS probes. Its huge list is 1,500 values.
 */
export const NASTY_QUERY_JSON: Record<NastyKind, JsonModel[]> = {
  ...NASTY_JSON,
  hugeList: [object({ $in: hugeStrings(1_500) }), object({ id: object({ $nin: hugeStrings(1_500) }) })],
  deepNesting: NASTY_JSON.deepNesting.filter((json) => toJsonText(json).length < 12_000),
  oddEncoding: NASTY_JSON.oddEncoding.filter((json) => toJsonText(json).length < 12_000),
};

/** Text values of each kind, for path parameters, query values and headers (before any encoding). */
export const NASTY_TEXT: Record<NastyKind, string[]> = {
  nul: ['\u0000', 'a\u0000b'],
  prototypeName: PROTOTYPE_NAMES,
  hugeList: ['x'.repeat(600), 'a,'.repeat(3_000)],
  deepNesting: [`${'['.repeat(3_000)}${']'.repeat(3_000)}`, `${'{"$or":['.repeat(20)}{}${']}'.repeat(20)}`],
  extremeNumber: [
    '9223372036854775808',
    '-9223372036854775809',
    '1e300',
    '1.5',
    '-0',
    'NaN',
    'Infinity',
    '0x10',
  ],
  oddEncoding: ['\ud800', 'é😀', '\u202e', ' \t', 'a/b', '..', '?#&=;'],
};

/** Percent-escapes that are not valid UTF-8 or not escapes at all, spliced into otherwise valid URLs. */
export const BROKEN_ESCAPES = ['%', '%zz', '%E0%A4%A', '%C0%80', '%FF', '%ED%A0%80', '%u0041', '%2', '%%'];

/** How a text travels in the URL: escaped properly, mostly unescaped, or with a broken escape spliced in. */
export type UrlEncoding = { kind: 'standard' } | { kind: 'raw' } | { kind: 'broken'; escape: string };

/** Every byte outside RFC 3986's unreserved set escaped (lone surrogates become U+FFFD, as in UTF-8). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Escapes only what would break the request line (spaces, controls, non-ASCII): `{"$or":[` stays as it is. */
function rawEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte <= 0x20 || byte >= 0x7f
        ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte);
  }
  return out;
}

export function encodeUrlText(text: string, encoding: UrlEncoding): string {
  if (encoding.kind === 'raw') return rawEncode(text);
  const encoded = percentEncode(text);
  if (encoding.kind === 'standard') return encoded;
  const middle = Math.floor(encoded.length / 2);
  return encoded.slice(0, middle) + encoding.escape + encoded.slice(middle);
}

/** Headers of each kind; Node's HTTP parser refuses some of them outright, which must still be answered well. */
export const NASTY_HEADERS: Record<NastyKind, Array<Array<[string, string]>>> = {
  nul: [[['x-fuzz', 'a\u0000b']], [['authorization', 'to\u0000ken']]],
  prototypeName: [
    PROTOTYPE_NAMES.map((name) => [name, 'x']),
    [['stream-auth-type', 'constructor']],
    [['authorization', '__proto__']],
  ],
  hugeList: [[['x-fuzz', 'a,'.repeat(10_000)]], Array.from({ length: 300 }, () => ['x-fuzz', 'a'])],
  deepNesting: [[['x-stream-client', '['.repeat(4_000)]]],
  extremeNumber: [
    [['range', 'bytes=9223372036854775808-']],
    [['range', 'bytes=-1e300']],
    [['if-none-match', '"9223372036854775808"']],
    [['x-client-request-id', '1e300']],
  ],
  oddEncoding: [
    [['x-fuzz', '\xff\xfe\x80']],
    [['x-fuzz', 'a\r\n b']],
    [['content-type', 'application/json; charset=utf-16']],
    [['content-type', 'application/x-www-form-urlencoded']],
    [['content-type', 'multipart/form-data; boundary=x']],
    [['content-type', ';;;']],
    [['content-type', 'text/plain']],
    [['content-type', 'application/vnd.api+json']],
    [['range', 'bytes=5-1,-0,abc']],
    [['if-range', '\xff']],
  ],
};

/** How a JSON body's bytes are written: as UTF-8, or as bytes that are not what `application/json` means. */
export type BodyEncoding = 'utf8' | 'latin1' | 'utf16le' | 'bom' | 'invalid-utf8';

export const ODD_BODY_ENCODINGS: BodyEncoding[] = ['latin1', 'utf16le', 'bom', 'invalid-utf8'];

export function encodeBody(text: string, encoding: BodyEncoding): Buffer {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'latin1':
      return Buffer.from(text, 'latin1');
    case 'utf16le':
      return Buffer.from(text, 'utf16le');
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'invalid-utf8': {
      // Bytes that are no UTF-8 at all, inside the first string of the document.
      const quote = text.indexOf('"');
      const bytes = Buffer.from(text, 'utf8');
      if (quote < 0) return Buffer.concat([bytes, Buffer.from([0xff, 0xfe])]);
      return Buffer.concat([
        bytes.subarray(0, quote + 1),
        Buffer.from([0xc3, 0x28, 0xff]),
        bytes.subarray(quote + 1),
      ]);
    }
  }
}
