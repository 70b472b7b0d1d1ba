import { itemStateOf, type HeldChange, type ItemState } from '@music/domain';
import { divergenceChange, transition, type ItemFacts, type SyncEvent } from './transitions';

// One test per row of the state table in docs/sync-model.md (two-way organizations), then the
// one-way variants, the stale rule, and the steps between rows (several webhooks answering).

const T = (minute: number): Date => new Date(Date.UTC(2026, 0, 1, 0, minute));
const EVENT = { id: 'ev-new', at: T(30) };
const A = 'entry-a';
const B = 'entry-b';

/** An item in `state`, fenced at T(10), listed by entry A, last written locally at version 3. */
function item(state: Exclude<ItemState, 'absent'>, over: Partial<ItemFacts> = {}): ItemFacts {
  const stored = { synced: ['synced', false], pending: ['pending', false], diverged: ['diverged', false], deleting: ['pending', true], 'delete-diverged': ['diverged', true], gone: ['synced', true] } as const;
  const [s, deleted] = stored[state];
  const unsettled = s === 'pending';
  return {
    externalId: 's1',
    data: { name: 'Ours' },
    hash: 'h-ours',
    origin: 'local',
    version: 3,
    state: s,
    deleted,
    pendingEvent: null,
    awaiting: unsettled ? ['w1'] : [],
    gaveUp: s === 'diverged' ? ['w1'] : [],
    acked: false,
    fenceAt: T(10),
    held: null,
    remoteKnown: true,
    seenBy: [A],
    missedBy: [],
    ...over,
  };
}

const upsert = (freshness: Date, over: Partial<Extract<SyncEvent, { type: 'inbound-upsert' }>> = {}): SyncEvent => ({
  type: 'inbound-upsert',
  externalId: 's1',
  data: { name: 'Theirs' },
  hash: 'h-theirs',
  freshness,
  entries: [A],
  source: 'poll',
  versionFloor: 0,
  mayCreate: true,
  ...over,
});
const remove = (freshness: Date, source: 'poll' | 'webhook' = 'webhook'): SyncEvent => ({ type: 'inbound-delete', freshness, entries: [A], source });
const localUpdate = (hash = 'h-new'): SyncEvent => ({ type: 'local-update', data: { name: 'New' }, hash, twoWay: true, event: EVENT });
const localDelete: SyncEvent = { type: 'local-delete', twoWay: true, event: EVENT };
const localCreate: SyncEvent = { type: 'local-create', externalId: 's1', data: { name: 'Again' }, hash: 'h-again', twoWay: true, versionFloor: 7, event: EVENT };
const answered = (result: 'acknowledged' | 'gave-up', webhook = 'w1', version = 3): SyncEvent => ({ type: 'delivery-answered', version, webhook, result, allEntries: [A, B] });
const heldUpsert: HeldChange = { op: 'upsert', data: { name: 'Held' }, hash: 'h-held', at: T(20), entries: [B] };
const heldDelete: HeldChange = { op: 'delete', data: null, hash: null, at: T(20), entries: [A] };

describe('the state table (two-way organizations)', () => {
  it('row 1: absent + local create -> pending, outbox upsert at the highest version its deliveries carry + 1', () => {
    const t = transition(null, localCreate);
    expect(t).toMatchObject({ row: 1, from: 'absent', to: 'pending', outcome: 'created', outbox: { id: 'ev-new', op: 'upsert', version: 8 } });
    expect(t.next).toMatchObject({ origin: 'local', version: 8, pendingEvent: { op: 'upsert', version: 8 }, remoteKnown: false, seenBy: [], fenceAt: null });
  });

  it('row 2: absent + inbound upsert -> synced, created remote, fenced at its freshness, listed by its entries', () => {
    const t = transition(null, upsert(T(20), { versionFloor: 4 }));
    expect(t).toMatchObject({ row: 2, to: 'synced', outcome: 'created', fenceNow: false });
    expect(t.next).toMatchObject({ origin: 'remote', fenceAt: T(20), seenBy: [A], remoteKnown: true, version: 4, data: { name: 'Theirs' } });
    // A webhook: every polling entry may list it.
    expect(transition(null, upsert(T(20), { source: 'webhook', entries: [A, B] })).next?.seenBy).toEqual([A, B]);
  });

  it('row 3: absent + inbound delete -> absent, nothing (counted absent)', () => {
    expect(transition(null, remove(T(20)))).toMatchObject({ row: 3, to: 'absent', changed: false, outcome: 'absent', next: null });
  });

  it('row 4: synced + local update that changes the content -> pending, outbox upsert, version + 1', () => {
    const t = transition(item('synced'), localUpdate());
    expect(t).toMatchObject({ row: 4, to: 'pending', outcome: 'updated', outbox: { op: 'upsert', version: 4 } });
    expect(t.next).toMatchObject({ data: { name: 'New' }, origin: 'local', version: 4, awaiting: [] });
  });

  it('row 5: synced + local update with the same content -> synced, nothing', () => {
    expect(transition(item('synced'), localUpdate('h-ours'))).toMatchObject({ row: 5, to: 'synced', changed: false, outbox: null });
  });

  it('row 6: synced + local delete -> deleting, outbox delete, version + 1', () => {
    const t = transition(item('synced'), localDelete);
    expect(t).toMatchObject({ row: 6, to: 'deleting', outbox: { op: 'delete', version: 4 } });
    expect(t.next).toMatchObject({ deleted: true, state: 'pending', data: { name: 'Ours' } });
  });

  it('row 7: synced + fresher inbound upsert with other content -> overwritten as remote, fenced, entry added', () => {
    const t = transition(item('synced'), upsert(T(20), { entries: [B] }));
    expect(t).toMatchObject({ row: 7, to: 'synced', outcome: 'updated' });
    expect(t.next).toMatchObject({ data: { name: 'Theirs' }, origin: 'remote', fenceAt: T(20), seenBy: [A, B], version: 3 });
  });

  it('row 8: synced + inbound upsert with the same content -> nothing, except a new entry (and remoteKnown) learned', () => {
    const same = upsert(T(20), { hash: 'h-ours', data: { name: 'Ours' } });
    expect(transition(item('synced'), same)).toMatchObject({ row: 8, outcome: 'unchanged', changed: false });
    const learns = transition(item('synced', { remoteKnown: false }), { ...same, entries: [B] } as SyncEvent);
    expect(learns).toMatchObject({ row: 8, outcome: 'unchanged', changed: true });
    expect(learns.next).toMatchObject({ seenBy: [A, B], remoteKnown: true, fenceAt: T(10), data: { name: 'Ours' } });
    // A webhook raises the fence: an older call applied after it cannot undo it.
    expect(transition(item('synced'), { ...same, source: 'webhook' } as SyncEvent).next?.fenceAt).toEqual(T(20));
  });

  it('row 9: synced + fresher inbound delete -> gone, tombstone fenced at its freshness', () => {
    const t = transition(item('synced'), remove(T(20)));
    expect(t).toMatchObject({ row: 9, to: 'gone', outcome: 'deleted' });
    expect(t.next).toMatchObject({ deleted: true, fenceAt: T(20), remoteKnown: false });
  });

  it('row 10: synced + absent from entry E\'s consistent snapshot -> E leaves seenBy; gone when none is left, fenced at the snapshot start', () => {
    const absentFromA: SyncEvent = { type: 'snapshot-absent', entry: A, snapshotStart: T(20), twoMiss: false };
    const gone = transition(item('synced'), absentFromA);
    expect(gone).toMatchObject({ row: 10, to: 'gone', outcome: 'deleted' });
    expect(gone.next).toMatchObject({ seenBy: [], fenceAt: T(20), deleted: true });
    // Listed by two entries: deleted only when both stopped listing it.
    const left = transition(item('synced', { seenBy: [A, B] }), absentFromA);
    expect(left).toMatchObject({ row: 10, to: 'synced', outcome: 'left' });
    expect(left.next?.seenBy).toEqual([B]);
    // Another entry's item, or one changed since the snapshot began: not considered.
    expect(transition(item('synced', { seenBy: [B] }), absentFromA)).toMatchObject({ changed: false });
    expect(transition(item('synced', { fenceAt: T(20) }), absentFromA)).toMatchObject({ changed: false });
    // Page numbers without a total: the first miss is remembered, the second consecutive one counts.
    const twoMiss: SyncEvent = { ...absentFromA, twoMiss: true } as SyncEvent;
    const first = transition(item('synced'), twoMiss);
    expect(first).toMatchObject({ row: 10, to: 'synced', outcome: 'missed' });
    expect(transition(first.next, twoMiss)).toMatchObject({ row: 10, to: 'gone', outcome: 'deleted' });
    // Listed again in between: the miss is forgotten.
    expect(transition(first.next, upsert(T(25), { hash: 'h-ours' })).next?.missedBy).toEqual([]);
  });

  it('row 11: pending + local update / delete -> pending / deleting, version + 1', () => {
    expect(transition(item('pending'), localUpdate())).toMatchObject({ row: 11, to: 'pending', outbox: { op: 'upsert', version: 4 } });
    const t = transition(item('pending'), localDelete);
    expect(t).toMatchObject({ row: 11, to: 'deleting', outbox: { op: 'delete', version: 4 } });
    // The previous version's answers are forgotten: its deliveries are superseded.
    expect(t.next).toMatchObject({ awaiting: [], gaveUp: [], acked: false });
  });

  it('row 12: pending + fresher inbound upsert or delete -> pending, the change held (counted conflicts)', () => {
    const t = transition(item('pending'), upsert(T(20)));
    expect(t).toMatchObject({ row: 12, to: 'pending', outcome: 'conflict' });
    expect(t.next).toMatchObject({ data: { name: 'Ours' }, held: { op: 'upsert', data: { name: 'Theirs' }, at: T(20) } });
    expect(transition(item('pending'), remove(T(20))).next?.held).toMatchObject({ op: 'delete', at: T(20) });
    // Only the newest is kept; the same change seen again writes nothing.
    const withHeld = item('pending', { held: { ...heldUpsert, at: T(25) } });
    expect(transition(withHeld, upsert(T(20)))).toMatchObject({ changed: false, outcome: 'conflict' });
    expect(transition(item('pending', { held: heldUpsert }), upsert(T(25), { hash: 'h-held', data: { name: 'Held' } }))).toMatchObject({ changed: false });
  });

  it('row 13: pending + fan-out -> pending, awaiting the matching output webhooks', () => {
    const pending = item('pending', { pendingEvent: { id: 'ev1', op: 'upsert', version: 3, at: T(5) }, awaiting: [] });
    const t = transition(pending, { type: 'fan-out', eventId: 'ev1', webhooks: ['w1', 'w2'] });
    expect(t).toMatchObject({ row: 13, to: 'pending', outcome: 'fanned-out' });
    expect(t.next).toMatchObject({ pendingEvent: null, awaiting: ['w1', 'w2'], gaveUp: [], acked: false });
    // A fan-out of an older event (replaced meanwhile) does nothing.
    expect(transition(pending, { type: 'fan-out', eventId: 'ev0', webhooks: ['w1'] })).toMatchObject({ changed: false });
  });

  it('row 14: pending + fan-out with no matching output webhook -> synced, nothing sent (a held change applies)', () => {
    const pending = item('pending', { pendingEvent: { id: 'ev1', op: 'upsert', version: 3, at: T(5) }, awaiting: [] });
    const t = transition(pending, { type: 'fan-out', eventId: 'ev1', webhooks: [] });
    expect(t).toMatchObject({ row: 14, to: 'synced', outcome: 'settled', outbox: null });
    expect(t.next).toMatchObject({ pendingEvent: null, data: { name: 'Ours' } });
    expect(transition({ ...pending, held: heldUpsert }, { type: 'fan-out', eventId: 'ev1', webhooks: [] }).next).toMatchObject({ data: { name: 'Held' }, origin: 'remote', held: null });
  });

  it('row 15: pending + every awaited webhook acknowledged -> synced, remoteKnown, seenBy every entry, fenced at the acknowledgement, held dropped', () => {
    const t = transition(item('pending', { held: heldUpsert, remoteKnown: false }), answered('acknowledged'));
    expect(t).toMatchObject({ row: 15, to: 'synced', fenceNow: true, outcome: 'settled' });
    expect(t.next).toMatchObject({ remoteKnown: true, seenBy: [A, B], held: null, awaiting: [], data: { name: 'Ours' } });
  });

  it('row 16: pending + the last awaited webhook answered, one gave up -> diverged, held kept', () => {
    const t = transition(item('pending', { held: heldUpsert }), answered('gave-up'));
    expect(t).toMatchObject({ row: 16, to: 'diverged', fenceNow: false });
    expect(t.next).toMatchObject({ held: heldUpsert, gaveUp: ['w1'], data: { name: 'Ours' } });
    expect(divergenceChange(t)).toBe('diverged');
  });

  it('row 17: pending + every remaining awaited webhook removed, or switched to one-way -> synced, a held change applied', () => {
    const t = transition(item('pending', { held: heldUpsert }), { type: 'webhooks-withdrawn', webhooks: ['w1'], allEntries: [A] });
    expect(t).toMatchObject({ row: 17, to: 'synced' });
    expect(t.next).toMatchObject({ data: { name: 'Held' }, origin: 'remote', fenceAt: T(20), held: null, awaiting: [] });
    const oneWay = transition(item('pending', { pendingEvent: { id: 'ev1', op: 'upsert', version: 3, at: T(5) } }), { type: 'switched-to-one-way' });
    expect(oneWay).toMatchObject({ row: 17, to: 'synced' });
    expect(oneWay.next).toMatchObject({ pendingEvent: null, awaiting: [], data: { name: 'Ours' } });
  });

  it('row 18: diverged + fresher inbound upsert or delete -> diverged, the change held (counted diverged)', () => {
    const t = transition(item('diverged'), upsert(T(20)));
    expect(t).toMatchObject({ row: 18, to: 'diverged', outcome: 'diverged' });
    expect(t.next).toMatchObject({ data: { name: 'Ours' }, held: { op: 'upsert', at: T(20) } });
    expect(transition(item('diverged'), remove(T(20)))).toMatchObject({ row: 18, outcome: 'diverged' });
    // The same for a DELETE the third party never took.
    expect(transition(item('delete-diverged'), upsert(T(20)))).toMatchObject({ row: 18, to: 'delete-diverged', outcome: 'diverged' });
  });

  it('row 19: diverged + local update / delete -> pending / deleting, version + 1 (resolves the divergence)', () => {
    const t = transition(item('diverged'), localUpdate());
    expect(t).toMatchObject({ row: 19, to: 'pending', outbox: { op: 'upsert', version: 4 } });
    expect(divergenceChange(t)).toBe('resolved');
    expect(transition(item('diverged'), localDelete)).toMatchObject({ row: 19, to: 'deleting', outbox: { op: 'delete', version: 4 } });
  });

  it('row 20: diverged + replay -> pending, awaiting the replayed webhooks', () => {
    const t = transition(item('diverged'), { type: 'replay', webhooks: ['w1'] });
    expect(t).toMatchObject({ row: 20, to: 'pending', outcome: 'replayed' });
    expect(t.next).toMatchObject({ awaiting: ['w1'], gaveUp: [], version: 3 });
  });

  it('row 21: diverged + accept remote with a held upsert -> synced, the held change applied as remote', () => {
    const t = transition(item('diverged', { held: heldUpsert }), { type: 'accept-remote', allEntries: [A, B] });
    expect(t).toMatchObject({ row: 21, to: 'synced', outcome: 'resolved' });
    expect(t.next).toMatchObject({ data: { name: 'Held' }, origin: 'remote', fenceAt: T(20), held: null, seenBy: [A, B] });
  });

  it('row 22: diverged + accept remote with a held delete, or none and never held remotely -> gone, fenced now', () => {
    expect(transition(item('diverged', { held: heldDelete }), { type: 'accept-remote', allEntries: [A, B] })).toMatchObject({ row: 22, to: 'gone', fenceNow: true });
    expect(transition(item('diverged', { remoteKnown: false }), { type: 'accept-remote', allEntries: [A, B] })).toMatchObject({ row: 22, to: 'gone', fenceNow: true });
  });

  it('row 23: diverged + accept remote, none held, held remotely -> synced, nothing else', () => {
    const t = transition(item('diverged'), { type: 'accept-remote', allEntries: [A, B] });
    expect(t).toMatchObject({ row: 23, to: 'synced', fenceNow: false });
    expect(t.next).toMatchObject({ data: { name: 'Ours' }, fenceAt: T(10), gaveUp: [] });
    // The third party has it: any entry may list it, and its deletion pass considers it (as row 15).
    expect(t.next?.seenBy).toEqual([A, B]);
  });

  it('row 24: deleting + local create -> pending, outbox upsert, version + 1 (supersedes the DELETE)', () => {
    const t = transition(item('deleting'), localCreate);
    expect(t).toMatchObject({ row: 24, to: 'pending', outbox: { op: 'upsert', version: 4 } });
    expect(t.next).toMatchObject({ deleted: false, data: { name: 'Again' }, awaiting: [] });
  });

  it('row 25: deleting + fresher inbound upsert or delete -> deleting, the change held (counted conflicts)', () => {
    expect(transition(item('deleting'), upsert(T(20)))).toMatchObject({ row: 25, to: 'deleting', outcome: 'conflict' });
    expect(transition(item('deleting'), remove(T(20)))).toMatchObject({ row: 25, to: 'deleting', outcome: 'conflict' });
  });

  it('row 26: deleting + fan-out with no matching DELETE webhook -> absent, tombstone removed', () => {
    const deleting = item('deleting', { pendingEvent: { id: 'ev1', op: 'delete', version: 3, at: T(5) }, awaiting: [] });
    expect(transition(deleting, { type: 'fan-out', eventId: 'ev1', webhooks: [] })).toMatchObject({ row: 26, to: 'absent', next: null });
  });

  it('row 27: deleting + every awaited webhook acknowledged -> gone, fenced at the acknowledgement, held dropped', () => {
    const t = transition(item('deleting', { held: heldUpsert }), answered('acknowledged'));
    expect(t).toMatchObject({ row: 27, to: 'gone', fenceNow: true });
    expect(t.next).toMatchObject({ held: null, deleted: true, remoteKnown: false });
  });

  it('row 28: deleting + the last awaited webhook answered, one gave up -> delete-diverged, held kept', () => {
    const t = transition(item('deleting', { held: heldUpsert }), answered('gave-up'));
    expect(t).toMatchObject({ row: 28, to: 'delete-diverged' });
    expect(t.next?.held).toEqual(heldUpsert);
  });

  it('row 29: deleting + every remaining awaited webhook removed, or switched to one-way -> absent, tombstone removed', () => {
    expect(transition(item('deleting'), { type: 'webhooks-withdrawn', webhooks: ['w1'], allEntries: [A] })).toMatchObject({ row: 29, to: 'absent', next: null });
    expect(transition(item('deleting'), { type: 'switched-to-one-way' })).toMatchObject({ row: 29, to: 'absent' });
    // A held upsert is the third party's word: the item comes back with it.
    expect(transition(item('deleting', { held: heldUpsert }), { type: 'switched-to-one-way' }).next).toMatchObject({ data: { name: 'Held' }, deleted: false, state: 'synced' });
  });

  it('row 30: delete-diverged + replay -> deleting, the failed DELETEs sent again', () => {
    const t = transition(item('delete-diverged'), { type: 'replay', webhooks: ['w1'] });
    expect(t).toMatchObject({ row: 30, to: 'deleting' });
    expect(t.next).toMatchObject({ awaiting: ['w1'], gaveUp: [] });
  });

  it('row 31: delete-diverged + accept remote -> synced (held upsert, or the last data), or gone (held delete)', () => {
    expect(transition(item('delete-diverged', { held: heldUpsert }), { type: 'accept-remote', allEntries: [A, B] }).next).toMatchObject({ data: { name: 'Held' }, deleted: false, origin: 'remote' });
    const revived = transition(item('delete-diverged'), { type: 'accept-remote', allEntries: [A, B] });
    expect(revived).toMatchObject({ row: 31, to: 'synced' });
    expect(revived.next).toMatchObject({ data: { name: 'Ours' }, origin: 'remote', deleted: false, seenBy: [A, B] });
    expect(transition(item('delete-diverged', { held: heldDelete }), { type: 'accept-remote', allEntries: [A, B] })).toMatchObject({ row: 31, to: 'gone', fenceNow: true });
    // Never held remotely: nothing to revive.
    expect(transition(item('delete-diverged', { remoteKnown: false }), { type: 'accept-remote', allEntries: [A, B] })).toMatchObject({ row: 31, to: 'gone' });
  });

  it('row 32: delete-diverged + local create -> pending, outbox upsert, version + 1', () => {
    expect(transition(item('delete-diverged'), localCreate)).toMatchObject({ row: 32, to: 'pending', outbox: { op: 'upsert', version: 4 } });
  });

  it('row 33: gone + local create -> pending, revived, outbox upsert, version + 1', () => {
    const t = transition(item('gone'), localCreate);
    expect(t).toMatchObject({ row: 33, to: 'pending', outbox: { op: 'upsert', version: 4 } });
    // The tombstone's fence stays: a snapshot older than the delete still cannot touch it.
    expect(t.next).toMatchObject({ deleted: false, fenceAt: T(10), data: { name: 'Again' } });
  });

  it('row 34: gone + fresher inbound upsert -> synced, revived as remote', () => {
    const t = transition(item('gone'), upsert(T(20)));
    expect(t).toMatchObject({ row: 34, to: 'synced', outcome: 'created' });
    expect(t.next).toMatchObject({ deleted: false, origin: 'remote', fenceAt: T(20), remoteKnown: true });
  });

  it('row 35: gone + inbound delete, or absent from a snapshot -> gone, nothing', () => {
    expect(transition(item('gone'), remove(T(20)))).toMatchObject({ row: 35, to: 'gone', changed: false });
    expect(transition(item('gone'), { type: 'snapshot-absent', entry: A, snapshotStart: T(20), twoMiss: false })).toMatchObject({ row: 35, changed: false });
  });

  it('row 36: gone + TOMBSTONE_RETENTION_MS after its fence -> absent, document removed', () => {
    expect(transition(item('gone'), { type: 'tombstone-expired' })).toMatchObject({ row: 36, to: 'absent', next: null });
    expect(transition(item('deleting'), { type: 'tombstone-expired' })).toMatchObject({ changed: false });
  });
});

describe('inbound changes not fresher than the item\'s fence are stale in every state', () => {
  it.each(['synced', 'pending', 'diverged', 'deleting', 'delete-diverged', 'gone'] as const)('%s', (state) => {
    for (const freshness of [T(5), T(10)]) {
      expect(transition(item(state), upsert(freshness))).toMatchObject({ outcome: 'stale', changed: false, to: state });
      expect(transition(item(state), remove(freshness))).toMatchObject({ outcome: 'stale', changed: false });
    }
  });

  it('a change older than the tombstone retention never creates an absent item', () => {
    expect(transition(null, upsert(T(20), { mayCreate: false }))).toMatchObject({ outcome: 'stale', changed: false, next: null });
  });
});

describe('polling entries removed (rule 8)', () => {
  const removed = (entries: string[]): SyncEvent => ({ type: 'entries-removed', entries });

  it('the removed entries leave seenBy and missedBy; an item they never listed is left as it is', () => {
    const t = transition(item('synced', { seenBy: [A, B], missedBy: [A] }), removed([A]));
    expect(t).toMatchObject({ row: null, to: 'synced', outcome: 'left', changed: true });
    expect(t.next).toMatchObject({ seenBy: [B], missedBy: [] });
    expect(transition(item('synced', { seenBy: [B] }), removed([A]))).toMatchObject({ changed: false, outcome: 'ignored' });
  });

  it("they leave a held change's entries too, so applying it later (rows 14, 17, 21, 26, 29, 31) does not list the item under them again", () => {
    // Held from entries A and B, on an item B lists.
    const held: HeldChange = { ...heldUpsert, entries: [A, B] };
    const t = transition(item('pending', { seenBy: [B], held, pendingEvent: { id: 'ev1', op: 'upsert', version: 3, at: T(5) }, awaiting: [] }), removed([A]));
    expect(t).toMatchObject({ changed: true, outcome: 'left' });
    expect(t.next).toMatchObject({ seenBy: [B], held: { ...held, entries: [B] } });
    // Row 14 applies it: the item is listed by B alone.
    expect(transition(t.next, { type: 'fan-out', eventId: 'ev1', webhooks: [] }).next).toMatchObject({ data: { name: 'Held' }, seenBy: [B] });
  });

  it('a held change whose every entry was removed stays held (the third party\'s word), and applied lists the item under no removed entry', () => {
    const t = transition(item('diverged', { seenBy: [], held: { ...heldUpsert, entries: [A] } }), removed([A]));
    expect(t).toMatchObject({ changed: true, to: 'diverged' });
    expect(t.next?.held).toEqual({ ...heldUpsert, entries: [] });
    // Row 21: accepted, its data applies; no removed entry may list the item.
    expect(transition(t.next, { type: 'accept-remote', allEntries: [B] }).next).toMatchObject({ data: { name: 'Held' }, origin: 'remote', seenBy: [] });
  });
});

describe('several output webhooks (rule 4)', () => {
  const two = (): ItemFacts => item('pending', { awaiting: ['w1', 'w2'], held: heldUpsert });

  it('the first acknowledgement does not settle the item: it stays pending (and fenced), the held change kept', () => {
    const t = transition(two(), answered('acknowledged', 'w1'));
    expect(t).toMatchObject({ row: null, to: 'pending', fenceNow: true, outcome: 'answered' });
    expect(t.next).toMatchObject({ awaiting: ['w2'], acked: true, remoteKnown: true, held: heldUpsert });
    // Inbound changes still do not touch it.
    expect(transition(t.next, upsert(T(25)))).toMatchObject({ row: 12, outcome: 'conflict' });
    const last = transition(t.next, answered('acknowledged', 'w2'));
    expect(last).toMatchObject({ row: 15, to: 'synced' });
  });

  it('one gives up, the other acknowledges: diverged once both answered', () => {
    const first = transition(two(), answered('gave-up', 'w1'));
    expect(first).toMatchObject({ to: 'pending' });
    expect(transition(first.next, answered('acknowledged', 'w2'))).toMatchObject({ row: 16, to: 'diverged', fenceNow: true });
  });

  it('an answer for an older version, or from a webhook not awaited, changes nothing', () => {
    expect(transition(two(), answered('acknowledged', 'w1', 2))).toMatchObject({ changed: false });
    expect(transition(two(), answered('acknowledged', 'w9'))).toMatchObject({ changed: false });
  });

  it('the remaining webhook removed after the other acknowledged: synced as acknowledged (held dropped)', () => {
    const first = transition(two(), answered('acknowledged', 'w1'));
    expect(transition(first.next, { type: 'webhooks-withdrawn', webhooks: ['w2'], allEntries: [A] })).toMatchObject({ row: 15, to: 'synced', next: { held: null } });
  });
});

describe('one-way organizations: no outbox', () => {
  const oneWay = { twoWay: false };

  it('a local create or update writes the item synced, origin local, and sends nothing', () => {
    const created = transition(null, { ...localCreate, ...oneWay } as SyncEvent);
    expect(created).toMatchObject({ row: 1, oneWay: true, to: 'synced', outbox: null });
    expect(created.next).toMatchObject({ origin: 'local', version: 7, pendingEvent: null });
    const updated = transition(item('synced'), { ...localUpdate(), ...oneWay } as SyncEvent);
    expect(updated).toMatchObject({ to: 'synced', outbox: null, next: { data: { name: 'New' }, origin: 'local', version: 3 } });
    // The next fresher inbound change overwrites it: the third party is the source.
    expect(transition(updated.next, upsert(T(20)))).toMatchObject({ row: 7, next: { data: { name: 'Theirs' } } });
  });

  it('a local delete removes the document', () => {
    expect(transition(item('synced'), { ...localDelete, ...oneWay } as SyncEvent)).toMatchObject({ to: 'absent', next: null, outbox: null });
  });

  it('a diverged item is settled by the switch to one-way (the third party is the source)', () => {
    expect(transition(item('diverged', { held: heldUpsert }), { type: 'switched-to-one-way' }).next).toMatchObject({ state: 'synced', data: { name: 'Held' } });
    expect(transition(item('delete-diverged'), { type: 'switched-to-one-way' })).toMatchObject({ to: 'absent' });
  });
});

describe('local writes the API refuses', () => {
  it('a create of a live item is `exists`; an update or delete of a tombstone is `not-found`', () => {
    for (const state of ['synced', 'pending', 'diverged'] as const) expect(transition(item(state), localCreate).outcome).toBe('exists');
    for (const state of ['deleting', 'delete-diverged', 'gone'] as const) {
      expect(transition(item(state), localUpdate()).outcome).toBe('not-found');
      expect(transition(item(state), localDelete).outcome).toBe('not-found');
    }
    expect(transition(null, localUpdate()).outcome).toBe('not-found');
  });

  it('every transition names states the table knows', () => {
    expect(itemStateOf(transition(item('synced'), localDelete).next)).toBe('deleting');
  });
});
