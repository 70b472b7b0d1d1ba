import { mappingsSchema, type Mappings } from '@music/domain';
import { compileMapping, type MapOutcome } from './index';
import { LOOSE_ORGANIZATION_BODY } from '@music/testing';

/** Mappings as users write them (`"required": "true"` strings included). */
const mappingsOf = (input: unknown): Mappings => mappingsSchema.parse(input);

const withId = (fields: Record<string, unknown>): Mappings =>
  mappingsOf({ externalId: { type: 'string', source: 'id', required: true }, ...fields });

const dataOf = (outcome: MapOutcome): Record<string, unknown> => {
  if (!outcome.ok) throw new Error(`expected ok, got ${JSON.stringify(outcome.errors)}`);
  return outcome.data;
};
const errorsOf = (outcome: MapOutcome) => (outcome.ok ? [] : outcome.errors);

describe('compileMapping: the walkthrough organization', () => {
  // The organization of the original walkthrough, verbatim.
  const brief = mappingsOf(LOOSE_ORGANIZATION_BODY.mappings);
  const song = {
    id: '8d1c5a0e-3b7f-4a59-9f55-2d1f0f0c6a11',
    name: 'Shape of You',
    artist: 'Ed Sheeran',
    album: 'Divide',
    genre: 'Pop',
    durationSec: 233,
    releasedAt: '2017-01-06',
  };

  it('maps a faker song to our item, keeping only the mapped fields', () => {
    const outcome = compileMapping(brief).toItem(song);
    expect(outcome).toEqual({
      ok: true,
      externalId: song.id,
      data: { name: 'Shape of You', artist: 'Ed Sheeran', album: 'Divide' },
    });
  });

  it('treats "required": "true" as required', () => {
    const { album: _album, ...withoutAlbum } = song;
    expect(errorsOf(compileMapping(brief).toItem(withoutAlbum))).toEqual([{ path: 'album', message: 'is required' }]);
  });

  it('writes an item back in the third party shape', () => {
    const record = compileMapping(brief).toRecord({ externalId: 'x1', data: { name: 'N', artist: 'A', album: 'B' } });
    expect(record).toEqual({ id: 'x1', name: 'N', artist: 'A', album: 'B' });
  });

  it('is reversible', () => {
    expect(compileMapping(brief).reversible).toBe(true);
  });
});

describe('compileMapping: types and coercions', () => {
  const one = (type: string) => compileMapping(withId({ v: { type, source: 'v' } }));
  const mapV = (type: string, v: unknown) => one(type).toItem({ id: '1', v });

  it.each([
    ['string', 'abc', 'abc'],
    ['string', '', ''],
    ['string', 42, '42'],
    ['string', -1.5, '-1.5'],
    ['string', true, 'true'],
    ['number', 42, 42],
    ['number', '42', 42],
    ['number', ' -1.5 ', -1.5],
    ['number', '1e+21', 1e21],
    ['number', -0, 0],
    ['boolean', true, true],
    ['boolean', 'false', false],
  ])('%s accepts %j as %j', (type, input, expected) => {
    expect(dataOf(mapV(type, input))).toEqual({ v: expected });
  });

  it.each([
    ['string', {}],
    ['string', [1]],
    ['string', Number.NaN],
    ['string', Number.POSITIVE_INFINITY],
    ['number', 'abc'],
    ['number', ''],
    ['number', '1.50'],
    ['number', '007'],
    ['number', '0x10'],
    ['number', 'Infinity'],
    ['number', Number.NaN],
    ['number', Number.NEGATIVE_INFINITY],
    ['number', true],
    ['number', {}],
    ['boolean', 'TRUE'],
    ['boolean', 'yes'],
    ['boolean', 1],
    ['boolean', 0],
    ['boolean', []],
    ['object', 'x'],
    ['object', [1]],
  ])('%s refuses %p', (type, input) => {
    const mapping =
      type === 'object'
        ? compileMapping(withId({ v: { type: 'object', source: 'v', properties: { a: { type: 'string' } } } }))
        : one(type);
    const errors = errorsOf(mapping.toItem({ id: '1', v: input }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: 'v', message: expect.stringMatching(/^expected an? /) });
  });

  it('refuses a non-array for an array field', () => {
    const mapping = compileMapping(withId({ v: { type: 'array', items: { type: 'string' } } }));
    expect(errorsOf(mapping.toItem({ id: '1', v: 'a,b' }))).toEqual([{ path: 'v', message: 'expected an array, got string "a,b"' }]);
  });

  it('never outputs NaN or Infinity', () => {
    const mapping = one('number');
    for (const v of [Number.NaN, Infinity, -Infinity, '1e400', 'NaN']) {
      expect(mapping.toItem({ id: '1', v }).ok).toBe(false);
    }
  });
});

describe('compileMapping: externalId', () => {
  it('is always a string: a number id 42 comes out as "42"', () => {
    const mapping = compileMapping(mappingsOf({ externalId: { type: 'number', source: 'id' } }));
    expect(mapping.toItem({ id: 42 })).toEqual({ ok: true, externalId: '42', data: {} });
    expect(mapping.toItem({ id: '42' })).toEqual({ ok: true, externalId: '42', data: {} });
    expect(mapping.externalIdOf({ id: 42 })).toBe('42');
  });

  it('goes back as a number when the mapping says number', () => {
    const mapping = compileMapping(mappingsOf({ externalId: { type: 'number', source: 'id' } }));
    expect(mapping.toRecord({ externalId: '42', data: {} })).toEqual({ id: 42 });
  });

  it('is required even when the mapping does not say so, and not empty', () => {
    const mapping = compileMapping(mappingsOf({ externalId: { type: 'string', source: 'id' } }));
    expect(errorsOf(mapping.toItem({}))).toEqual([{ path: 'externalId', message: 'is required' }]);
    expect(errorsOf(mapping.toItem({ id: '' }))).toEqual([{ path: 'externalId', message: 'must not be empty' }]);
    expect(errorsOf(mapping.toItem({ id: {} }))).toEqual([{ path: 'externalId', message: 'expected a string, got an object' }]);
  });

  it('is reported with the errors of an invalid record when it could be read', () => {
    const mapping = compileMapping(withId({ name: { type: 'string', required: true } }));
    expect(mapping.toItem({ id: 7 })).toEqual({ ok: false, externalId: '7', errors: [{ path: 'name', message: 'is required' }] });
  });

  it('externalIdOf reads a partial body (a DELETE webhook)', () => {
    const mapping = compileMapping(withId({ name: { type: 'string', required: true } }));
    expect(mapping.externalIdOf({ id: 'abc' })).toBe('abc');
    expect(mapping.externalIdOf({ name: 'x' })).toBeUndefined();
    expect(mapping.externalIdOf(null)).toBeUndefined();
    expect(mapping.externalIdOf('abc')).toBeUndefined();
  });
});

describe('compileMapping: paths, objects and arrays', () => {
  it('reads dot paths and defaults the source to the field name', () => {
    const mapping = compileMapping(
      withId({ label: { type: 'string', source: 'meta.label.name' }, genre: { type: 'string' }, first: { type: 'string', source: 'tracks.0' } }),
    );
    expect(dataOf(mapping.toItem({ id: '1', meta: { label: { name: 'L' } }, genre: 'Pop', tracks: ['t0', 't1'] }))).toEqual({
      label: 'L',
      genre: 'Pop',
      first: 't0',
    });
  });

  it('omits missing optional fields (null counts as missing) and never writes null', () => {
    const mapping = compileMapping(withId({ genre: { type: 'string' }, year: { type: 'number' } }));
    const data = dataOf(mapping.toItem({ id: '1', genre: null }));
    expect(data).toEqual({});
    expect('genre' in data).toBe(false);
  });

  it('maps nested properties, with their own sources and required flags', () => {
    const mapping = compileMapping(
      withId({
        meta: {
          type: 'object',
          source: 'info',
          required: true,
          properties: {
            label: { type: 'string', source: 'label.name', required: true },
            year: { type: 'number', source: 'y' },
            extra: { type: 'object', properties: { mood: { type: 'string' } } },
          },
        },
      }),
    );
    expect(dataOf(mapping.toItem({ id: '1', info: { label: { name: 'L' }, y: '1999', extra: { mood: 'calm', other: 1 } } }))).toEqual({
      meta: { label: 'L', year: 1999, extra: { mood: 'calm' } },
    });
    expect(errorsOf(mapping.toItem({ id: '1', info: { y: 'x' } }))).toEqual([
      { path: 'meta.label', message: 'is required' },
      { path: 'meta.year', message: 'expected a number, got string "x"' },
    ]);
    expect(errorsOf(mapping.toItem({ id: '1' }))).toEqual([{ path: 'meta', message: 'is required' }]);
  });

  it('maps arrays of scalars, with element paths in errors', () => {
    const mapping = compileMapping(withId({ tags: { type: 'array', items: { type: 'string' } }, scores: { type: 'array', items: { type: 'number' } } }));
    expect(dataOf(mapping.toItem({ id: '1', tags: ['a', 2, true], scores: ['1', 2] }))).toEqual({ tags: ['a', '2', 'true'], scores: [1, 2] });
    expect(errorsOf(mapping.toItem({ id: '1', tags: ['a', null, {}] }))).toEqual([
      { path: 'tags.1', message: 'is required (array elements cannot be empty)' },
      { path: 'tags.2', message: 'expected a string, got an object' },
    ]);
  });

  it('maps arrays of objects written as a record of properties (a record of properties)', () => {
    const mapping = compileMapping(
      withId({ tracks: { type: 'array', source: 'songs', items: { title: { type: 'string', source: 'name', required: true }, n: { type: 'number', source: 'no' } } } }),
    );
    expect(dataOf(mapping.toItem({ id: '1', songs: [{ name: 'a', no: 1 }, { name: 'b' }] }))).toEqual({ tracks: [{ title: 'a', n: 1 }, { title: 'b' }] });
    expect(errorsOf(mapping.toItem({ id: '1', songs: [{ name: 'a' }, { no: 'x' }, 'c'] }))).toEqual([
      { path: 'tracks.1.title', message: 'is required' },
      { path: 'tracks.1.n', message: 'expected a number, got string "x"' },
      { path: 'tracks.2', message: 'expected an object, got string "c"' },
    ]);
  });

  it('maps arrays whose items is one mapping, with a source inside each element', () => {
    const mapping = compileMapping(
      withId({
        titles: { type: 'array', source: 'tracks', items: { type: 'string', source: 'meta.title' } },
        tracks: { type: 'array', items: { type: 'object', properties: { title: { type: 'string', source: 'meta.title' } } } },
      }),
    );
    const record = { id: '1', tracks: [{ meta: { title: 'a' } }, { meta: { title: 'b' } }] };
    expect(dataOf(mapping.toItem(record))).toEqual({ titles: ['a', 'b'], tracks: [{ title: 'a' }, { title: 'b' }] });
  });

  it('writes nested objects and arrays back to their source paths', () => {
    const mapping = compileMapping(
      withId({
        label: { type: 'string', source: 'meta.label.name' },
        year: { type: 'number', source: 'meta.year' },
        first: { type: 'string', source: 'list.0' },
        second: { type: 'string', source: 'list.1' },
        tracks: { type: 'array', source: 'songs', items: { title: { type: 'string', source: 'name' } } },
        titles: { type: 'array', items: { type: 'string', source: 't' } },
      }),
    );
    const item = { externalId: '1', data: { label: 'L', year: 2001, first: 'a', second: 'b', tracks: [{ title: 'x' }], titles: ['p'] } };
    const record = mapping.toRecord(item);
    expect(record).toEqual({ id: '1', meta: { label: { name: 'L' }, year: 2001 }, list: ['a', 'b'], songs: [{ name: 'x' }], titles: [{ t: 'p' }] });
    expect(mapping.toItem(record)).toEqual({ ok: true, ...item });
  });

  it('toRecord ignores unmapped and inherited data', () => {
    const mapping = compileMapping(withId({ name: { type: 'string' }, constructor: { type: 'string' } }));
    expect(mapping.toRecord({ externalId: '1', data: { name: 'n', other: 'x' } })).toEqual({ id: '1', name: 'n' });
  });
});

describe('compileMapping: hostile input', () => {
  const mapping = compileMapping(
    withId({
      name: { type: 'string', source: 'constructor' },
      proto: { type: 'string', source: '__proto__.polluted' },
      toStr: { type: 'string', source: 'a.toString' },
      meta: { type: 'object', source: 'm', properties: { x: { type: 'string', source: '__proto__' } } },
    }),
  );

  it('never reads inherited properties (constructor, __proto__, toString)', () => {
    expect(mapping.toItem({ id: '1', a: {} })).toEqual({ ok: true, externalId: '1', data: {} });
  });

  it('reads an own __proto__ key of a parsed JSON body, and writes it back as a plain key', () => {
    const json = '{"id":"1","__proto__":{"polluted":"yes"},"constructor":"c","m":{"__proto__":"y"}}';
    const outcome = mapping.toItem(JSON.parse(json));
    expect(outcome).toEqual({ ok: true, externalId: '1', data: { name: 'c', proto: 'yes', meta: { x: 'y' } } });
    const back = mapping.toRecord(outcome as { externalId: string; data: Record<string, unknown> });
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(back['m'])).toBe(Object.prototype);
    expect(JSON.stringify(back)).toBe('{"id":"1","constructor":"c","__proto__":{"polluted":"yes"},"m":{"__proto__":"y"}}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([[null], [undefined], [42], ['text'], [true], [[]], [[{ id: '1' }]]])('refuses a record that is not an object: %p', (record) => {
    expect(mapping.toItem(record)).toEqual({ ok: false, errors: [{ path: '', message: expect.stringContaining('expected an object record') }] });
  });

  it('reads a cyclic record: only mapped paths are followed', () => {
    const record: Record<string, unknown> = { id: '1', constructor: 'c' };
    record['self'] = record;
    expect(mapping.toItem(record)).toEqual({ ok: true, externalId: '1', data: { name: 'c' } });
  });

  it('does not throw on a throwing getter', () => {
    const record = { id: '1' };
    Object.defineProperty(record, 'constructor', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(mapping.toItem(record)).toEqual({ ok: false, errors: [{ path: '', message: 'the record could not be read' }] });
  });

  it('caps the errors of one record', () => {
    const many = compileMapping(withId({ n: { type: 'array', items: { type: 'number' } } }));
    expect(errorsOf(many.toItem({ id: '1', n: Array.from({ length: 1000 }, () => 'x') }))).toHaveLength(20);
  });

  it('refuses U+0000 in any string, the externalId included (the store cannot hold it)', () => {
    const nul = 'must not contain the NUL character (U+0000)';
    const withTags = compileMapping(withId({ name: { type: 'string', source: 'name' }, tags: { type: 'array', items: { type: 'string' } }, m: { type: 'object', properties: { t: { type: 'string' } } } }));
    expect(errorsOf(withTags.toItem({ id: '1', name: 'a\u0000b' }))).toEqual([{ path: 'name', message: nul }]);
    expect(errorsOf(withTags.toItem({ id: '1', tags: ['ok', 'x\u0000'] }))).toEqual([{ path: 'tags.1', message: nul }]);
    expect(errorsOf(withTags.toItem({ id: '1', m: { t: '\u0000' } }))).toEqual([{ path: 'm.t', message: nul }]);
    expect(errorsOf(withTags.toItem({ id: 'a\u0000' }))).toEqual([{ path: 'externalId', message: nul }]);
    expect(withTags.toItem({ id: '1', name: 'a\u0001b\ud800' })).toMatchObject({ ok: true });
  });
});

describe('compileMapping: configuration', () => {
  it('throws on mappings that fail their schema (a bug: the config service validates them)', () => {
    expect(() => compileMapping({ name: { type: 'string', required: false } } as Mappings)).toThrow(/externalId/);
  });

  it('is not reversible when two fields write the same source path', () => {
    expect(compileMapping(withId({ a: { type: 'string', source: 'x' }, b: { type: 'string', source: 'x' } })).reversible).toBe(false);
    expect(compileMapping(withId({ a: { type: 'string', source: 'x' }, b: { type: 'string', source: 'x.y' } })).reversible).toBe(false);
    expect(compileMapping(withId({ a: { type: 'string', source: 'x.y' }, b: { type: 'string', source: 'x.z' } })).reversible).toBe(true);
  });
});
