import { describe, expect, it } from 'vitest';
import { MAX_EXPLICIT_ENTRIES, MAX_EXPLICIT_PAYLOAD_BYTES, parseExplicitInvalidation } from '../src/index.js';

describe('parseExplicitInvalidation', () => {
  it('accepts keys, tags and versions', () => {
    expect(parseExplicitInvalidation('{"keys":["a","b"],"tags":["t"],"versions":["v"]}')).toEqual({
      status: 'ok',
      keys: ['a', 'b'],
      tags: ['t'],
      versions: ['v'],
    });
  });

  it('treats every field as optional', () => {
    expect(parseExplicitInvalidation('{"tags":["team:7:members"]}')).toEqual({
      status: 'ok',
      keys: [],
      tags: ['team:7:members'],
      versions: [],
    });
  });

  it('accepts an empty list next to a non-empty one', () => {
    expect(parseExplicitInvalidation('{"keys":[],"versions":["v"]}')).toMatchObject({ status: 'ok', versions: ['v'] });
  });

  it.each([
    ['U+0000', String.raw`{"keys":["user:\u00001"]}`, /keys\[0\] contains U\+0000/],
    ['a lone high surrogate', String.raw`{"tags":["t\ud800"]}`, /tags\[0\] contains a lone UTF-16 surrogate/],
    ['a lone low surrogate', String.raw`{"versions":["\udc00v"]}`, /versions\[0\] contains a lone UTF-16 surrogate/],
  ])('refuses what JSON accepts but jsonb and Redis cannot take: %s', (_what, text, reason) => {
    // JSON.parse takes it, which is how it reached the relay's ::jsonb cast and crash-looped the reader.
    expect(() => JSON.parse(text)).not.toThrow();
    const result = parseExplicitInvalidation(text);
    expect(result.status).toBe('error');
    expect(result.status === 'error' && result.reason).toMatch(reason);
  });

  it('accepts a surrogate pair (an emoji) and other escapes', () => {
    expect(parseExplicitInvalidation(String.raw`{"keys":["fav:\ud83d\ude00","tab\tkey"]}`)).toMatchObject({
      status: 'ok',
      keys: ['fav:\u{1F600}', 'tab\tkey'],
    });
  });

  it('deduplicates, keeping order', () => {
    expect(parseExplicitInvalidation('{"keys":["b","a","b"]}')).toMatchObject({ keys: ['b', 'a'] });
  });

  it('accepts exactly the maximum number of entries', () => {
    const keys = Array.from({ length: MAX_EXPLICIT_ENTRIES - 1 }, (_, i) => `k:${i}`);
    expect(parseExplicitInvalidation(JSON.stringify({ keys, tags: ['t'] })).status).toBe('ok');
  });

  it.each([
    ['not JSON', '{keys: ["a"]}', /^explicit invalidation: payload is not valid JSON \(/],
    ['empty text', '', /payload is not valid JSON/],
    ['an array', '["a"]', /payload must be a JSON object/],
    ['null', 'null', /payload must be a JSON object/],
    ['a string', '"a"', /payload must be a JSON object/],
    ['an empty object', '{}', /payload must list at least one key, tag or version$/],
    ['only empty lists', '{"keys":[],"tags":[]}', /payload must list at least one key, tag or version$/],
    [
      'an unknown field',
      '{"keys":["a"],"patterns":["a*"]}',
      /unknown field "patterns"; expected keys, tags and\/or versions$/,
    ],
    ['a __proto__ field', '{"keys":["a"],"__proto__":{"x":1}}', /unknown field "__proto__"/],
    ['a non-array field', '{"keys":"a"}', /keys must be an array of non-empty strings$/],
    ['a null field', '{"tags":null}', /tags must be an array of non-empty strings$/],
    ['an empty string', '{"tags":["a","b",""]}', /tags\[2\] must be a non-empty string$/],
    ['a number', '{"versions":[1]}', /versions\[0\] must be a non-empty string$/],
    ['a nested list', '{"keys":["a",["b"]]}', /keys\[1\] must be a non-empty string$/],
  ])('rejects %s', (_what, text, reason) => {
    const r = parseExplicitInvalidation(text);
    expect(r.status).toBe('error');
    expect(r.status === 'error' && r.reason).toMatch(reason);
  });

  it('rejects more than the maximum number of entries in total', () => {
    const keys = Array.from({ length: MAX_EXPLICIT_ENTRIES }, (_, i) => `k:${i}`);
    expect(parseExplicitInvalidation(JSON.stringify({ keys, tags: ['t'] }))).toEqual({
      status: 'error',
      reason: `explicit invalidation: more than ${MAX_EXPLICIT_ENTRIES} entries in total`,
    });
  });
});

describe('explicit invalidation byte limit', () => {
  it('refuses a payload above MAX_EXPLICIT_PAYLOAD_BYTES, naming its size', () => {
    const text = JSON.stringify({ keys: [`k:${'x'.repeat(MAX_EXPLICIT_PAYLOAD_BYTES)}`] });
    const result = parseExplicitInvalidation(text);
    expect(result).toEqual({
      status: 'error',
      reason: `explicit invalidation: payload is ${Buffer.byteLength(text)} bytes, above the limit of ${MAX_EXPLICIT_PAYLOAD_BYTES} bytes; send it in parts`,
    });
    expect(parseExplicitInvalidation(JSON.stringify({ keys: ['k'.repeat(1024 * 1024)] })).status).toBe('ok');
  });
});
