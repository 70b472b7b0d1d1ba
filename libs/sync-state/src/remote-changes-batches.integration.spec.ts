import { contentHash, inventoryItemId } from '@music/domain';
import { OrganizationRepository, type InventoryItemDoc } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, uniqueName, type TestStore } from '@music/testing';
import { RemoteChanges, type InboundRecord, type Snapshot } from './remote-changes';
import { createSyncState, type SyncState } from './sync-state';

// The deletion pass (docs/sync-model.md, rule 6, row 10) reads its candidates from the store in
// batches. With batches of 3, a snapshot missing items must delete exactly the absent items of its
// polling entry whatever batch they fall in (first or last of a batch, a batch all present or all
// absent, the last partial batch), and the delete guard must count over every batch, not one.
const BATCH = 3;
const E = 'entry-e';
const F = 'entry-f';
const T0 = new Date('2026-01-01T00:00:00Z');
const SNAPSHOT_START = new Date('2026-01-02T00:00:00Z');
const AFTER_START = new Date('2026-01-03T00:00:00Z');

const record = (externalId: string): InboundRecord => {
  const data = { name: `Song ${externalId}`, artist: 'A', album: 'B' };
  return { externalId, data, hash: contentHash(externalId, data) };
};

describe('deletion pass across candidate batches (real store)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let sync: SyncState;
  let remote: RemoteChanges;
  let orgSeq = 0;
  /** Documents in each reply to the pass's candidate query (a find by organization, and its getMores) while `reading` is set. */
  let reading = false;
  const batches: number[] = [];

  beforeAll(async () => {
    store = await openTestStore('deletion_batches', { monitorCommands: true });
    const client = store.connection.getClient();
    // Requests reading candidates, and the cursors they opened (the item writer's reads go by _id only).
    const candidateRequests = new Set<number>();
    const candidateCursors = new Set<string>();
    client.on('commandStarted', (e) => {
      if (!reading) return;
      const filter = e.command['filter'] as Record<string, unknown> | undefined;
      if (e.commandName === 'find' && e.command['find'] === 'inventory_items' && filter?.['organizationId'] !== undefined) candidateRequests.add(e.requestId);
      if (e.commandName === 'getMore' && candidateCursors.has(String(e.command['getMore']))) candidateRequests.add(e.requestId);
    });
    client.on('commandSucceeded', (e) => {
      if (!candidateRequests.delete(e.requestId)) return;
      const cursor = (e.reply as { cursor?: { id?: unknown; firstBatch?: unknown[]; nextBatch?: unknown[] } }).cursor;
      if (cursor?.id !== undefined) candidateCursors.add(String(cursor.id));
      batches.push((cursor?.firstBatch ?? cursor?.nextBatch ?? []).length);
    });
    redis = openTestRedis();
    sync = createSyncState({ models: store.models, locks: new RedisLocks(redis, { prefix: uniqueName('deletion_batches') }) });
    remote = new RemoteChanges(sync.items, store.models, new OrganizationRepository(store.models), { candidateBatch: BATCH });
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  /** A live organization of its own (the writer keeps nothing it creates for one that is not live). */
  const organization = async (): Promise<string> => {
    const id = `org-del-${++orgSeq}`;
    await store.models.organizations.collection.insertOne({ _id: id, revision: 1, deletedAt: null } as never);
    return id;
  };

  /** `n` externalIds of `orgId`, in the order of their document ids (the order the store keeps them in when inserted so). */
  const idsInDocumentOrder = (orgId: string, prefix: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => `${prefix}${i}`).sort((a, b) => (inventoryItemId(orgId, a) < inventoryItemId(orgId, b) ? -1 : 1));

  const fromEntry = (orgId: string, externalIds: string[], freshness: Date, entries: string[] = [E]) =>
    entries.length === 1
      ? remote.applyUpserts(orgId, externalIds.map(record), { kind: 'poll', entry: entries[0] as string, freshness }, { insertFirst: true })
      : remote.applyUpserts(orgId, externalIds.map(record), { kind: 'webhook', freshness, entries }, { insertFirst: true });

  /** The externalIds of the pass's candidates, in the order the store returns them (the query the pass sends, unsorted). */
  const candidateOrder = async (orgId: string): Promise<string[]> =>
    (await store.models.inventoryItems.find({ organizationId: orgId, seenBy: E, deleted: false, state: 'synced' }, { externalId: 1 }).lean<Array<{ externalId: string }>>()).map((d) => d.externalId);

  const docs = async (orgId: string): Promise<Map<string, InventoryItemDoc>> =>
    new Map((await store.models.inventoryItems.find({ organizationId: orgId }).lean<InventoryItemDoc[]>()).map((d) => [d.externalId, d]));

  const snapshot = (seen: Iterable<string>, twoMiss = false): Snapshot => ({ entry: E, seen: new Set(seen), startedAt: SNAPSHOT_START, twoMiss });

  it('deletes exactly the absent items of the entry, whatever batch they fall in', async () => {
    const orgId = await organization();
    // 17 candidates in document order, read 3 at a time: [0 1 2] [3 4 5] [6 7 8] [9 10 11] [12 13 14] [15 16].
    const c = idsInDocumentOrder(orgId, 'c', 17);
    const at = (i: number): string => c[i] as string;
    // 7 is listed by E and F (it leaves E, stays); 10 changed after the snapshot began (not considered).
    for (let i = 0; i < c.length; i++) {
      if (i === 7) await fromEntry(orgId, [at(i)], T0, [E, F]);
      else await fromEntry(orgId, [at(i)], i === 10 ? AFTER_START : T0);
    }
    // Not candidates, all absent from the snapshot: an item of entry F only, a pending local change
    // of an item E listed (rule 3), a tombstone E listed (row 35), and E's item of another organization.
    await fromEntry(orgId, ['f-only'], T0, [F]);
    await fromEntry(orgId, ['pending', 'tombstone'], T0);
    const pending = await sync.items.read(inventoryItemId(orgId, 'pending'));
    expect(await sync.local.update({ id: orgId, synchronization: 'two-way' }, pending as NonNullable<typeof pending>, { name: 'Ours', artist: 'A', album: 'B' })).toMatchObject({ kind: 'written', item: { state: 'pending' } });
    expect(await remote.applyDeletes(orgId, ['tombstone'], { kind: 'webhook', freshness: new Date(T0.getTime() + 1000), entries: [E] })).toMatchObject({ deleted: 1 });
    const otherOrg = await organization();
    await fromEntry(otherOrg, ['c0', 'c1', 'c2', 'c3'], T0);

    // The positions below are batch positions only if the store returns the candidates in the order they were inserted.
    expect(await candidateOrder(orgId)).toEqual(c);

    const absent = [0, 6, 7, 8, 11, 10, 16].map(at);
    const present = c.filter((id) => !absent.includes(id));
    const before = await docs(orgId);
    const otherBefore = await docs(otherOrg);

    batches.length = 0;
    reading = true;
    const verdict = await remote.reconcileSnapshot(orgId, snapshot(present), { guardRatio: 0.5 });
    reading = false;

    // The candidates really were read 3 at a time (17 of them: 6 batches at least).
    expect(Math.max(...batches)).toBeLessThanOrEqual(BATCH);
    expect(batches.filter((n) => n > 0).length).toBeGreaterThanOrEqual(Math.ceil(c.length / BATCH));
    // Considered: every candidate but 10; absent: 0 (first of its batch), 6 7 8 (a batch all
    // absent), 11 (last of its batch), 16 (last of the last, partial batch).
    expect(verdict).toEqual({ held: false, stopped: false, considered: 16, absent: 6, deleted: 5, left: 1, missed: 0, deferred: 0, message: null });
    const after = await docs(orgId);
    for (const id of [0, 6, 8, 11, 16].map(at)) {
      expect({ id, doc: after.get(id) }).toMatchObject({ id, doc: { deleted: true, seenBy: [], fenceAt: SNAPSHOT_START } });
    }
    expect(after.get(at(7))).toMatchObject({ deleted: false, state: 'synced', seenBy: [F] });
    // Everything else is untouched: not one write (same revision, same document).
    const untouched = [...present, at(10), 'f-only', 'pending', 'tombstone'];
    for (const id of untouched) expect({ id, doc: after.get(id) }).toEqual({ id, doc: before.get(id) });
    expect(after.size).toBe(before.size);
    expect(await docs(otherOrg)).toEqual(otherBefore);
  });

  it('the two-miss rule marks every absent item across batches first, and deletes them at the second miss', async () => {
    const orgId = await organization();
    // 11 candidates: [0 1 2] [3 4 5] [6 7 8] [9 10]; absent: 2 (last of a batch), 3 4 5 (a whole batch), 9 (first of the partial batch).
    const c = idsInDocumentOrder(orgId, 'm', 11);
    for (const id of c) await fromEntry(orgId, [id], T0);
    expect(await candidateOrder(orgId)).toEqual(c);
    const absent = [2, 3, 4, 5, 9].map((i) => c[i] as string);
    const present = c.filter((id) => !absent.includes(id));

    const first = await remote.reconcileSnapshot(orgId, snapshot(present, true), { guardRatio: 0.5 });
    expect(first).toMatchObject({ held: false, considered: 11, absent: 5, deleted: 0, missed: 5 });
    const marked = await docs(orgId);
    for (const id of absent) expect({ id, doc: marked.get(id) }).toMatchObject({ id, doc: { deleted: false, missedBy: [E], seenBy: [E] } });
    for (const id of present) expect({ id, doc: marked.get(id) }).toMatchObject({ id, doc: { deleted: false, missedBy: [] } });

    const second = await remote.reconcileSnapshot(orgId, { ...snapshot(present, true), startedAt: new Date(SNAPSHOT_START.getTime() + 1000) }, { guardRatio: 0.5 });
    expect(second).toMatchObject({ held: false, considered: 11, absent: 5, deleted: 5, missed: 0 });
    const after = await docs(orgId);
    expect(c.filter((id) => after.get(id)?.deleted).sort()).toEqual([...absent].sort());
  });

  it('the delete guard counts the absent items of every batch: above the ratio in total, nothing is deleted', async () => {
    const orgId = await organization();
    // 13 candidates: [0 1 2] all present, [3 4 5] one absent (below the ratio alone), [6 7 8] all
    // absent, [9 10 11] two absent, [12] absent: 7 of 13, above 0.5, though the first two batches are
    // well below it and the first four alone (6 of 12) are not above it.
    const c = idsInDocumentOrder(orgId, 'g', 13);
    for (const id of c) await fromEntry(orgId, [id], T0);
    expect(await candidateOrder(orgId)).toEqual(c);
    const absent = [4, 6, 7, 8, 10, 11, 12].map((i) => c[i] as string);
    const before = await docs(orgId);

    const verdict = await remote.reconcileSnapshot(
      orgId,
      snapshot(c.filter((id) => !absent.includes(id))),
      { guardRatio: 0.5 },
    );
    expect(verdict).toMatchObject({ held: true, considered: 13, absent: 7, deleted: 0, left: 0, missed: 0 });
    expect(verdict.message).toContain('dropped 7 of 13');
    expect(await docs(orgId)).toEqual(before);
  });
});
