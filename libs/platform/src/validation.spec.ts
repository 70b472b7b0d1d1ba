import { z } from 'zod';
import { detailsFromZod, jsonDepth, nulCharacterPath, parseInput } from './validation';

describe('jsonDepth', () => {
  it('counts scalars as depth 0 and each object or array level as one', () => {
    expect(jsonDepth('text', 10)).toBe(0);
    expect(jsonDepth(null, 10)).toBe(0);
    expect(jsonDepth({}, 10)).toBe(1);
    expect(jsonDepth([1, 2, 3], 10)).toBe(1);
    expect(jsonDepth({ a: { b: [{ c: 1 }] } }, 10)).toBe(4);
  });

  it('reports the deepest branch, not the first', () => {
    expect(jsonDepth({ shallow: 1, deep: { a: { b: { c: {} } } } }, 10)).toBe(5);
    expect(jsonDepth([[], [[[]]]], 10)).toBe(4);
  });

  it('stops as soon as the limit is passed (a hostile body costs at most the limit)', () => {
    let value: unknown = {};
    for (let i = 0; i < 100000; i++) value = [value];
    expect(jsonDepth(value, 32)).toBe(33);
  });
});

describe('parseInput', () => {
  const schema = z.object({ email: z.string().email(), password: z.string().min(8) });

  it('returns the parsed value', () => {
    const result = parseInput(schema, { email: 'a@b.co', password: '12345678', extra: true });
    expect(result.isOk()).toBe(true);
    expect(result.unwrap()).toEqual({ email: 'a@b.co', password: '12345678' });
  });

  it('returns VALIDATION_FAILED with one detail per offending path', () => {
    const result = parseInput(schema, { email: 'nope', password: 'short' }, 'Sign-up');
    const error = result.unwrapErr();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toBe('Sign-up validation failed');
    expect(error.details?.map((d) => d.path).sort()).toEqual(['email', 'password']);
  });

  it('names the root when the whole input is wrong', () => {
    const parsed = schema.safeParse('not an object');
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(detailsFromZod(parsed.error)).toEqual([{ path: '(root)', message: expect.any(String) }]);
  });

  it('joins nested paths with dots', () => {
    const nested = z.object({ mappings: z.record(z.string(), z.object({ type: z.enum(['string', 'number']) })) });
    const error = parseInput(nested, { mappings: { album: { type: 'date' } } }).unwrapErr();
    expect(error.details).toEqual([{ path: 'mappings.album.type', message: expect.any(String) }]);
  });
});

describe('nulCharacterPath', () => {
  it('finds U+0000 in a string or a key at any depth and names its path', () => {
    expect(nulCharacterPath('a\u0000b')).toBe('(root)');
    expect(nulCharacterPath({ name: 'ok', label: { title: 'x\u0000' } })).toBe('label.title');
    expect(nulCharacterPath({ tags: ['a', 'b\u0000'] })).toBe('tags.1');
    expect(nulCharacterPath({ data: { 'k\u0000': 1 } })).toBe('data.k\u0000');
  });

  it('passes text without it, including other control characters and lone surrogates', () => {
    expect(nulCharacterPath({ a: '\u0001\u001f', b: '\ud800', c: [1, null, true, { d: '%00' }] })).toBeUndefined();
    expect(nulCharacterPath(null)).toBeUndefined();
  });
});
