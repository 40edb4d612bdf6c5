import { describe, expect, it } from 'vitest';
import {
  attachmentDisposition,
  contentTypeOf,
  ifNoneMatchMatches,
  ifRangeAllows,
  parseRange,
} from '../../src/modules/downloads/downloads.headers.js';

describe('Range header', () => {
  it.each([
    [undefined, { kind: 'whole' }],
    ['bytes=0-99', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', { kind: 'partial', start: 100, end: 999 }],
    ['bytes=-100', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', { kind: 'partial', start: 0, end: 999 }],
    ['bytes=990-5000', { kind: 'partial', start: 990, end: 999 }],
    ['Bytes=1-1', { kind: 'partial', start: 1, end: 1 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=1000-2000', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=5-1', { kind: 'whole' }],
    ['bytes=0-1,5-9', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
    ['bytes=a-b', { kind: 'whole' }],
    ['bytes=99999999999999999999-', { kind: 'whole' }],
  ])('%s on 1000 bytes → %j', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });

  it('no range of an empty file is satisfiable', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-10', 0)).toEqual({ kind: 'unsatisfiable' });
  });
});

describe('conditional requests', () => {
  const etag = '"abc123"';
  it('If-None-Match matches the tag, a weak form of it, a list holding it, or *', () => {
    expect(ifNoneMatchMatches(undefined, etag)).toBe(false);
    expect(ifNoneMatchMatches('"abc123"', etag)).toBe(true);
    expect(ifNoneMatchMatches('W/"abc123"', etag)).toBe(true);
    expect(ifNoneMatchMatches('"other", "abc123"', etag)).toBe(true);
    expect(ifNoneMatchMatches('*', etag)).toBe(true);
    expect(ifNoneMatchMatches('"abc1234"', etag)).toBe(false);
  });

  it('If-Range lets a range through only for the current strong tag', () => {
    expect(ifRangeAllows(undefined, etag)).toBe(true);
    expect(ifRangeAllows('"abc123"', etag)).toBe(true);
    expect(ifRangeAllows('"older"', etag)).toBe(false);
    expect(ifRangeAllows('W/"abc123"', etag)).toBe(false);
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', etag)).toBe(false);
  });
});

describe('file headers', () => {
  it('types export files by extension', () => {
    expect(contentTypeOf('channels.json')).toBe('application/json');
    expect(contentTypeOf('channels.jsonl')).toBe('application/x-ndjson');
    expect(contentTypeOf('channels.NDJSON')).toBe('application/x-ndjson');
    expect(contentTypeOf('archive')).toBe('application/octet-stream');
    // An extension named like an object's built-in property is just unknown.
    expect(contentTypeOf('archive.constructor')).toBe('application/octet-stream');
    expect(contentTypeOf('archive.__proto__')).toBe('application/octet-stream');
  });

  it('offers the file as an attachment under its own name', () => {
    expect(attachmentDisposition('channels.json')).toBe('attachment; filename="channels.json"');
    expect(attachmentDisposition('a"b.json')).toBe('attachment; filename="a_b.json"');
  });
});
