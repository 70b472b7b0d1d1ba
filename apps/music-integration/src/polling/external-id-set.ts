// The externalIds a poll run has seen, for its deletion pass and to notice a record listed twice.
// A `Set<string>` of a million ids like `ext-` plus 14 to 20 characters holds about 58 MB of V8's
// heap (a string object and a table entry per id), which the collector walks and a heap cap counts;
// this holds their UTF-8 bytes in shared buffers and three numbers per id, about 45 MB outside the
// heap (docs/performance.md, section 5). It is exact: the deletion pass skips an item whose id
// `has` answers true, so a false positive would be a lost delete.

/** Bytes per chunk of id text: large enough that the chunks' own overhead does not count. */
const CHUNK_BYTES = 1 << 20;
/** Table slots per id at most (the table doubles beyond it); free slots keep probe runs short. */
const MAX_LOAD = 0.7;
const EMPTY = 0;
const REMOVED = 0xffffffff;

// A lone surrogate (from a JSON `\ud800` escape, say) has no UTF-8 form: Buffer encodes every one
// as U+FFFD, so two different such ids would share bytes. They are kept as strings, apart.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** FNV-1a over bytes (32 bits). */
function fnv1a(bytes: Buffer, length: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

/**
 * An exact set of strings (add, has, delete, size) held as UTF-8 bytes: ids are appended to 1 MB
 * chunks, and an open-addressing table (linear probing) of entry numbers finds them. A deleted id's
 * bytes stay until the set is dropped; a run deletes few (only the ids of a page it prepares twice).
 * No iteration: the deletion pass only asks whether an id was seen.
 */
export class ExternalIdSet {
  private readonly chunkBytes: number;
  private readonly hashBytes: (bytes: Buffer, length: number) => number;
  private readonly chunks: Buffer[] = [];
  private chunkUsed = 0;
  /** Per entry (numbered from 1): where its bytes are (chunk index * chunk size + offset in it), their length, and their hash. */
  private starts = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private hashes = new Uint32Array(1024);
  private entries = 0;
  /** Entry numbers by hash (EMPTY, REMOVED, or an entry number). */
  private table = new Uint32Array(2048);
  private used = 0;
  private live = 0;
  private readonly unencodable = new Set<string>();
  private scratch = Buffer.allocUnsafe(256);

  /** The options are for tests: small chunks, and a poor hash to make ids collide. */
  constructor(options: { chunkBytes?: number; hash?: (bytes: Buffer, length: number) => number } = {}) {
    this.chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    this.hashBytes = options.hash ?? fnv1a;
  }

  get size(): number {
    return this.live + this.unencodable.size;
  }

  /** Adds the id; true when it was not there yet. */
  add(id: string): boolean {
    if (LONE_SURROGATE.test(id)) {
      const before = this.unencodable.size;
      this.unencodable.add(id);
      return this.unencodable.size > before;
    }
    const length = this.encode(id);
    const hash = this.hashBytes(this.scratch, length);
    const found = this.find(hash, length);
    if (found.entry !== 0) return false;
    const entry = this.append(length, hash);
    const slot = found.firstFree;
    if (this.table[slot] === EMPTY) this.used++;
    this.table[slot] = entry;
    this.live++;
    if (this.used > this.table.length * MAX_LOAD) this.rehash(this.live * 2 > this.table.length * MAX_LOAD ? this.table.length * 2 : this.table.length);
    return true;
  }

  has(id: string): boolean {
    if (LONE_SURROGATE.test(id)) return this.unencodable.has(id);
    const length = this.encode(id);
    return this.find(this.hashBytes(this.scratch, length), length).entry !== 0;
  }

  /** Removes the id; true when it was there. */
  delete(id: string): boolean {
    if (LONE_SURROGATE.test(id)) return this.unencodable.delete(id);
    const length = this.encode(id);
    const found = this.find(this.hashBytes(this.scratch, length), length);
    if (found.entry === 0) return false;
    // A tombstone, not an empty slot: ids placed after it in the probe run must still be found.
    this.table[found.slot] = REMOVED;
    this.live--;
    return true;
  }

  /** The id's UTF-8 bytes into the scratch buffer; returns their length. */
  private encode(id: string): number {
    const need = Buffer.byteLength(id, 'utf8');
    if (need > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(need, this.scratch.length * 2));
    return this.scratch.write(id, 0, 'utf8');
  }

  /** The entry holding the scratch bytes (0: none), its slot, and the first slot an add may use. */
  private find(hash: number, length: number): { entry: number; slot: number; firstFree: number } {
    const mask = this.table.length - 1;
    let firstFree = -1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot] as number;
      if (entry === EMPTY) return { entry: 0, slot, firstFree: firstFree === -1 ? slot : firstFree };
      if (entry === REMOVED) {
        if (firstFree === -1) firstFree = slot;
      } else if (this.hashes[entry] === hash && this.lengths[entry] === length && this.sameBytes(entry, length)) {
        return { entry, slot, firstFree: slot };
      }
    }
  }

  private sameBytes(entry: number, length: number): boolean {
    if (length === 0) return true;
    const at = this.starts[entry] as number;
    const chunk = this.chunks[Math.floor(at / this.chunkBytes)] as Buffer;
    const offset = at % this.chunkBytes;
    return this.scratch.compare(chunk, offset, offset + length, 0, length) === 0;
  }

  /** Stores the scratch bytes as a new entry; returns its number. */
  private append(length: number, hash: number): number {
    let at = 0;
    if (length > 0) {
      // An id longer than a chunk gets a chunk of its own, which is then full.
      if (this.chunks.length === 0 || this.chunkUsed + length > this.chunkBytes) {
        this.chunks.push(Buffer.allocUnsafe(Math.max(this.chunkBytes, length)));
        this.chunkUsed = 0;
      }
      const chunkIndex = this.chunks.length - 1;
      this.scratch.copy(this.chunks[chunkIndex] as Buffer, this.chunkUsed, 0, length);
      at = chunkIndex * this.chunkBytes + this.chunkUsed;
      this.chunkUsed += length;
    }
    const entry = ++this.entries;
    if (entry >= this.starts.length) this.growEntries();
    this.starts[entry] = at;
    this.lengths[entry] = length;
    this.hashes[entry] = hash;
    return entry;
  }

  private growEntries(): void {
    const capacity = this.starts.length * 2;
    const starts = new Float64Array(capacity);
    starts.set(this.starts);
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengths);
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes);
    this.starts = starts;
    this.lengths = lengths;
    this.hashes = hashes;
  }

  /** A new table of `capacity` slots holding the live entries (tombstones dropped). */
  private rehash(capacity: number): void {
    const old = this.table;
    const table = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (const entry of old) {
      if (entry === EMPTY || entry === REMOVED) continue;
      let slot = (this.hashes[entry] as number) & mask;
      while (table[slot] !== EMPTY) slot = (slot + 1) & mask;
      table[slot] = entry;
    }
    this.table = table;
    this.used = this.live;
  }
}
