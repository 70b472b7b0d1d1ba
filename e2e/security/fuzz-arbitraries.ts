import fc from 'fast-check';

// Generators of hostile input for the fuzz tests: JSON values with the strings, numbers and keys
// that break parsers, stores and mappers, and "near-valid" bodies (a valid body with one part
// replaced, removed or added), which get past the first validation and reach deeper code.

/** Strings that have broken real systems: NUL and control characters, lone surrogates, prototype and operator keys, paths, huge text. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\u0001\u001f\u007f',
      '\ud800',
      '\udfff\ud800',
      '\ufeff',
      '__proto__',
      'constructor',
      'prototype',
      '$where',
      '$gt',
      'a.b',
      '.',
      '../../etc/passwd',
      '%00',
      '{{ orgId }}',
      '<script>alert(1)</script>',
      "' OR '1'='1",
      'NaN',
      'Infinity',
      '-0',
      '1e400',
      'true',
      'null',
      'whsec_AAAA',
      'http://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:1/x',
      'x'.repeat(300),
      'é'.repeat(100),
      '😀'.repeat(50),
    ),
  },
);

/** Numbers JSON can carry, including the edges (1e308, 2^63, the smallest subnormal). */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 63, 5e-324, 101, 100000, 100001),
);

const hostileKey: fc.Arbitrary<string> = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', '$set', 'a.b', '\u0000', 'id', 'externalId', 'secret', ''));

/** Any JSON value, small and shallow, built from the hostile parts. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

type Json = unknown;

function paths(value: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

/** Every path below the root of a JSON value, in the order `mutate` numbers them (its `at` minus one). */
export function leafPaths(value: Json): Array<Array<string | number>> {
  return paths(value).slice(1);
}

function parentOf(root: Json, path: Array<string | number>): Record<string | number, Json> | undefined {
  let node = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  return node;
}

export type Mutation = { op: 'replace' | 'delete' | 'add'; at: number; key: string; value: Json };

export const mutation: fc.Arbitrary<Mutation> = fc.record({ op: fc.constantFrom('replace', 'delete', 'add'), at: fc.nat(), key: hostileKey, value: hostileJson }) as fc.Arbitrary<Mutation>;

/** A copy of `base` with one part replaced, removed, or one key added (own property, even `__proto__`). */
export function mutate(base: Json, m: Mutation): Json {
  const root = { doc: structuredClone(base) as Json };
  const all = paths(root.doc, ['doc']);
  const path = all[m.at % all.length] as Array<string | number>;
  const parent = parentOf(root, path) as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  const target = parent[last];
  if (m.op === 'replace' || path.length === 1) {
    parent[last] = m.value;
  } else if (m.op === 'delete') {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete parent[last];
  } else if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
    Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  } else if (Array.isArray(target)) {
    target.push(m.value);
  } else {
    parent[last] = m.value;
  }
  return root.doc;
}

/** A request body: a mutated valid body most of the time, else any JSON or bytes that are not JSON at all. */
export function bodyFor(valid: Json[]): fc.Arbitrary<{ raw: string; contentType: string }> {
  const asJson = (value: Json) => ({ raw: JSON.stringify(value) ?? 'null', contentType: 'application/json' });
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...valid), mutation).map(([base, m]) => asJson(mutate(base, m))) },
    { weight: 2, arbitrary: hostileJson.map(asJson) },
    { weight: 1, arbitrary: fc.constantFrom(...valid).map(asJson) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ maxLength: 30 }).map((raw) => ({ raw, contentType: 'application/json' })),
        fc.constantFrom('{"a":', '[1,2', '{"a":1}}', '\u0000', '{"__proto__":{"isAdmin":true}}', '{"a":1e400}', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '[]', '{}', 'null', '"text"', '123').map((raw) => ({ raw, contentType: 'application/json' })),
        fc.constantFrom('a=1&b=2', '<xml/>').map((raw) => ({ raw, contentType: 'text/plain' })),
      ),
    },
  );
}

/** Percent-encodes any string as its UTF-8 bytes (a lone surrogate becomes U+FFFD, as a client would send it). */
export function encodeAny(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A path parameter: a real id most of the time (to reach code past the lookup), else hostile text, URL-encoded. */
export function paramFor(real: string[]): fc.Arbitrary<string> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...real) }, { weight: 2, arbitrary: hostileString.filter((s) => s.length > 0).map((s) => s.slice(0, 300)) }).map(encodeAny);
}

/** A query string: the route's own keys and others, with hostile values. */
export function queryFor(keys: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(fc.constantFrom(...keys), hostileKey.filter((k) => k.length > 0));
  const value = fc.oneof(hostileString, hostileNumber.map(String), fc.constantFrom('-1', '0', '201', 'abc', '2026-13-45', '1e400', 'failed', 'succeeded'));
  return fc.array(fc.tuple(key, value), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${encodeAny(k)}=${encodeAny(v)}`).join('&'));
}
