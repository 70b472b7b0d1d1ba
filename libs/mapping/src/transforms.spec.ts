import { mappingsSchema, organizationInputSchema, transformsSchema, type Mappings, type Transform } from '@music/domain';
import { checkTransforms, compileMapping, type MapOutcome } from './index';

const mappings: Mappings = mappingsSchema.parse({
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string' },
  artist: { type: 'string' },
  genre: { type: 'string' },
  durationSec: { type: 'number' },
  explicit: { type: 'boolean' },
  releasedAt: { type: 'string' },
  tags: { type: 'array', items: { type: 'string' } },
  meta: { type: 'object', properties: { label: { type: 'string' }, year: { type: 'number' } } },
  tracks: { type: 'array', items: { title: { type: 'string' }, n: { type: 'number' } } },
});

/** Parses the transforms as the config service does (defaults applied), then compiles. */
const compile = (transforms: unknown[]) => compileMapping(mappings, transformsSchema.parse(transforms));
const itemOf = (transforms: unknown[], record: Record<string, unknown>): MapOutcome => compile(transforms).toItem({ id: '1', ...record });
const dataOf = (transforms: unknown[], record: Record<string, unknown>): Record<string, unknown> => {
  const outcome = itemOf(transforms, record);
  if (!outcome.ok) throw new Error(`expected ok, got ${JSON.stringify(outcome.errors)}`);
  return outcome.data;
};
const errorsOf = (transforms: unknown[], record: Record<string, unknown>) => {
  const outcome = itemOf(transforms, record);
  return outcome.ok ? [] : outcome.errors;
};

describe('transformsSchema', () => {
  it('refuses an unknown op with its path, inside an organization body too', () => {
    const result = transformsSchema.safeParse([{ field: 'name', op: 'trim' }, { field: 'name', op: 'eval', code: '1' }]);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['1.op']);

    const org = organizationInputSchema.safeParse({
      synchronization: 'one-way',
      mappings: { externalId: { type: 'string', source: 'id' } },
      transforms: [{ field: 'a', op: 'trim' }, { field: 'a', op: 'lowercase' }, { field: 'a', op: 'exec' }],
    });
    expect(org.error?.issues.map((i) => i.path.join('.'))).toEqual(['transforms.2.op']);
  });

  it('refuses unknown arguments, bad field paths and missing arguments', () => {
    const paths = (t: unknown) => transformsSchema.safeParse([t]).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ field: 'name', op: 'trim', value: 1 })).toEqual(['0']);
    expect(paths({ field: 'meta..label', op: 'trim' })).toEqual(['0.field']);
    expect(paths({ field: '__proto__', op: 'trim' })).toEqual(['0.field']);
    expect(paths({ field: 'name', op: 'split' })).toEqual(['0.separator']);
    expect(paths({ field: 'name', op: 'default' })).toEqual(['0.value']);
    expect(paths({ field: 'name', op: 'trim', direction: 'sideways' })).toEqual(['0.direction']);
  });

  it('defaults the direction to inbound and replace to a literal', () => {
    expect(transformsSchema.parse([{ field: 'name', op: 'replace', pattern: 'a', replacement: 'b' }])).toEqual([
      { field: 'name', op: 'replace', pattern: 'a', replacement: 'b', regex: false, direction: 'inbound' },
    ]);
  });

  it.each([
    ['(a)\\1', 'invalid escape sequence'],
    ['(?<x>a)\\k<x>', 'invalid escape sequence'],
    ['a(?=b)', 'unsupported Perl syntax'],
    ['(?<!a)b', 'invalid named capture'],
    ['(abc', 'missing closing )'],
    ['(?:a?){100}a{100}', 'too complex'],
    ['x'.repeat(201), '200'],
  ])('refuses the regex %s, which RE2 cannot run or runs too slowly', (pattern, reason) => {
    const result = transformsSchema.safeParse([{ field: 'name', op: 'replace', pattern, replacement: '', regex: true }]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: [0, 'pattern'], message: expect.stringContaining(reason) });
  });

  // Patterns that backtrack catastrophically in a backtracking engine are fine in RE2.
  it.each(['^\\s+|\\s+$', '\\s*\\(feat\\. [^)]*\\)', '(?:ab)+', '[(a|b)+]', '\\d{3}-\\d{4}', '(?<year>\\d{4})', 'a*a*b', '(a+)+$', '(a|aa)*b', '(\\w+\\s?)*$'])(
    'accepts the regex %s',
    (pattern) => {
      expect(transformsSchema.safeParse([{ field: 'name', op: 'replace', pattern, replacement: '', regex: true, flags: 'g' }]).success).toBe(true);
    },
  );

  it('refuses flags without regex, and a regex that does not compile', () => {
    const issues = (t: unknown) => transformsSchema.safeParse([t]).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ field: 'name', op: 'replace', pattern: 'a', replacement: '', flags: 'g' })).toEqual(['0.flags']);
    expect(issues({ field: 'name', op: 'replace', pattern: 'a{2,1}', replacement: '', regex: true })).toEqual(['0.pattern']);
    expect(issues({ field: 'name', op: 'replace', pattern: 'a(', replacement: '', regex: true, flags: 'gi' })).toEqual(['0.pattern']);
  });

  it('refuses template tokens that are not field paths, and unclosed ones', () => {
    const ok = (template: string) => transformsSchema.safeParse([{ field: 'name', op: 'template', template }]).success;
    expect(ok('{{artist}} - {{ meta.label }}')).toBe(true);
    expect(ok('{{artist.toUpperCase()}}')).toBe(false);
    expect(ok('{{a + b}}')).toBe(false);
    expect(ok('{{artist')).toBe(false);
  });

  it('accepts any map key (stored as JSON text), dots and dollars included', () => {
    const [t] = transformsSchema.parse([{ field: 'genre', op: 'map', values: { 'a.b': 1, $x: null, constructor: 'c' } }]);
    expect(t).toMatchObject({ values: { 'a.b': 1, $x: null, constructor: 'c' } });
  });
});

describe('inbound transforms', () => {
  it('trim, lowercase, uppercase act on strings and leave other values alone', () => {
    const transforms = [
      { field: 'name', op: 'trim' },
      { field: 'artist', op: 'uppercase' },
      { field: 'genre', op: 'lowercase' },
      { field: 'durationSec', op: 'trim' },
    ];
    expect(dataOf(transforms, { name: '  Hey  ', artist: 'Abba', genre: 'ROCK', durationSec: 10 })).toEqual({
      name: 'Hey',
      artist: 'ABBA',
      genre: 'rock',
      durationSec: 10,
    });
  });

  it('run before the type checks, so they can repair the third party shapes', () => {
    expect(dataOf([{ field: 'durationSec', op: 'toNumber' }], { durationSec: ' 1.50 ' })).toEqual({ durationSec: 1.5 });
    expect(dataOf([{ field: 'tags', op: 'split', separator: ',' }], { tags: 'a,b' })).toEqual({ tags: ['a', 'b'] });
    expect(dataOf([{ field: 'name', op: 'join', separator: ' / ' }], { name: ['a', 1, true] })).toEqual({ name: 'a / 1 / true' });
  });

  it('default fills missing and null values only', () => {
    const transforms = [{ field: 'genre', op: 'default', value: 'Unknown' }, { field: 'tags', op: 'default', value: [] }];
    expect(dataOf(transforms, {})).toEqual({ genre: 'Unknown', tags: [] });
    expect(dataOf(transforms, { genre: null })).toEqual({ genre: 'Unknown', tags: [] });
    expect(dataOf(transforms, { genre: '' })).toEqual({ genre: '', tags: [] });
  });

  it('default satisfies required', () => {
    const required = mappingsSchema.parse({ externalId: { type: 'string', source: 'id' }, genre: { type: 'string', required: true } });
    const mapping = compileMapping(required, transformsSchema.parse([{ field: 'genre', op: 'default', value: 'none' }]));
    expect(mapping.toItem({ id: '1' })).toEqual({ ok: true, externalId: '1', data: { genre: 'none' } });
  });

  it('replace: literal replaces every occurrence, without $ patterns', () => {
    expect(dataOf([{ field: 'name', op: 'replace', pattern: '.', replacement: '$&-' }], { name: 'a.b.c' })).toEqual({ name: 'a$&-b$&-c' });
  });

  it('replace: regex with flags and groups', () => {
    const feat = { field: 'name', op: 'replace', pattern: '\\s*\\(feat\\. ([^)]*)\\)', replacement: ' with $1', regex: true, flags: 'gi' };
    expect(dataOf([feat], { name: 'Song (FEAT. Someone)' })).toEqual({ name: 'Song with Someone' });
    const first = { field: 'name', op: 'replace', pattern: 'a', replacement: 'b', regex: true };
    expect(dataOf([first], { name: 'aaa' })).toEqual({ name: 'baa' });
  });

  it('replace: refuses to run a regex on a very long value', () => {
    const t = { field: 'name', op: 'replace', pattern: 'a', replacement: 'b', regex: true };
    expect(errorsOf([t], { name: 'x'.repeat(10_001) })).toEqual([{ path: 'name', message: 'replace: value longer than 10000 characters' }]);
  });

  it('replace: named groups, $& and $$ mean what they mean in String.prototype.replace', () => {
    const t = { field: 'name', op: 'replace', pattern: '(?<year>\\d{4})', replacement: '[$<year>] $& $$', regex: true, flags: 'g' };
    expect(dataOf([t], { name: 'in 1999' })).toEqual({ name: 'in [1999] 1999 $' });
  });

  // Finding: `a*a*b` took cubic time in V8's backtracking engine (3,000 characters froze a worker for
  // 10 s). In RE2 the time grows linearly with the value: 4x the input costs about 4x the time
  // (quadratic would be 16x, cubic 64x). Ratios, not absolute times, and each size timed several times.
  it.each(['a*a*b', 'a*a*[^a]', '(a|aa)*c', '(\\w+\\s?)*$', '\\s*$'])('replace: %s takes time linear in the value length', (pattern) => {
    const mapping = compile([{ field: 'name', op: 'replace', pattern, replacement: 'x', regex: true, flags: 'g' }]);
    const cost = (n: number): number => {
      const record = { id: '1', name: 'a'.repeat(n) + '!' };
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < 20; i++) mapping.toItem(record);
        best = Math.min(best, Number(process.hrtime.bigint() - started));
      }
      return best;
    };
    cost(2_500); // warm up the compiler
    const small = cost(2_500);
    const large = cost(10_000);
    expect(large / small).toBeLessThan(10);
  }, 20_000);

  it('split: empty string to no elements, empty separator to characters; join: inverse', () => {
    expect(dataOf([{ field: 'tags', op: 'split', separator: ',' }], { tags: '' })).toEqual({ tags: [] });
    expect(dataOf([{ field: 'tags', op: 'split', separator: '' }], { tags: 'a😀b' })).toEqual({ tags: ['a', '😀', 'b'] });
    expect(dataOf([{ field: 'tags', op: 'split', separator: ',' }], { tags: ['x'] })).toEqual({ tags: ['x'] });
    expect(errorsOf([{ field: 'tags', op: 'split', separator: ',' }], { tags: 5 })).toEqual([{ path: 'tags', message: 'split: expects a string, got number 5' }]);
    expect(errorsOf([{ field: 'name', op: 'join', separator: ',' }], { name: ['a', { b: 1 }] })).toEqual([
      { path: 'name.1', message: 'join: only scalar elements can be joined' },
    ]);
  });

  it('toNumber, toString, toBoolean convert, element-wise on arrays, and report what they cannot', () => {
    expect(dataOf([{ field: 'durationSec', op: 'toNumber' }], { durationSec: '0x10' })).toEqual({ durationSec: 16 });
    expect(errorsOf([{ field: 'durationSec', op: 'toNumber' }], { durationSec: 'abc' })).toEqual([
      { path: 'durationSec', message: 'toNumber: cannot read a number from "abc"' },
    ]);
    expect(errorsOf([{ field: 'durationSec', op: 'toNumber' }], { durationSec: '' })).toHaveLength(1);
    expect(dataOf([{ field: 'name', op: 'toString' }], { name: 12.5 })).toEqual({ name: '12.5' });
    expect(errorsOf([{ field: 'name', op: 'toString' }], { name: { a: 1 } })).toEqual([{ path: 'name', message: 'toString: cannot make a string of an object' }]);
    for (const [input, expected] of [['Yes', true], [' off ', false], [1, true], [0, false], ['TRUE', true]] as const) {
      expect(dataOf([{ field: 'explicit', op: 'toBoolean' }], { explicit: input })).toEqual({ explicit: expected });
    }
    expect(errorsOf([{ field: 'explicit', op: 'toBoolean' }], { explicit: 'maybe' })).toHaveLength(1);
    expect(dataOf([{ field: 'tags', op: 'toString' }], { tags: [1, true, 'x'] })).toEqual({ tags: ['1', 'true', 'x'] });
    expect(errorsOf([{ field: 'tags', op: 'toString' }], { tags: ['a', {}] })).toEqual([{ path: 'tags.1', message: 'toString: cannot make a string of an object' }]);
  });

  it('toDate writes ISO-8601 UTC from ISO dates, date-times with offsets and epoch time', () => {
    const date = (value: unknown, unit?: 's') => dataOf([{ field: 'releasedAt', op: 'toDate', ...(unit ? { unit } : {}) }], { releasedAt: value });
    expect(date('2017-01-06')).toEqual({ releasedAt: '2017-01-06T00:00:00.000Z' });
    expect(date('2017-01-06T10:20:30')).toEqual({ releasedAt: '2017-01-06T10:20:30.000Z' });
    expect(date('2017-01-06T10:20:30.5+02:00')).toEqual({ releasedAt: '2017-01-06T08:20:30.500Z' });
    expect(date(0)).toEqual({ releasedAt: '1970-01-01T00:00:00.000Z' });
    expect(date('1700000000', 's')).toEqual({ releasedAt: '2023-11-14T22:13:20.000Z' });
    for (const bad of ['2024-02-30', '2024-13-01', 'yesterday', '6 Jan 2017', 1e20, true]) {
      expect(errorsOf([{ field: 'releasedAt', op: 'toDate' }], { releasedAt: bad })).toEqual([
        { path: 'releasedAt', message: expect.stringMatching(/^toDate: .* is not a date$/) },
      ]);
    }
  });

  it('map looks values up, with a default for the others; without one they pass', () => {
    const t = { field: 'genre', op: 'map', values: { '1': 'rock', '2': 'pop', constructor: 'ctor', none: null }, default: 'other' };
    expect(dataOf([t], { genre: 1 })).toEqual({ genre: 'rock' });
    expect(dataOf([t], { genre: '2' })).toEqual({ genre: 'pop' });
    expect(dataOf([t], { genre: '9' })).toEqual({ genre: 'other' });
    expect(dataOf([t], { genre: 'toString' })).toEqual({ genre: 'other' });
    expect(dataOf([t], { genre: 'constructor' })).toEqual({ genre: 'ctor' });
    expect(dataOf([t], { genre: 'none' })).toEqual({});
    const { default: _d, ...noDefault } = t;
    expect(dataOf([noDefault], { genre: 'jazz' })).toEqual({ genre: 'jazz' });
    expect(dataOf([{ field: 'tags', op: 'map', values: { a: 'A' } }], { tags: ['a', 'b'] })).toEqual({ tags: ['A', 'b'] });
  });

  it('template substitutes our fields (after the earlier transforms), missing ones as empty text', () => {
    const transforms = [
      { field: 'artist', op: 'trim' },
      { field: 'name', op: 'template', template: '{{artist}} - {{ name }} ({{meta.year}}){{genre}}' },
    ];
    expect(dataOf(transforms, { artist: ' Abba ', name: 'SOS', meta: { year: 1975 } })).toEqual({
      artist: 'Abba',
      name: 'Abba - SOS (1975)',
      meta: { year: 1975 },
    });
    expect(errorsOf([{ field: 'name', op: 'template', template: '{{tags}}' }], { tags: ['a'] })).toEqual([
      { path: 'name', message: 'template: {{tags}} is not a scalar value' },
    ]);
  });

  it('reach into objects and into every element of an array', () => {
    const transforms = [
      { field: 'meta.label', op: 'uppercase' },
      { field: 'tracks.title', op: 'trim' },
      { field: 'tracks.n', op: 'toNumber' },
    ];
    expect(dataOf(transforms, { meta: { label: 'emi' }, tracks: [{ title: ' a ', n: '1' }, { title: 'b ' }] })).toEqual({
      meta: { label: 'EMI' },
      tracks: [{ title: 'a', n: 1 }, { title: 'b' }],
    });
    expect(errorsOf(transforms, { tracks: [{ n: '1' }, { n: 'x' }] })).toEqual([{ path: 'tracks.1.n', message: 'toNumber: cannot read a number from "x"' }]);
  });

  it('a failed transform is reported once, not again as a type error', () => {
    expect(errorsOf([{ field: 'durationSec', op: 'toNumber' }, { field: 'durationSec', op: 'trim' }], { durationSec: 'abc' })).toHaveLength(1);
  });

  it('apply in order', () => {
    const a = [{ field: 'name', op: 'default', value: 'x' }, { field: 'name', op: 'uppercase' }];
    const b = [{ field: 'name', op: 'uppercase' }, { field: 'name', op: 'replace', pattern: 'X', replacement: 'y' }];
    expect(dataOf(a, {})).toEqual({ name: 'X' });
    expect(dataOf(b, { name: 'x' })).toEqual({ name: 'y' });
  });

  it('never change the third party record', () => {
    const record = { id: '1', name: ' a ', meta: { label: 'x' }, tracks: [{ title: ' t ' }], tags: 'a,b' };
    const before = JSON.stringify(record);
    compile([
      { field: 'name', op: 'trim' },
      { field: 'meta.label', op: 'uppercase' },
      { field: 'tracks.title', op: 'trim' },
      { field: 'tags', op: 'split', separator: ',' },
    ]).toItem(record);
    expect(JSON.stringify(record)).toBe(before);
  });

  it('shape the externalId too, and externalIdOf agrees with toItem', () => {
    const mapping = compile([{ field: 'externalId', op: 'template', template: '{{artist}}:{{name}}' }]);
    expect(mapping.toItem({ artist: 'A', name: 'N' })).toMatchObject({ ok: true, externalId: 'A:N' });
    expect(mapping.externalIdOf({ artist: 'A', name: 'N' })).toBe('A:N');
    const trimmed = compile([{ field: 'externalId', op: 'trim' }]);
    expect(trimmed.externalIdOf({ id: ' 7 ' })).toBe('7');
  });

  it('outbound-only transforms do not run inbound', () => {
    expect(dataOf([{ field: 'name', op: 'uppercase', direction: 'outbound' }], { name: 'a' })).toEqual({ name: 'a' });
  });
});

describe('outbound transforms (toRecord)', () => {
  it('run outbound and both, not inbound, and leave the item untouched', () => {
    const mapping = compile([
      { field: 'name', op: 'uppercase', direction: 'outbound' },
      { field: 'artist', op: 'trim', direction: 'both' },
      { field: 'genre', op: 'lowercase' },
      { field: 'tracks.title', op: 'uppercase', direction: 'outbound' },
    ]);
    const item = { externalId: '1', data: { name: 'a', artist: ' b ', genre: 'ROCK', tracks: [{ title: 't' }] } };
    const before = JSON.stringify(item);
    expect(mapping.toRecord(item)).toEqual({ id: '1', name: 'A', artist: 'b', genre: 'ROCK', tracks: [{ title: 'T' }] });
    expect(JSON.stringify(item)).toBe(before);
  });

  it('a failing outbound op leaves the value as it is', () => {
    const mapping = compile([{ field: 'name', op: 'toNumber', direction: 'outbound' }]);
    expect(mapping.toRecord({ externalId: '1', data: { name: 'abc' } })).toEqual({ id: '1', name: 'abc' });
  });

  it('a pair of inverse ops round-trips: toNumber in, toString out', () => {
    const mapping = compile([
      { field: 'durationSec', op: 'toNumber' },
      { field: 'durationSec', op: 'toString', direction: 'outbound' },
      { field: 'name', op: 'join', separator: ';' },
      { field: 'name', op: 'split', separator: ';', direction: 'outbound' },
    ]);
    const item = { externalId: '1', data: { durationSec: 215, name: 'a;b' } };
    expect(mapping.toRecord(item)).toEqual({ id: '1', durationSec: '215', name: ['a', 'b'] });
    expect(mapping.toItem(mapping.toRecord(item))).toEqual({ ok: true, ...item });
    expect(mapping.reversible).toBe(true);
  });
});

describe('reversible', () => {
  const reversible = (transforms: unknown[]) => compile(transforms).reversible;

  it('is true without transforms and with ops that cannot change a value of the field type', () => {
    expect(reversible([])).toBe(true);
    expect(reversible([{ field: 'durationSec', op: 'toNumber' }])).toBe(true);
    expect(reversible([{ field: 'name', op: 'toString', direction: 'both' }])).toBe(true);
    expect(reversible([{ field: 'explicit', op: 'toString', direction: 'outbound' }, { field: 'explicit', op: 'toBoolean' }])).toBe(true);
    expect(reversible([{ field: 'durationSec', op: 'trim' }])).toBe(true);
    expect(reversible([{ field: 'tags', op: 'toString' }])).toBe(true);
    expect(reversible([{ field: 'durationSec', op: 'toString', direction: 'outbound' }])).toBe(true);
  });

  it('is false with ops that lose information', () => {
    expect(reversible([{ field: 'name', op: 'lowercase' }])).toBe(false);
    expect(reversible([{ field: 'name', op: 'trim', direction: 'both' }])).toBe(false);
    expect(reversible([{ field: 'name', op: 'template', template: '{{artist}}' }])).toBe(false);
    expect(reversible([{ field: 'genre', op: 'map', values: { a: 'b' } }])).toBe(false);
    expect(reversible([{ field: 'genre', op: 'default', value: 'x' }])).toBe(false);
    expect(reversible([{ field: 'tags', op: 'split', separator: ',' }, { field: 'tags', op: 'join', separator: ',', direction: 'outbound' }])).toBe(false);
    expect(reversible([{ field: 'releasedAt', op: 'toDate' }])).toBe(false);
    expect(reversible([{ field: 'durationSec', op: 'toString', direction: 'outbound' }, { field: 'durationSec', op: 'uppercase' }])).toBe(false);
  });

  it('still lets toRecord work (best effort) when false', () => {
    const mapping = compile([{ field: 'name', op: 'lowercase' }]);
    expect(mapping.toRecord({ externalId: '1', data: { name: 'AB' } })).toEqual({ id: '1', name: 'AB' });
  });
});

describe('checkTransforms', () => {
  const check = (transforms: unknown[]) => checkTransforms(mappings, transformsSchema.parse(transforms) as Transform[]);

  it('accepts transforms on mapped fields, nested and through arrays', () => {
    expect(check([{ field: 'meta.label', op: 'trim' }, { field: 'tracks.title', op: 'trim' }, { field: 'name', op: 'template', template: '{{artist}} {{meta.year}}' }])).toEqual([]);
  });

  it('reports unmapped fields and bad template fields by path; compileMapping ignores them', () => {
    const transforms = [
      { field: 'name', op: 'trim' },
      { field: 'nope', op: 'trim' },
      { field: 'name.x', op: 'trim' },
      { field: 'name', op: 'template', template: '{{tracks.title}}{{nope}}{{meta}}' },
    ];
    expect(check(transforms)).toEqual([
      { path: 'transforms.1.field', message: '`nope` is not a mapped field' },
      { path: 'transforms.2.field', message: '`name.x` is not a mapped field' },
      { path: 'transforms.3.template', message: '{{tracks.title}} goes through an array' },
      { path: 'transforms.3.template', message: '{{nope}} is not a mapped field' },
      { path: 'transforms.3.template', message: '{{meta}} is not a scalar field' },
    ]);
    expect(compile(transforms.slice(0, 3)).toItem({ id: '1', name: ' a ', nope: ' b ' })).toEqual({ ok: true, externalId: '1', data: { name: 'a' } });
  });
});
