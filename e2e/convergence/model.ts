// The reference model of the sync, written from docs/sync-model.md (the rules and the state table)
// and nothing else: it never imports engine code. Time is a logical clock: every event that the
// docs time on the store clock (a snapshot's start, an input webhook's acceptance, a delivery's
// acknowledgement, a tombstone made now) takes the next tick, in the order the commands make them
// happen. When the model and the system disagree, the model is right until the docs change.

/** The mapped fields of a song (the organization maps id/name/artist/album). */
export interface Fields {
  name: string;
  artist: string;
  album: string;
}

export function sameFields(a: Fields | null | undefined, b: Fields | null | undefined): boolean {
  if (!a || !b) return a === b;
  return a.name === b.name && a.artist === b.artist && a.album === b.album;
}

export const show = (f: Fields | null | undefined): string => (f ? `${f.name}/${f.artist}/${f.album}` : '-');

/** The states of the state table. */
export type State = 'absent' | 'synced' | 'pending' | 'diverged' | 'deleting' | 'delete-diverged' | 'gone';

/** An inbound change kept while a local change is unsettled or the item diverged (rules 3, 5). */
export interface Held {
  op: 'upsert' | 'delete';
  data: Fields | null;
  at: number;
  entries: string[];
}

/** One item on our side, as the docs describe it ("What each item remembers"). */
export interface Item {
  state: Exclude<State, 'absent'>;
  /** Our data (a tombstone keeps its last data). */
  data: Fields;
  fenceAt: number | null;
  held: Held | null;
  remoteKnown: boolean;
  /** Polling entries that may list the item. */
  seenBy: Set<string>;
  /** Output webhooks that still owe an answer for the current change, and those that gave up. */
  awaiting: Set<string>;
  gaveUp: Set<string>;
  acked: boolean;
}

/** An output webhook of the organization: `upsert` ones take creates and updates, `delete` ones deletes. */
export interface Output {
  name: string;
  kind: 'upsert' | 'delete';
  /** Answers every delivery with a 4xx that is not retried (the webhook gives up at once). */
  refusing: boolean;
}

/** A polling entry: the ids the third party lists at its endpoint. */
export interface Entry {
  name: string;
  lists: readonly string[];
}

/** An input webhook call the third party makes (or will make). */
export interface Message {
  id: string;
  method: 'POST' | 'DELETE';
  key: string;
  data: Fields | null;
}

export interface PollPrediction {
  status: 'succeeded' | 'attention';
  fetched: number;
  created: number;
  updated: number;
  deleted: number;
  conflicts: number;
  diverged: number;
  stale: number;
  unchanged: number;
  /** The items the delete guard kept (status attention). */
  kept: string[];
}

export type Outcome = 'created' | 'updated' | 'unchanged' | 'conflict' | 'diverged' | 'stale' | 'deleted' | 'absent';

const union = (a: Iterable<string>, b: Iterable<string>): Set<string> => new Set([...a, ...b]);

export class Model {
  /** Our side, by externalId; no entry = absent. */
  readonly items = new Map<string, Item>();
  /** The third party, by id, in its list order (a Map keeps insertion order, like the stub). */
  readonly remote = new Map<string, Fields>();
  readonly outputs: Output[] = [];
  readonly entries: Entry[] = [];
  twoWay = true;
  /** How the polling entries read the third party: at once, or page by page. */
  pagination: 'none' | 'page' | 'offset' | 'cursor' = 'none';
  /**
   * Incremental polling ("Incremental polling"): a run asks only for the records changed since the
   * highest `updatedAt` seen (inclusive), except the first and every `every`-th, which read the whole
   * list; only those track deletions.
   */
  incremental: { every: number } | null = null;
  /** The third party's `updatedAt` of a record (it stamps each of its writes). */
  stampOf: (key: string) => number = () => 0;
  /** Per entry: the highest `updatedAt` a complete walk read, and the runs since the last full one. */
  readonly cursors = new Map<string, { cursor: number | null; runsSinceFull: number; read: number | null }>();
  /** The organization was deleted (rule 8): nothing of it remains, nothing more is sent or polled. */
  deleted = false;
  /** The third party's /sync endpoints answer 503 (deliveries are retried until it is back). */
  down = false;
  downFor = 0;
  /** Input webhook calls sent late (delivered in any order, or never). */
  readonly delayed: Message[] = [];
  readonly acceptedMessageIds = new Set<string>();
  /** The local changes the API accepted that must reach the third party, as `key@n`. */
  accepted = 0;
  private clock = 0;
  private messages = 0;

  constructor(readonly deleteGuardRatio: number) {}

  tick(): number {
    return ++this.clock;
  }

  state(key: string): State {
    return this.items.get(key)?.state ?? 'absent';
  }

  // ---- local writes (the inventory API) -------------------------------------------------------------

  /** Rows 1, 24, 32, 33 (and one-way creates). Returns the status the API must answer. */
  localCreate(key: string, data: Fields): number {
    const item = this.items.get(key);
    if (item && (item.state === 'synced' || item.state === 'pending' || item.state === 'diverged')) return 409;
    if (!this.twoWay) {
      // One-way: written synced, origin local, nothing sent.
      this.items.set(key, { ...this.blank(data), ...(item ? { fenceAt: item.fenceAt, seenBy: item.seenBy, remoteKnown: false } : {}) });
      return 201;
    }
    const base = item ?? this.blank(data);
    this.items.set(key, { ...base, data: { ...data }, state: 'pending', awaiting: new Set(), gaveUp: new Set(), acked: false });
    this.accepted++;
    this.fanOut(key);
    return 201;
  }

  /** Rows 4, 5, 11, 19 (PUT replaces, PATCH merges; same content writes nothing). */
  localUpdate(key: string, change: Partial<Fields>): number {
    const item = this.items.get(key);
    if (!item || !(item.state === 'synced' || item.state === 'pending' || item.state === 'diverged')) return 404;
    const data = { ...item.data, ...change };
    if (sameFields(data, item.data)) return 200;
    if (!this.twoWay) {
      Object.assign(item, { data });
      return 200;
    }
    Object.assign(item, { data, state: 'pending', awaiting: new Set(), gaveUp: new Set(), acked: false });
    this.accepted++;
    this.fanOut(key);
    return 200;
  }

  /** Rows 6, 11, 19 (one-way: the document goes). */
  localDelete(key: string): number {
    const item = this.items.get(key);
    if (!item || !(item.state === 'synced' || item.state === 'pending' || item.state === 'diverged')) return 404;
    if (!this.twoWay) {
      this.items.delete(key);
      return 204;
    }
    Object.assign(item, { state: 'deleting', awaiting: new Set(), gaveUp: new Set(), acked: false });
    this.accepted++;
    this.fanOut(key);
    return 204;
  }

  private blank(data: Fields): Item {
    return { state: 'synced', data: { ...data }, fenceAt: null, held: null, remoteKnown: false, seenBy: new Set(), awaiting: new Set(), gaveUp: new Set(), acked: false };
  }

  /** Rows 13, 14, 26: one delivery per matching output webhook, or settled at once with none. */
  private fanOut(key: string): void {
    const item = this.items.get(key) as Item;
    const kind = item.state === 'deleting' ? 'delete' : 'upsert';
    const matching = this.outputs.filter((o) => o.kind === kind).map((o) => o.name);
    if (matching.length > 0) {
      item.awaiting = new Set(matching);
      return;
    }
    if (item.state === 'pending') {
      item.state = 'synced';
      this.applyHeld(key, item); // row 14
    } else {
      // Row 26: the tombstone is removed; a held upsert revives it at once.
      const held = item.held;
      this.items.delete(key);
      if (held?.op === 'upsert' && held.data && (item.fenceAt === null || held.at > item.fenceAt)) {
        this.items.set(key, { ...this.blank(held.data), remoteKnown: true, fenceAt: held.at, seenBy: new Set(held.entries) });
      }
    }
  }

  /** A held change applies while it is still fresher than the fence (rows 14, 17); it is dropped otherwise. */
  private applyHeld(key: string, item: Item): void {
    const held = item.held;
    item.held = null;
    if (!held || (item.fenceAt !== null && held.at <= item.fenceAt)) return;
    if (held.op === 'upsert' && held.data) {
      Object.assign(item, { state: 'synced', data: { ...held.data }, fenceAt: held.at, remoteKnown: true, seenBy: union(item.seenBy, held.entries) });
    } else {
      Object.assign(item, { state: 'gone', fenceAt: held.at, remoteKnown: false });
    }
    void key;
  }

  // ---- deliveries --------------------------------------------------------------------------------

  /**
   * The queues drain while the third party is up: every awaited webhook answers (rule 4):
   * acknowledged (the third party applies it) or, refusing, gives up. The last answer settles the
   * item (rows 15, 16, 27, 28); every acknowledgement fences it at its time.
   */
  deliverAll(): void {
    if (this.down) return;
    for (const [key, item] of this.items) {
      if (item.state !== 'pending' && item.state !== 'deleting') continue;
      for (const name of [...item.awaiting]) this.answer(key, item, name);
    }
  }

  private answer(key: string, item: Item, name: string): void {
    const output = this.outputs.find((o) => o.name === name);
    item.awaiting.delete(name);
    if (!output || output.refusing) item.gaveUp.add(name);
    else {
      item.acked = true;
      item.fenceAt = this.tick();
      if (item.state === 'pending') {
        this.remote.set(key, { ...item.data });
        item.remoteKnown = true;
      } else this.remote.delete(key);
    }
    if (item.awaiting.size === 0) this.settle(item);
  }

  /** Nothing awaited any more: rows 15/16/17 (pending) and 27/28/29 (deleting). */
  private settle(item: Item): void {
    const deleting = item.state === 'deleting';
    if (item.gaveUp.size > 0) {
      item.state = deleting ? 'delete-diverged' : 'diverged';
      return;
    }
    if (item.acked) {
      item.held = null;
      if (deleting) Object.assign(item, { state: 'gone', remoteKnown: false });
      else Object.assign(item, { state: 'synced', remoteKnown: true, seenBy: new Set(this.entries.map((e) => e.name)) });
      return;
    }
    // Every awaited webhook withdrew before answering: ours never reached the third party.
    const key = this.keyOf(item);
    if (deleting) this.dropDelete(key, item);
    else {
      item.state = 'synced';
      this.applyHeld(key, item);
    }
  }

  /** Row 29: the tombstone is removed (the third party keeps the item); a held upsert applies. */
  private dropDelete(key: string, item: Item): void {
    const held = item.held;
    this.items.delete(key);
    if (held?.op === 'upsert' && held.data && (item.fenceAt === null || held.at > item.fenceAt)) {
      this.items.set(key, { ...this.blank(held.data), remoteKnown: true, fenceAt: held.at, seenBy: new Set(held.entries) });
    }
  }

  private keyOf(item: Item): string {
    for (const [k, v] of this.items) if (v === item) return k;
    throw new Error('item not in the model');
  }

  // ---- the third party ------------------------------------------------------------------------------

  remoteUpsert(key: string, data: Fields): Message {
    this.remote.set(key, { ...data });
    return { id: `msg-${++this.messages}`, method: 'POST', key, data: { ...data } };
  }

  remoteDelete(key: string): Message {
    this.remote.delete(key);
    return { id: `msg-${++this.messages}`, method: 'DELETE', key, data: null };
  }

  /** An input webhook call reaches /sync now: accepted (freshness now), or a duplicate of an accepted one. */
  receive(message: Message): { duplicate: boolean } {
    if (this.acceptedMessageIds.has(message.id)) return { duplicate: true };
    this.acceptedMessageIds.add(message.id);
    const at = this.tick();
    const all = this.entries.map((e) => e.name);
    if (message.method === 'POST' && message.data) this.inboundUpsert(message.key, message.data, at, all, 'webhook');
    else this.inboundDelete(message.key, at, all);
    return { duplicate: false };
  }

  // ---- inbound changes (rows 2, 3, 7, 8, 9, 12, 18, 25, 34, 35) -----------------------------------

  inboundUpsert(key: string, data: Fields, at: number, entries: string[], source: 'poll' | 'webhook'): Outcome {
    const item = this.items.get(key);
    if (item && item.fenceAt !== null && at <= item.fenceAt) return 'stale';
    if (!item) {
      this.items.set(key, { ...this.blank(data), remoteKnown: true, fenceAt: at, seenBy: new Set(entries) });
      return 'created';
    }
    switch (item.state) {
      case 'synced': {
        item.seenBy = union(item.seenBy, entries);
        item.remoteKnown = true;
        if (sameFields(item.data, data)) {
          if (source === 'webhook') item.fenceAt = at;
          return 'unchanged';
        }
        Object.assign(item, { data: { ...data }, fenceAt: at });
        return 'updated';
      }
      case 'gone':
        Object.assign(item, { state: 'synced', data: { ...data }, fenceAt: at, remoteKnown: true, seenBy: union(item.seenBy, entries), held: null });
        return 'created';
      case 'pending':
      case 'deleting':
        this.hold(item, { op: 'upsert', data: { ...data }, at, entries });
        return 'conflict';
      case 'diverged':
      case 'delete-diverged':
        this.hold(item, { op: 'upsert', data: { ...data }, at, entries });
        return 'diverged';
    }
  }

  inboundDelete(key: string, at: number, entries: string[]): Outcome {
    const item = this.items.get(key);
    if (item && item.fenceAt !== null && at <= item.fenceAt) return 'stale';
    if (!item) return 'absent';
    switch (item.state) {
      case 'synced':
        Object.assign(item, { state: 'gone', fenceAt: at, remoteKnown: false, held: null });
        return 'deleted';
      case 'gone':
        return 'absent';
      case 'pending':
      case 'deleting':
        this.hold(item, { op: 'delete', data: null, at, entries });
        return 'conflict';
      case 'diverged':
      case 'delete-diverged':
        this.hold(item, { op: 'delete', data: null, at, entries });
        return 'diverged';
    }
  }

  /** The latest inbound change is kept; the same change seen again keeps the held one as it is. */
  private hold(item: Item, change: Held): void {
    if (item.held && (item.held.at >= change.at || (item.held.op === change.op && sameFields(item.held.data, change.data)))) return;
    item.held = change;
  }

  // ---- polls (rule 6, row 10) -------------------------------------------------------------------------

  /** What entry `name` lists now: the third party's records with an id in the entry's list, in order. */
  snapshotOf(name: string): Array<[string, Fields]> {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) throw new Error(`no polling entry ${name}`);
    const all = [...this.remote].filter(([id]) => entry.lists.includes(id));
    if (!this.incremental) return all.map(([id, f]) => [id, { ...f }]);
    // Incremental: the records changed since the cursor (inclusive); remember the highest value read.
    const run = this.runOf(name);
    const since = this.isIncremental(name) ? run.cursor : null;
    const read = all.filter(([id]) => since === null || this.stampOf(id) >= since);
    run.read = read.reduce<number | null>((max, [id]) => Math.max(max ?? 0, this.stampOf(id)), null);
    return read.map(([id, f]) => [id, { ...f }]);
  }

  private runOf(name: string): { cursor: number | null; runsSinceFull: number; read: number | null } {
    let run = this.cursors.get(name);
    if (!run) this.cursors.set(name, (run = { cursor: null, runsSinceFull: 0, read: null }));
    return run;
  }

  /** Whether the next run of `name` is incremental: a cursor is known and it is not a full run's turn. */
  isIncremental(name: string): boolean {
    if (!this.incremental) return false;
    const run = this.runOf(name);
    return run.cursor !== null && run.runsSinceFull + 1 < this.incremental.every;
  }

  /**
   * One complete, consistent poll run of entry `name`, which began at `start` and read `snapshot`:
   * every record applied with the start as freshness, then the deletion pass with the delete guard.
   */
  poll(name: string, snapshot: Array<[string, Fields]>, start: number): PollPrediction {
    const p: PollPrediction = { status: 'succeeded', fetched: 0, created: 0, updated: 0, deleted: 0, conflicts: 0, diverged: 0, stale: 0, unchanged: 0, kept: [] };
    for (const [key, data] of snapshot) {
      p.fetched++;
      const outcome = this.inboundUpsert(key, data, start, [name], 'poll');
      if (outcome === 'conflict') p.conflicts++;
      else if (outcome === 'created' || outcome === 'updated' || outcome === 'diverged' || outcome === 'stale' || outcome === 'unchanged') p[outcome]++;
    }
    if (this.incremental) {
      // A complete walk keeps the highest value read; an incremental run never deletes.
      const incremental = this.isIncremental(name);
      const run = this.runOf(name);
      if (run.read !== null) run.cursor = Math.max(run.cursor ?? 0, run.read);
      run.read = null;
      run.runsSinceFull = incremental ? run.runsSinceFull + 1 : 0;
      if (incremental) return p;
    }
    const listed = new Set(snapshot.map(([k]) => k));
    const considered = [...this.items].filter(([, i]) => i.state === 'synced' && i.seenBy.has(name) && (i.fenceAt === null || i.fenceAt < start));
    const absent = considered.filter(([k]) => !listed.has(k));
    if (absent.length === 0) return p;
    if (listed.size === 0 || absent.length > considered.length * this.deleteGuardRatio) {
      p.status = 'attention';
      p.kept = absent.map(([k]) => k);
      return p;
    }
    for (const [, item] of absent) {
      item.seenBy.delete(name);
      if (item.seenBy.size === 0) {
        Object.assign(item, { state: 'gone', fenceAt: start, remoteKnown: false });
        p.deleted++;
      }
    }
    return p;
  }

  /**
   * A paged walk of entry `name` begun at `start`, as the third party answered it page by page
   * (`pages`: the records of each page and the list's length then). Every record read applies; the
   * deletion pass runs only when the walk is consistent ("Polling": no externalId twice, the total
   * unchanged between pages and equal to the records read).
   */
  pagedPoll(name: string, pages: Array<{ records: Array<[string, Fields]>; total: number }>, start: number, overlap: boolean): PollPrediction & { consistent: boolean } {
    // Offset pagination reads each page from the last record of the previous one, and checks it is the same.
    let shifted = false;
    const read = pages.flatMap((p, i) => {
      const previous = pages[i - 1]?.records;
      if (!overlap || !previous) return p.records;
      if (p.records[0]?.[0] === previous[previous.length - 1]?.[0]) return p.records.slice(1);
      shifted = true;
      return p.records;
    });
    const ids = read.map(([k]) => k);
    const totals = new Set(pages.map((p) => p.total));
    const consistent = !shifted && new Set(ids).size === ids.length && totals.size <= 1 && (pages.length === 0 || pages[0]?.total === ids.length);
    if (consistent) return { ...this.poll(name, read, start), consistent };
    const p: PollPrediction = { status: 'succeeded', fetched: read.length, created: 0, updated: 0, deleted: 0, conflicts: 0, diverged: 0, stale: 0, unchanged: 0, kept: [] };
    for (const [key, data] of read) this.inboundUpsert(key, data, start, [name], 'poll');
    return { ...p, consistent };
  }

  // ---- divergences (rule 5, rows 20-23, 30, 31) ---------------------------------------------------------

  /** Replay: the failed deliveries are sent again; the item awaits their webhooks. */
  replay(key: string): boolean {
    const item = this.items.get(key);
    if (!item || (item.state !== 'diverged' && item.state !== 'delete-diverged')) return false;
    item.state = item.state === 'diverged' ? 'pending' : 'deleting';
    item.awaiting = new Set(item.gaveUp);
    item.gaveUp = new Set();
    return true;
  }

  acceptRemote(key: string): boolean {
    const item = this.items.get(key);
    if (!item || (item.state !== 'diverged' && item.state !== 'delete-diverged')) return false;
    const held = item.held;
    item.held = null;
    item.awaiting = new Set();
    item.gaveUp = new Set();
    if (held?.op === 'upsert' && held.data) {
      Object.assign(item, { state: 'synced', data: { ...held.data }, fenceAt: held.at, remoteKnown: true, seenBy: union(item.seenBy, held.entries) });
    } else if (held?.op === 'delete' || !item.remoteKnown) {
      Object.assign(item, { state: 'gone', fenceAt: this.tick(), remoteKnown: false });
    } else {
      // Ours stays, held by the third party: any entry may list it (rows 23, 31, as row 15).
      Object.assign(item, { state: 'synced', seenBy: new Set(this.entries.map((e) => e.name)) });
    }
    return true;
  }

  // ---- configuration changes (rule 8) -------------------------------------------------------------------

  /** An output webhook removed: its pending deliveries are cancelled; items awaiting only it settle (rows 17, 29). */
  removeOutput(name: string): void {
    const i = this.outputs.findIndex((o) => o.name === name);
    if (i >= 0) this.outputs.splice(i, 1);
    for (const item of [...this.items.values()]) {
      if ((item.state !== 'pending' && item.state !== 'deleting') || !item.awaiting.has(name)) continue;
      item.awaiting.delete(name);
      if (item.awaiting.size === 0) this.settle(item);
    }
  }

  /** Two-way to one-way: every pending delivery cancelled, items settled, diverged ones included (rows 17, 29). */
  switchToOneWay(): void {
    this.twoWay = false;
    for (const [key, item] of [...this.items]) {
      if (item.state === 'pending' || item.state === 'diverged') {
        Object.assign(item, { state: 'synced', awaiting: new Set(), gaveUp: new Set(), acked: false });
        this.applyHeld(key, item);
      } else if (item.state === 'deleting' || item.state === 'delete-diverged') {
        this.dropDelete(key, item);
      }
    }
  }

  switchToTwoWay(): void {
    this.twoWay = true;
  }

  /** Removing a polling entry takes it out of every item's `seenBy`, and of the entries of a change held on it (applied later, it would list the item under the entry again). */
  removeEntry(name: string): void {
    const i = this.entries.findIndex((e) => e.name === name);
    if (i >= 0) this.entries.splice(i, 1);
    for (const item of this.items.values()) {
      item.seenBy.delete(name);
      if (item.held) item.held = { ...item.held, entries: item.held.entries.filter((e) => e !== name) };
    }
  }

  // ---- what both sides must show ---------------------------------------------------------------------------

  /** Items visible through the inventory API (tombstones are not). */
  live(): Map<string, Fields> {
    const out = new Map<string, Fields>();
    for (const [k, i] of this.items) if (i.state === 'synced' || i.state === 'pending' || i.state === 'diverged') out.set(k, i.data);
    return out;
  }
}
