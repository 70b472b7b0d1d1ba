import { ExternalIdSet } from './external-id-set';

// The run's set of seen externalIds must answer exactly as a Set<string> would: a false `has` would
// delete an item still listed, a false positive would keep one that vanished.

/** A small deterministic generator (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ExternalIdSet', () => {
  it('adds, finds and deletes ids, and counts the ones it holds', () => {
    const set = new ExternalIdSet();
    expect(set.add('ext-1')).toBe(true);
    expect(set.add('ext-2')).toBe(true);
    expect(set.add('ext-1')).toBe(false);
    expect(set.size).toBe(2);
    expect(set.has('ext-1')).toBe(true);
    expect(set.has('ext-3')).toBe(false);
    // A prefix, an extension and a different case are other ids.
    expect(set.has('ext-')).toBe(false);
    expect(set.has('ext-10')).toBe(false);
    expect(set.has('EXT-1')).toBe(false);
    expect(set.delete('ext-1')).toBe(true);
    expect(set.delete('ext-1')).toBe(false);
    expect(set.has('ext-1')).toBe(false);
    expect(set.has('ext-2')).toBe(true);
    expect(set.size).toBe(1);
    expect(set.add('ext-1')).toBe(true);
    expect(set.has('ext-1')).toBe(true);
    expect(set.size).toBe(2);
  });

  it('holds the empty string as an id of its own', () => {
    const first = new ExternalIdSet();
    expect(first.add('')).toBe(true);
    expect(first.has('')).toBe(true);
    const set = new ExternalIdSet({ chunkBytes: 4 });
    expect(set.has('')).toBe(false);
    set.add('abcd'); // fills the first chunk exactly
    expect(set.add('')).toBe(true);
    expect(set.has('')).toBe(true);
    expect(set.size).toBe(2);
    expect(set.delete('')).toBe(true);
    expect(set.has('')).toBe(false);
    expect(set.has('abcd')).toBe(true);
  });

  it('tells apart non-ASCII ids, including ones with the same UTF-16 length or lone surrogates', () => {
    const set = new ExternalIdSet();
    const ids = ['café', 'cafe\u0301', 'caf\u00e9!', '曲-1', '曲-2', '🎵', '🎶', 'a\u0000b', 'a\u0000c', '\uD800', '\uDBFF', '\uDC00', 'x\uD800y', 'x\uD83C\uDFB5'];
    for (const id of ids) expect(set.add(id)).toBe(true);
    expect(set.size).toBe(ids.length);
    for (const id of ids) expect(set.has(id)).toBe(true);
    // Every lone surrogate would encode as the same U+FFFD bytes: none may stand in for another.
    expect(set.has('\uDBFE')).toBe(false);
    expect(set.has('\uFFFD')).toBe(false);
    expect(set.has('x\uDFFFy')).toBe(false);
    expect(set.delete('\uD800')).toBe(true);
    expect(set.has('\uD800')).toBe(false);
    expect(set.has('\uDBFF')).toBe(true);
    expect(set.size).toBe(ids.length - 1);
  });

  it('grows its table, its entries and its chunks without losing an id, ids longer than a chunk included', () => {
    const set = new ExternalIdSet({ chunkBytes: 64 });
    const long = 'L'.repeat(200);
    const ids = Array.from({ length: 20_000 }, (_, i) => `ext-${i.toString(36)}-${'x'.repeat(i % 17)}`);
    ids.splice(5000, 0, long, `${long}!`);
    for (const id of ids) expect(set.add(id)).toBe(true);
    expect(set.size).toBe(ids.length);
    for (const id of ids) if (!set.has(id)) throw new Error(`lost ${id}`);
    expect(set.has(long.slice(1))).toBe(false);
    expect(set.has('ext-zzzz-')).toBe(false);
  });

  it('finds every id when all of them share one hash (collisions), across deletes and re-adds', () => {
    const set = new ExternalIdSet({ hash: () => 7 });
    const ids = Array.from({ length: 300 }, (_, i) => `ext-${i}`);
    for (const id of ids) set.add(id);
    for (let i = 0; i < ids.length; i += 3) expect(set.delete(ids[i] as string)).toBe(true);
    for (let i = 0; i < ids.length; i++) expect(set.has(ids[i] as string)).toBe(i % 3 !== 0);
    // An id after a deleted one in the probe run is still found, and one added again is not doubled.
    expect(set.add(ids[1] as string)).toBe(false);
    expect(set.add(ids[0] as string)).toBe(true);
    expect(set.size).toBe(ids.length - Math.ceil(ids.length / 3) + 1);
  });

  it.each([1, 2, 3, 4])('answers as a Set<string> over random adds, deletes and lookups (seed %i)', (seed) => {
    const next = random(seed);
    // Small pools so that ids recur; some collide on a poor hash, some are long, empty, or not ASCII.
    const pool = Array.from({ length: 400 }, (_, i) => {
      const kind = Math.floor(next() * 6);
      if (kind === 0) return '';
      if (kind === 1) return `ext-${i}-${'é'.repeat(Math.floor(next() * 5))}`;
      if (kind === 2) return `${String.fromCharCode(0xd800 + Math.floor(next() * 4))}${i % 7}`;
      if (kind === 3) return 'z'.repeat(Math.floor(next() * 90));
      return `ext-${Math.floor(next() * 500)}`;
    });
    const set = new ExternalIdSet({ chunkBytes: 128, ...(seed % 2 === 0 ? { hash: (b: Buffer, n: number) => (n > 0 ? (b[0] as number) & 3 : 0) } : {}) });
    const model = new Set<string>();
    for (let step = 0; step < 6000; step++) {
      const id = pool[Math.floor(next() * pool.length)] as string;
      const op = next();
      if (op < 0.5) {
        const fresh = !model.has(id);
        model.add(id);
        expect(set.add(id)).toBe(fresh);
      } else if (op < 0.7) expect(set.delete(id)).toBe(model.delete(id));
      else expect(set.has(id)).toBe(model.has(id));
      if (set.size !== model.size) throw new Error(`size ${set.size}, expected ${model.size} at step ${step}`);
    }
    for (const id of pool) expect(set.has(id)).toBe(model.has(id));
  });
});
