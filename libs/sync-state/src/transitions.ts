import { syncMutant } from './mutants';
import { itemStateOf, type HeldChange, type InventoryItem, type ItemState, type PendingEvent } from '@music/domain';

/**
 * The state table of docs/sync-model.md as one pure function: `transition(item, event)` says what
 * an item becomes and what is sent. The writer (ItemStore) reads the item, calls it, and writes the
 * result conditionally on the revision it read; nothing else decides an item's state. Every row of
 * the table is named in the result (`row`), and has a unit test (transitions.spec.ts).
 */

/** What the state table reads and writes of an item (its identity and bookkeeping are the writer's). */
export type ItemFacts = Pick<
  InventoryItem,
  'externalId' | 'data' | 'hash' | 'origin' | 'version' | 'state' | 'deleted' | 'pendingEvent' | 'awaiting' | 'gaveUp' | 'acked' | 'fenceAt' | 'held' | 'remoteKnown' | 'seenBy' | 'missedBy'
>;

/** A new outbox event's id and time, chosen by the caller (the function stays pure). */
export interface NewEvent {
  id: string;
  at: Date;
  /** The request that made the change: the log lines of its fan-out and deliveries carry it. */
  requestId?: string;
}

/** Where an inbound change came from: a poll's snapshot (its entry) or an input webhook. */
export type InboundSource = 'poll' | 'webhook';

export type SyncEvent =
  /** A create through the inventory API. `versionFloor`: the highest version any delivery of this externalId carries. */
  | { type: 'local-create'; externalId: string; data: Record<string, unknown>; hash: string; twoWay: boolean; versionFloor: number; event: NewEvent }
  | { type: 'local-update'; data: Record<string, unknown>; hash: string; twoWay: boolean; event: NewEvent }
  | { type: 'local-delete'; twoWay: boolean; event: NewEvent }
  /**
   * A record of a snapshot or an input webhook. `freshness`: when the snapshot began or the webhook
   * was accepted (store clock). `entries`: the polling entries that may list the item (the
   * snapshot's entry, or every entry for a webhook). `mayCreate`: false for a change older than
   * the tombstone retention (its item's tombstone may have expired: it must not create the item),
   * its age measured by the writer on the store's time read after it found the item absent.
   */
  | {
      type: 'inbound-upsert';
      externalId: string;
      data: Record<string, unknown>;
      hash: string;
      freshness: Date;
      entries: string[];
      source: InboundSource;
      versionFloor: number;
      mayCreate: boolean;
    }
  | { type: 'inbound-delete'; freshness: Date; entries: string[]; source: InboundSource }
  /** The item is absent from entry `entry`'s complete, consistent snapshot begun at `snapshotStart`. `twoMiss`: the entry's walks cannot see deletes before a page boundary. */
  | { type: 'snapshot-absent'; entry: string; snapshotStart: Date; twoMiss: boolean }
  /** The fan-out of the pending event `eventId` to `webhooks` (the matching output webhooks). */
  | { type: 'fan-out'; eventId: string; webhooks: string[] }
  /** An output webhook answered for `version`: acknowledged (2xx) or gave up (failed, dead-lettered). `allEntries`: the organization's polling entries now. */
  | { type: 'delivery-answered'; version: number; webhook: string; result: 'acknowledged' | 'gave-up'; allEntries: string[] }
  /** These output webhooks were removed (or no longer take this kind of change): they owe nothing any more. */
  | { type: 'webhooks-withdrawn'; webhooks: string[]; allEntries: string[] }
  | { type: 'switched-to-one-way' }
  /** The deliveries of the current version to `webhooks` are sent again. */
  | { type: 'replay'; webhooks: string[] }
  /** `allEntries`: the organization's polling entries (the item stays with the third party: any of them may list it). */
  | { type: 'accept-remote'; allEntries: string[] }
  /** `TOMBSTONE_RETENTION_MS` passed since the tombstone's fence (checked by the caller). */
  | { type: 'tombstone-expired' }
  /** Polling entries removed from the organization: no item is listed by them any more. */
  | { type: 'entries-removed'; entries: string[] };

/** What an event did, as runs, webhook summaries and callers count it. */
export type Outcome =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'deleted'
  | 'absent'
  | 'conflict'
  | 'diverged'
  | 'stale'
  | 'exists'
  | 'not-found'
  | 'missed'
  | 'left'
  | 'fanned-out'
  | 'answered'
  | 'settled'
  | 'withdrawn'
  | 'replayed'
  | 'resolved'
  | 'expired'
  | 'ignored';

export interface Transition {
  /** The row of the state table applied; null when no row applies (nothing happens, or a bookkeeping step between rows). */
  row: number | null;
  /** One-way organizations: the row's one-way variant (no outbox). */
  oneWay?: true;
  from: ItemState;
  to: ItemState;
  /** The item afterwards; null: no document (absent). */
  next: ItemFacts | null;
  /** `fenceAt` becomes the store time of the write (an acknowledgement, or a tombstone made now). */
  fenceNow: boolean;
  outcome: Outcome;
  /** Whether anything is written. */
  changed: boolean;
  /** A new outbox event to fan out (written with the change; the caller enqueues its fan-out). */
  outbox: PendingEvent | null;
}

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];
const minus = (a: readonly string[], b: readonly string[]): string[] => a.filter((x) => !b.includes(x));
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/** No event for the item: nothing happens. */
export function noTransition(item: ItemFacts | null): Transition {
  return nothing(item, 'ignored');
}

function nothing(item: ItemFacts | null, outcome: Outcome, row: number | null = null): Transition {
  const state = itemStateOf(item);
  return { row, from: state, to: state, next: item, fenceNow: false, outcome, changed: false, outbox: null };
}

function moved(row: number | null, from: ItemState, next: ItemFacts | null, outcome: Outcome, extra: { fenceNow?: boolean; outbox?: PendingEvent | null; oneWay?: boolean } = {}): Transition {
  return {
    row,
    ...(extra.oneWay ? { oneWay: true as const } : {}),
    from,
    to: itemStateOf(next),
    next,
    fenceNow: extra.fenceNow ?? false,
    outcome,
    changed: true,
    outbox: extra.outbox ?? null,
  };
}

const isFresh = (item: ItemFacts | null, freshness: Date): boolean => syncMutant() === 'no-fencing' || !item || item.fenceAt === null || freshness.getTime() > item.fenceAt.getTime();

/** Equal hashes mean nothing to write or send (the `no-content-hash` mutant never sees them equal). */
const sameHash = (a: string | null, b: string | null): boolean => syncMutant() !== 'no-content-hash' && a === b;

/** A local upsert of a two-way item: new version, outbox event, the previous deliveries' answers forgotten. */
function localUpsert(item: ItemFacts, data: Record<string, unknown>, hash: string, event: NewEvent): { next: ItemFacts; outbox: PendingEvent } {
  const version = item.version + 1;
  const outbox: PendingEvent = { id: event.id, op: 'upsert', version, at: event.at, ...(event.requestId ? { requestId: event.requestId } : {}) };
  return { next: { ...item, data, hash, origin: 'local', version, state: 'pending', deleted: false, pendingEvent: outbox, awaiting: [], gaveUp: [], acked: false }, outbox };
}

function localDelete(item: ItemFacts, event: NewEvent): { next: ItemFacts; outbox: PendingEvent } {
  const version = item.version + 1;
  const outbox: PendingEvent = { id: event.id, op: 'delete', version, at: event.at, ...(event.requestId ? { requestId: event.requestId } : {}) };
  return { next: { ...item, origin: 'local', version, state: 'pending', deleted: true, pendingEvent: outbox, awaiting: [], gaveUp: [], acked: false }, outbox };
}

/** The item as the third party has it (rows 2, 7, 34, and a held upsert applied). */
function remoteUpsert(
  item: ItemFacts | null,
  change: { externalId: string; data: Record<string, unknown>; hash: string; freshness: Date; entries: string[] },
  versionFloor: number,
): ItemFacts {
  return {
    externalId: change.externalId,
    data: change.data,
    hash: change.hash,
    origin: 'remote',
    version: item?.version ?? versionFloor,
    state: 'synced',
    deleted: false,
    pendingEvent: null,
    awaiting: [],
    gaveUp: [],
    acked: false,
    fenceAt: change.freshness,
    held: null,
    remoteKnown: true,
    seenBy: union(item?.seenBy ?? [], change.entries),
    missedBy: minus(item?.missedBy ?? [], change.entries),
  };
}

/** A settled tombstone (gone), fenced at `fenceAt` (or at the write's store time when null and `fenceNow`). */
function tombstone(item: ItemFacts, fenceAt: Date | null): ItemFacts {
  return { ...item, state: 'synced', deleted: true, pendingEvent: null, awaiting: [], gaveUp: [], acked: false, held: null, remoteKnown: false, fenceAt: fenceAt ?? item.fenceAt };
}

/** Settled, nothing awaited (the item keeps its content, whether live or a tombstone). */
const settled = (item: ItemFacts): ItemFacts => ({ ...item, state: 'synced', pendingEvent: null, awaiting: [], gaveUp: [], acked: false });

/**
 * Applies the held inbound change to an item whose local change never reached the third party
 * (rows 14, 17, 26, 29): `base` is the settled item, or null when the item becomes absent; `item`
 * is the item before, for its externalId and version. A held change no longer fresher than the
 * item's fence is dropped.
 */
function withHeldApplied(base: ItemFacts | null, item: ItemFacts): ItemFacts | null {
  const held = item.held;
  if (!held) return base;
  if (item.fenceAt !== null && held.at.getTime() <= item.fenceAt.getTime()) return base ? { ...base, held: null } : null;
  if (held.op === 'upsert' && held.data !== null && held.hash !== null) {
    return remoteUpsert(base ?? { ...item, seenBy: [], missedBy: [] }, { externalId: item.externalId, data: held.data, hash: held.hash, freshness: held.at, entries: held.entries }, item.version);
  }
  return base ? { ...tombstone(base, held.at) } : null;
}

/** Keeps the newest inbound change on a pending or diverged item (rows 12, 18, 25). */
function hold(row: number, item: ItemFacts, change: HeldChange, outcome: 'conflict' | 'diverged'): Transition {
  const from = itemStateOf(item);
  const current = item.held;
  // An older change, or the same change seen again (a repeated poll), writes nothing.
  if (current && (current.at.getTime() >= change.at.getTime() || (current.op === change.op && current.hash === change.hash))) {
    return { ...nothing(item, outcome), row };
  }
  return moved(row, from, { ...item, held: change }, outcome);
}

/** The rows of the state table (docs/sync-model.md); see the module comment. */
export function transition(item: ItemFacts | null, event: SyncEvent): Transition {
  const from = itemStateOf(item);
  switch (event.type) {
    case 'local-create':
      return localCreate(item, from, event);
    case 'local-update':
      return localUpdate(item, from, event);
    case 'local-delete':
      return localDeleteOf(item, from, event);
    case 'inbound-upsert':
      return inboundUpsert(item, from, event);
    case 'inbound-delete':
      return inboundDelete(item, from, event);
    case 'snapshot-absent':
      return snapshotAbsent(item, from, event);
    case 'fan-out':
      return fanOut(item, from, event);
    case 'delivery-answered':
      return deliveryAnswered(item, from, event);
    case 'webhooks-withdrawn':
      return webhooksWithdrawn(item, from, event);
    case 'switched-to-one-way':
      return switchedToOneWay(item, from);
    case 'replay':
      return replay(item, from, event);
    case 'accept-remote':
      return acceptRemote(item, from, event);
    case 'tombstone-expired':
      return item && from === 'gone' ? moved(36, from, null, 'expired') : nothing(item, 'ignored');
    case 'entries-removed':
      return entriesRemoved(item, from, event);
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

function localCreate(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'local-create' }>): Transition {
  if (from === 'synced' || from === 'pending' || from === 'diverged') return nothing(item, 'exists');
  if (!item) {
    const base: ItemFacts = {
      externalId: e.externalId,
      data: e.data,
      hash: e.hash,
      origin: 'local',
      version: e.versionFloor,
      state: 'synced',
      deleted: false,
      pendingEvent: null,
      awaiting: [],
      gaveUp: [],
      acked: false,
      fenceAt: null,
      held: null,
      remoteKnown: false,
      seenBy: [],
      missedBy: [],
    };
    if (!e.twoWay) return moved(1, from, base, 'created', { oneWay: true });
    const { next, outbox } = localUpsert(base, e.data, e.hash, e.event);
    return moved(1, from, next, 'created', { outbox });
  }
  // A tombstone: deleting (24), delete-diverged (32) or gone (33).
  const row = from === 'deleting' ? 24 : from === 'delete-diverged' ? 32 : 33;
  if (!e.twoWay) {
    return moved(row, from, { ...settled(item), data: e.data, hash: e.hash, origin: 'local', deleted: false }, 'created', { oneWay: true });
  }
  const { next, outbox } = localUpsert(item, e.data, e.hash, e.event);
  return moved(row, from, next, 'created', { outbox });
}

function localUpdate(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'local-update' }>): Transition {
  if (!item || (from !== 'synced' && from !== 'pending' && from !== 'diverged')) return nothing(item, 'not-found');
  if (sameHash(item.hash, e.hash)) return nothing(item, 'unchanged', from === 'synced' ? 5 : null);
  if (!e.twoWay) return moved(4, from, { ...settled(item), data: e.data, hash: e.hash, origin: 'local' }, 'updated', { oneWay: true });
  const row = from === 'synced' ? 4 : from === 'pending' ? 11 : 19;
  const { next, outbox } = localUpsert(item, e.data, e.hash, e.event);
  return moved(row, from, next, 'updated', { outbox });
}

function localDeleteOf(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'local-delete' }>): Transition {
  if (!item || (from !== 'synced' && from !== 'pending' && from !== 'diverged')) return nothing(item, 'not-found');
  // One-way: the third party is the source; the document goes (the next poll may bring it back).
  if (!e.twoWay) return moved(6, from, null, 'deleted', { oneWay: true });
  const row = from === 'synced' ? 6 : from === 'pending' ? 11 : 19;
  const { next, outbox } = localDelete(item, e.event);
  return moved(row, from, next, 'deleted', { outbox });
}

function inboundUpsert(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'inbound-upsert' }>): Transition {
  if (!isFresh(item, e.freshness)) return nothing(item, 'stale');
  const held: HeldChange = { op: 'upsert', data: e.data, hash: e.hash, at: e.freshness, entries: e.entries };
  switch (from) {
    case 'absent':
      if (!e.mayCreate) return nothing(item, 'stale');
      return moved(2, from, remoteUpsert(null, e, e.versionFloor), 'created');
    case 'synced': {
      const current = item as ItemFacts;
      if (!sameHash(current.hash, e.hash)) {
        const next = remoteUpsert(current, e, e.versionFloor);
        if (syncMutant() !== 'no-echo-suppression') return moved(7, from, next, 'updated');
        // The mutant: the inbound change goes back out as if it were ours.
        const outbox: PendingEvent = { id: `echo-${e.externalId}-${e.freshness.getTime()}`, op: 'upsert', version: current.version + 1, at: e.freshness };
        return moved(7, from, { ...next, origin: 'local', version: outbox.version, state: 'pending', pendingEvent: outbox }, 'updated', { outbox });
      }
      // Row 8: nothing, except what the item learns: the entry may list it, the third party holds
      // it, and (a webhook) a newer fence, so an older call applied later cannot undo this one.
      const seenBy = union(current.seenBy, e.entries);
      const missedBy = minus(current.missedBy, e.entries);
      const fenceAt = e.source === 'webhook' ? e.freshness : current.fenceAt;
      const learns = !sameSet(seenBy, current.seenBy) || !sameSet(missedBy, current.missedBy) || !current.remoteKnown || fenceAt !== current.fenceAt;
      if (!learns) return nothing(item, 'unchanged', 8);
      return { ...moved(8, from, { ...current, seenBy, missedBy, remoteKnown: true, fenceAt }, 'unchanged') };
    }
    case 'pending':
      return hold(12, item as ItemFacts, held, 'conflict');
    case 'deleting':
      return hold(25, item as ItemFacts, held, 'conflict');
    case 'diverged':
    case 'delete-diverged':
      return hold(18, item as ItemFacts, held, 'diverged');
    case 'gone':
      return moved(34, from, remoteUpsert(item, e, e.versionFloor), 'created');
    default: {
      const unreachable: never = from;
      throw new Error(`unknown state ${String(unreachable)}`);
    }
  }
}

function inboundDelete(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'inbound-delete' }>): Transition {
  if (!isFresh(item, e.freshness)) return nothing(item, 'stale');
  const held: HeldChange = { op: 'delete', data: null, hash: null, at: e.freshness, entries: e.entries };
  switch (from) {
    case 'absent':
      return nothing(item, 'absent', 3);
    case 'synced':
      return moved(9, from, tombstone(item as ItemFacts, e.freshness), 'deleted');
    case 'pending':
      return hold(12, item as ItemFacts, held, 'conflict');
    case 'deleting':
      return hold(25, item as ItemFacts, held, 'conflict');
    case 'diverged':
    case 'delete-diverged':
      return hold(18, item as ItemFacts, held, 'diverged');
    case 'gone':
      return nothing(item, 'absent', 35);
    default: {
      const unreachable: never = from;
      throw new Error(`unknown state ${String(unreachable)}`);
    }
  }
}

function snapshotAbsent(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'snapshot-absent' }>): Transition {
  if (from === 'gone') return nothing(item, 'ignored', 35);
  const crossEntry = syncMutant() === 'cross-entry-deletion';
  if (!item || from !== 'synced' || (!crossEntry && !item.seenBy.includes(e.entry))) return nothing(item, 'ignored');
  // Changed since the snapshot began (a delivery acknowledged, a newer inbound change): not a remote delete.
  if (item.fenceAt !== null && item.fenceAt.getTime() >= e.snapshotStart.getTime()) return nothing(item, 'ignored');
  if (e.twoMiss && !item.missedBy.includes(e.entry)) return moved(10, from, { ...item, missedBy: [...item.missedBy, e.entry] }, 'missed');
  const seenBy = crossEntry ? [] : minus(item.seenBy, [e.entry]);
  const missedBy = minus(item.missedBy, [e.entry]);
  if (seenBy.length > 0) return moved(10, from, { ...item, seenBy, missedBy }, 'left');
  return moved(10, from, { ...tombstone(item, e.snapshotStart), seenBy, missedBy }, 'deleted');
}

/**
 * Removed polling entries leave the item's `seenBy` and `missedBy`, and the entries of the change
 * held on it: applied later (rows 14, 17, 21, 26, 29, 31), it would list the item under them again.
 * A held change whose every entry is gone stays held: it is still the third party's word (a run of
 * a removed entry keeps what it wrote too, rule 6), and applied it lists the item under no entry,
 * as a webhook's change does in an organization without polling entries.
 */
function entriesRemoved(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'entries-removed' }>): Transition {
  if (!item) return nothing(item, 'ignored');
  const seenBy = minus(item.seenBy, e.entries);
  const missedBy = minus(item.missedBy, e.entries);
  const heldEntries = item.held ? minus(item.held.entries, e.entries) : [];
  const heldLeft = item.held !== null && heldEntries.length < item.held.entries.length;
  if (seenBy.length === item.seenBy.length && missedBy.length === item.missedBy.length && !heldLeft) return nothing(item, 'ignored');
  const held = item.held && heldLeft ? { ...item.held, entries: heldEntries } : item.held;
  return moved(null, from, { ...item, seenBy, missedBy, held }, 'left');
}

function fanOut(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'fan-out' }>): Transition {
  if (!item || item.pendingEvent?.id !== e.eventId || (from !== 'pending' && from !== 'deleting')) return nothing(item, 'ignored');
  if (e.webhooks.length > 0) {
    return moved(13, from, { ...item, pendingEvent: null, awaiting: [...new Set(e.webhooks)], gaveUp: [], acked: false }, 'fanned-out');
  }
  // Nothing can reach the third party: ours never will, so a held inbound change applies.
  if (from === 'pending') return moved(14, from, withHeldApplied(settled(item), item), 'settled');
  return moved(26, from, withHeldApplied(null, item), 'settled');
}

/** Where a pending or deleting item goes once nothing is awaited any more (rows 15, 16, 17, 27, 28, 29). */
function whenNothingAwaited(item: ItemFacts, from: ItemState, allEntries: string[], acknowledgedNow: boolean, outcome: Outcome): Transition {
  const deleting = from === 'deleting';
  if (item.gaveUp.length > 0) {
    return moved(deleting ? 28 : 16, from, { ...item, state: 'diverged', pendingEvent: null, awaiting: [] }, outcome, { fenceNow: acknowledgedNow });
  }
  if (item.acked) {
    if (deleting) return moved(27, from, tombstone(item, null), outcome, { fenceNow: acknowledgedNow });
    return moved(15, from, { ...settled(item), remoteKnown: true, seenBy: [...allEntries], missedBy: [], held: null }, outcome, { fenceNow: acknowledgedNow });
  }
  // Every awaited webhook withdrew before answering: ours never reached the third party.
  if (deleting) return moved(29, from, withHeldApplied(null, item), outcome);
  return moved(17, from, withHeldApplied(settled(item), item), outcome);
}

function deliveryAnswered(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'delivery-answered' }>): Transition {
  if (!item || (from !== 'pending' && from !== 'deleting') || item.version !== e.version || !item.awaiting.includes(e.webhook)) return nothing(item, 'ignored');
  const acknowledged = e.result === 'acknowledged';
  const next: ItemFacts = {
    ...item,
    awaiting: minus(item.awaiting, [e.webhook]),
    gaveUp: acknowledged ? item.gaveUp : union(item.gaveUp, [e.webhook]),
    acked: item.acked || acknowledged,
    // The third party holds an acknowledged upsert (known before the others answer).
    remoteKnown: item.remoteKnown || (acknowledged && from === 'pending'),
  };
  // The mutant settles on the first acknowledgement, whatever the others still owe.
  if (acknowledged && syncMutant() === 'settle-on-first-webhook') next.awaiting = [];
  // Others still owe an answer: the item stays pending (rule 4), fenced at this acknowledgement.
  if (next.awaiting.length > 0) return moved(null, from, next, 'answered', { fenceNow: acknowledged });
  return whenNothingAwaited(next, from, e.allEntries, acknowledged, 'settled');
}

function webhooksWithdrawn(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'webhooks-withdrawn' }>): Transition {
  if (!item || (from !== 'pending' && from !== 'deleting') || item.pendingEvent !== null) return nothing(item, 'ignored');
  const awaiting = minus(item.awaiting, e.webhooks);
  if (awaiting.length === item.awaiting.length) return nothing(item, 'ignored');
  const next = { ...item, awaiting };
  if (awaiting.length > 0) return moved(null, from, next, 'withdrawn');
  return whenNothingAwaited(next, from, e.allEntries, false, 'withdrawn');
}

function switchedToOneWay(item: ItemFacts | null, from: ItemState): Transition {
  if (!item) return nothing(item, 'ignored');
  // In one-way the third party is the source: unsettled local changes are dropped, a held change applies.
  if (from === 'pending' || from === 'diverged') return moved(17, from, withHeldApplied(settled(item), item), 'withdrawn');
  if (from === 'deleting' || from === 'delete-diverged') return moved(29, from, withHeldApplied(null, item), 'withdrawn');
  return nothing(item, 'ignored');
}

function replay(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'replay' }>): Transition {
  if (!item || from === 'absent' || item.pendingEvent !== null || e.webhooks.length === 0) return nothing(item, 'ignored');
  const row = from === 'diverged' ? 20 : from === 'delete-diverged' ? 30 : null;
  const next: ItemFacts = { ...item, state: 'pending', awaiting: union(item.awaiting, e.webhooks), gaveUp: minus(item.gaveUp, e.webhooks) };
  return moved(row, from, next, 'replayed');
}

function acceptRemote(item: ItemFacts | null, from: ItemState, e: Extract<SyncEvent, { type: 'accept-remote' }>): Transition {
  if (!item || (from !== 'diverged' && from !== 'delete-diverged')) return nothing(item, 'ignored');
  const held = item.held;
  const row = from === 'diverged' ? null : 31;
  if (held?.op === 'upsert' && held.data !== null && held.hash !== null) {
    const next = remoteUpsert(item, { externalId: item.externalId, data: held.data, hash: held.hash, freshness: held.at, entries: held.entries }, item.version);
    return moved(row ?? 21, from, next, 'resolved');
  }
  if (held?.op === 'delete' || !item.remoteKnown) {
    // The third party deleted it, or never had it: gone, fenced now.
    return moved(row ?? 22, from, tombstone(item, null), 'resolved', { fenceNow: true });
  }
  // Nothing held and the third party has it: ours stays (revived for a delete it never took), and
  // the next fresher inbound change applies. Held by the third party, it may be listed by any of
  // the organization's entries, as after an acknowledgement (row 15): their deletion passes consider it.
  const next: ItemFacts = {
    ...settled(item),
    deleted: false,
    held: null,
    seenBy: [...e.allEntries],
    missedBy: [],
    ...(from === 'delete-diverged' ? { origin: 'remote' as const } : {}),
  };
  return moved(row ?? 23, from, next, 'resolved');
}

/** Whether a transition made the item diverged (metrics count it) or resolved a divergence. */
export function divergenceChange(t: Transition): 'diverged' | 'resolved' | null {
  const wasDiverged = t.from === 'diverged' || t.from === 'delete-diverged';
  const isDiverged = t.to === 'diverged' || t.to === 'delete-diverged';
  if (!wasDiverged && isDiverged) return 'diverged';
  if (wasDiverged && !isDiverged) return 'resolved';
  return null;
}

/**
 * Events applied one after the other in one write (a fan-out whose one delivery was answered in the
 * same job: rows 13 then 15/16, 27/28). Each step is a row of the table; the write is their result.
 * When the first does not apply, nothing does (the later ones are about what it would have made).
 */
export function transitionAll(item: ItemFacts | null, events: readonly SyncEvent[]): Transition {
  let result: Transition | null = null;
  for (const event of events) {
    const t = transition(result ? result.next : item, event);
    if (!t.changed) {
      if (result) break;
      return t;
    }
    result = result
      ? { ...t, from: result.from, fenceNow: result.fenceNow || t.fenceNow, outbox: t.outbox ?? result.outbox }
      : t;
  }
  return result ?? noTransition(item);
}
