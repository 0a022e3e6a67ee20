import fc from 'fast-check';

// Building blocks of hostile input, shared by every target: strings and numbers that break naive
// parsers, JSON of the wrong type or depth, and mutations of a valid body taken from the request
// schemas (one field wrong at a time finds more than random noise: the rest of the body still
// passes, so the request gets past validation of everything else).

/** Strings chosen to break things: NUL, lone surrogates, CR/LF, traversal, prototype keys, huge. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'x\uD83D',
  '\uDE00y',
  '\uFEFF',
  '\u202E\u200B\u00AD',
  '\r\n',
  'a\r\nx-injected: 1',
  '\t\v\f\b',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '%00',
  '%',
  '%ZZ',
  '%u0000',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '${jndi:ldap://127.0.0.1/a}',
  "' OR '1'='1' --",
  '<script>alert(1)</script>',
  '{{7*7}}',
  '%s%s%s%n',
  'NaN',
  'Infinity',
  'null',
  'undefined',
  'true',
  '-1',
  '1e309',
  '0x7fffffff',
  '99999999999999999999999999999-99999999999999999999999',
  '18446744073709551615-18446744073709551615',
  '18446744073709551616-0',
  '1-0',
  '*',
  '||',
  'a'.repeat(129),
  'a'.repeat(4_097),
  '😀'.repeat(300),
  'Ａｄｍｉｎ',
  'i̇',
  'ß'.repeat(64),
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 32 }) },
  // Lone surrogates anywhere in an otherwise ordinary string.
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 16 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 16 })).map(([a, s, b]) => `${a}${String.fromCharCode(s)}${b}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', '\u0000', '😀', 'é', '.', '/'), fc.integer({ min: 100, max: 70_000 })).map(([c, n]) => c.repeat(n)) },
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, -0.5, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 1e308, 1e-7),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Deeply nested arrays or objects: recursion limits, stack depth. */
export const deepJson: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean()).map(([depth, array]) => (array ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/** Any JSON-ish value of the wrong type for a field. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { __proto__: { admin: true } }, { constructor: { prototype: { polluted: 1 } } }) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 400 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i)) },
);

const ID_FIELD = /^(id|ref|user|userId|docId|kbId|tenantId|sessionId|session_id|subAccount|version|name|model|mediaType|timezone)$/;

/** Strings for id fields: NUL, lone surrogates, separators, traversal, control characters, too long. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\uD800', 'a\uDFFFb', '\uDBFF\uDBFF', 'a/b', '../x', '..', '.', 'a:b', '{a}', 'a b', 'a\r\nb', '\t', '*', '%00', '%2F', 'a'.repeat(129), 'a'.repeat(5_000), '😀', 'İ', '\u202E', ''),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{0,8}$/), fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), fc.stringMatching(/^[a-z0-9]{0,8}$/)).map(([a, c, b]) => `${a}${c}${b}`),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{0,8}$/), fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), fc.stringMatching(/^[a-z0-9]{0,8}$/)).map(([a, c, b]) => `${a}${c}${b}`),
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths of every field (object keys and array items) in a value. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => [[...prefix, index], ...paths(item, [...prefix, index])]);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...paths(item, [...prefix, key])]);
  return [];
}

function setAt(root: unknown, path: (string | number)[], update: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  update(parent, path[path.length - 1] as string | number);
  return copy;
}

/**
 * A valid body with one mutation: a field replaced by a wrong value, removed, duplicated into an
 * unknown field, nested deeper, or the whole body replaced by something of another type.
 */
export function mutated(valid: Json): fc.Arbitrary<unknown> {
  const fields = paths(valid);
  const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant<(string | number)[]>([]);
  // Ids end up in Redis keys, file names, message groups and URLs: they get hostile strings more often.
  const ids = fields.filter((path) => typeof path.at(-1) === 'string' && ID_FIELD.test(String(path.at(-1))));
  const idMutations = ids.length > 0 ? [{ weight: 4, arbitrary: fc.tuple(fc.constantFrom(...ids), hostileId).map(([path, value]) => setAt(valid, path, (parent, key) => void (parent[key] = value))) }] : [];
  return fc.oneof(
    ...idMutations,
    { weight: 1, arbitrary: fc.constant(valid as unknown) },
    { weight: 6, arbitrary: fc.tuple(field, wrongValue).map(([path, value]) => (path.length ? setAt(valid, path, (parent, key) => void (parent[key] = value)) : value)) },
    { weight: 2, arbitrary: field.map((path) => (path.length ? setAt(valid, path, (parent, key) => (Array.isArray(parent) ? parent.splice(Number(key), 1) : delete parent[key])) : valid)) },
    { weight: 1, arbitrary: fc.tuple(nastyString, wrongValue).map(([key, value]) => (valid && typeof valid === 'object' && !Array.isArray(valid) ? { ...valid, [key]: value } : valid)) },
    { weight: 1, arbitrary: fc.tuple(field, fc.integer({ min: 20, max: 2_000 })).map(([path, depth]) => (path.length ? setAt(valid, path, (parent, key) => void (parent[key] = JSON.parse(`${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}`))) : valid)) },
    { weight: 1, arbitrary: wrongValue },
  );
}

/** How a body value becomes bytes on the wire: JSON, JSON cut short, JSON with bytes that are not UTF-8, or bloated past any limit. */
export const encodings = ['json', 'json', 'json', 'json', 'truncated', 'invalid-utf8', 'nul', 'oversized', 'deep', 'empty', 'not-json'] as const;
export type Encoding = (typeof encodings)[number];

const PADDING = Buffer.alloc(1_600_000, 'x');

export function encodeBody(value: unknown, encoding: Encoding, cut: number): Buffer {
  const json = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  switch (encoding) {
    case 'json':
      return json;
    case 'truncated':
      return json.subarray(0, Math.floor(json.length * cut));
    case 'invalid-utf8': {
      const at = Math.floor(json.length * cut);
      // Overlong NUL, a lone continuation byte, an unpaired surrogate in CESU form, and 0xFF.
      return Buffer.concat([json.subarray(0, at), Buffer.from([0xc0, 0x80, 0x80, 0xed, 0xa0, 0x80, 0xff, 0xfe]), json.subarray(at)]);
    }
    case 'nul': {
      const at = Math.floor(json.length * cut);
      return Buffer.concat([json.subarray(0, at), Buffer.from([0]), json.subarray(at)]);
    }
    case 'oversized':
      // Past every app's body limit (access 1 MiB, knowledge-ingest as configured here, rtc-push 64 KiB).
      return Buffer.concat([Buffer.from('{"pad":"'), PADDING, Buffer.from('","value":'), json, Buffer.from('}')]);
    case 'deep':
      return Buffer.from(`${'['.repeat(50_000)}${']'.repeat(50_000)}`, 'utf8');
    case 'empty':
      return Buffer.alloc(0);
    case 'not-json':
      return Buffer.from(`model=x&messages=${encodeURIComponent(String(cut))}`, 'utf8');
  }
}

/** Content types a JSON body is sent under. */
export const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-16', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=', 'application/xml', 'application/json\u0000', '', 'application/json, text/plain', 'application/*', '*/*', 'APPLICATION/JSON') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Header values that try to inject, smuggle or overflow. */
export const injectedHeaderValue: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom('x\r\nx-injected: 1', 'x\r\n\r\nGET /admin/keys HTTP/1.1\r\nhost: a', 'x\nx-injected: 1', 'x\rx', 'a\u0000b', 'a'.repeat(20_000)),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

/** A path segment that tries to leave its route: traversal, encoded separators, NUL, surrogates, huge. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '..%2F..%2Fadmin%2Fkeys', '..%5C..%5C', '%00', 'a%00b', '%ED%A0%80', '%C0%80', '%FF', '%', '%2', '%%32%65', 'a%2Fb', '%20', '~', '*', '__proto__', 'constructor', 'toString', '%E2%80%AE'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, ''))),
  fc.integer({ min: 129, max: 9_000 }).map((n) => 'a'.repeat(n)),
  fc.uuid(),
);
