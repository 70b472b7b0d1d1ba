import { mappingsSchema } from '@music/domain';
import { mergeData, parseItemBody } from './item-schema';

const mappings = mappingsSchema.parse({
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string', source: 'name', required: true },
  artist: { type: 'string', source: 'artist', required: 'true' },
  album: { type: 'string', source: 'album', required: false },
  duration: { type: 'number', source: 'duration', required: false },
  explicit: { type: 'boolean', required: false },
  tags: { type: 'array', items: { type: 'string', required: false } },
  credits: { type: 'array', items: { role: { type: 'string', required: true }, who: { type: 'string', required: false } } },
  label: { type: 'object', properties: { name: { type: 'string', required: true }, year: { type: 'number', required: false } } },
});

function detailsOf(result: ReturnType<typeof parseItemBody>): Array<{ path: string; message: string }> {
  if (result.isOk()) throw new Error('expected a validation error');
  return result.unwrapErr().details ?? [];
}

describe('parseItemBody', () => {
  it('accepts every mapped field, nested ones included, and splits off externalId', () => {
    const result = parseItemBody(mappings, 'create', {
      externalId: 'e1',
      name: 'Song',
      artist: 'Someone',
      duration: 201,
      explicit: false,
      tags: ['a', 'b'],
      credits: [{ role: 'producer', who: 'X' }, { role: 'mix' }],
      label: { name: 'Label', year: 1999 },
    });
    expect(result.unwrap()).toEqual({
      externalId: 'e1',
      data: {
        name: 'Song',
        artist: 'Someone',
        duration: 201,
        explicit: false,
        tags: ['a', 'b'],
        credits: [{ role: 'producer', who: 'X' }, { role: 'mix' }],
        label: { name: 'Label', year: 1999 },
      },
    });
  });

  it('turns a numeric externalId into a string', () => {
    expect(parseItemBody(mappings, 'create', { externalId: 42, name: 'n', artist: 'a' }).unwrap().externalId).toBe('42');
  });

  it('names each unknown field, top-level and nested', () => {
    const details = detailsOf(parseItemBody(mappings, 'create', { externalId: 'e', name: 'n', artist: 'a', genre: 'x', label: { name: 'l', city: 'c' } }));
    expect(details.map((d) => d.path).sort()).toEqual(['genre', 'label.city']);
  });

  it('names missing required fields (the string "true" counts as required)', () => {
    const details = detailsOf(parseItemBody(mappings, 'create', { name: 'n' }));
    expect(details).toEqual(
      expect.arrayContaining([
        { path: 'externalId', message: 'Required' },
        { path: 'artist', message: 'Required' },
      ]),
    );
  });

  it('names fields of the wrong type, inside arrays too', () => {
    const details = detailsOf(parseItemBody(mappings, 'create', { externalId: 'e', name: 1, artist: 'a', tags: ['ok', 2], credits: [{ who: 'x' }] }));
    expect(details.map((d) => d.path).sort()).toEqual(['credits.0.role', 'name', 'tags.1']);
  });

  it('refuses bodies that are not objects, and externalIds that are empty or not scalars', () => {
    expect(detailsOf(parseItemBody(mappings, 'create', ['x']))[0]?.path).toBe('(root)');
    expect(detailsOf(parseItemBody(mappings, 'create', { externalId: '', name: 'n', artist: 'a' }))[0]?.path).toBe('externalId');
    expect(detailsOf(parseItemBody(mappings, 'create', { externalId: { id: 1 }, name: 'n', artist: 'a' }))[0]?.path).toBe('externalId');
  });

  it('replace needs the required fields but not externalId', () => {
    expect(parseItemBody(mappings, 'replace', { name: 'n', artist: 'a' }).unwrap()).toEqual({ data: { name: 'n', artist: 'a' } });
    expect(detailsOf(parseItemBody(mappings, 'replace', { name: 'n' })).map((d) => d.path)).toEqual(['artist']);
  });

  it('merge makes every field optional; null may clear optional fields only', () => {
    expect(parseItemBody(mappings, 'merge', { album: null }).unwrap()).toEqual({ data: { album: null } });
    expect(detailsOf(parseItemBody(mappings, 'merge', { name: null })).map((d) => d.path)).toEqual(['name']);
    expect(detailsOf(parseItemBody(mappings, 'merge', { nope: 1 })).map((d) => d.path)).toEqual(['nope']);
  });
});

describe('mergeData', () => {
  it('replaces present fields, removes null ones and keeps the rest', () => {
    expect(mergeData({ name: 'a', album: 'b', tags: ['x'] }, { name: 'c', album: null })).toEqual({ name: 'c', tags: ['x'] });
  });
});
