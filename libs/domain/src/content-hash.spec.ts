import { contentHash } from './content-hash';

describe('contentHash', () => {
  it('ignores key order at every level', () => {
    const a = contentHash('1', { name: 'x', meta: { b: 1, a: [1, { d: 2, c: 3 }] } });
    const b = contentHash('1', { meta: { a: [1, { c: 3, d: 2 }], b: 1 }, name: 'x' });
    expect(a).toBe(b);
  });

  it('differs when a value, the externalId or array order differs', () => {
    const base = contentHash('1', { name: 'x', tags: ['a', 'b'] });
    expect(contentHash('1', { name: 'y', tags: ['a', 'b'] })).not.toBe(base);
    expect(contentHash('2', { name: 'x', tags: ['a', 'b'] })).not.toBe(base);
    expect(contentHash('1', { name: 'x', tags: ['b', 'a'] })).not.toBe(base);
  });

  it('treats an undefined field as absent', () => {
    expect(contentHash('1', { name: 'x', album: undefined })).toBe(contentHash('1', { name: 'x' }));
  });
});
