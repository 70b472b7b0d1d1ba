import { contentHash } from '@music/domain';
import { OrganizationRepository } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, uniqueName, type TestStore } from '@music/testing';
import { RemoteChanges, type InboundRecord, type SnapshotFence } from './remote-changes';
import { createSyncState, type SyncState } from './sync-state';

// A deletion pass's fence (docs/sync-model.md, rule 6): each batch is written only while the
// organization is at the revision the caller found its snapshot still the entry's at, read under
// the batch's locks. When it moved, the caller is asked again: it stops the pass, or lets it go on
// at the newer revision; an organization that never rests stops it after a few rechecks.
const E = 'entry-e';
const T0 = new Date('2026-01-01T00:00:00Z');
const SNAPSHOT_START = new Date('2026-01-02T00:00:00Z');
const IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
// Four absent (below the guard's half), deleted two at a time.
const LISTED = IDS.slice(0, 6);

const record = (externalId: string): InboundRecord => {
  const data = { name: `Song ${externalId}`, artist: 'A', album: 'B' };
  return { externalId, data, hash: contentHash(externalId, data) };
};

describe('deletion pass fenced on the organization revision (real store)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let sync: SyncState;
  let remote: RemoteChanges;
  let orgSeq = 0;

  beforeAll(async () => {
    store = await openTestStore('deletion_fence');
    redis = openTestRedis();
    sync = createSyncState({ models: store.models, locks: new RedisLocks(redis, { prefix: uniqueName('deletion_fence') }) });
    remote = new RemoteChanges(sync.items, store.models, new OrganizationRepository(store.models), { deletionBatch: 2 });
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  /** A live organization at revision 1 whose entry E listed every item of IDS. */
  const organization = async (): Promise<string> => {
    const id = `org-fence-${++orgSeq}`;
    await store.models.organizations.collection.insertOne({ _id: id, revision: 1, deletedAt: null } as never);
    await remote.applyUpserts(id, IDS.map(record), { kind: 'poll', entry: E, freshness: T0 }, { insertFirst: true });
    return id;
  };
  const bump = (id: string) => store.models.organizations.collection.updateOne({ _id: id } as never, { $inc: { revision: 1 } });
  const revisionOf = async (id: string) => ((await store.models.organizations.collection.findOne({ _id: id } as never)) as unknown as { revision: number }).revision;
  const deleted = async (id: string) => (await store.models.inventoryItems.find({ organizationId: id, deleted: true }, { externalId: 1 }).lean<Array<{ externalId: string }>>()).map((d) => d.externalId).sort();
  const pass = (id: string, fence: SnapshotFence) => remote.reconcileSnapshot(id, { entry: E, seen: new Set(LISTED), startedAt: SNAPSHOT_START, twoMiss: false }, { guardRatio: 0.5, fence });

  it('at the revision read, every batch is written', async () => {
    const id = await organization();
    let rechecks = 0;
    const verdict = await pass(id, { revision: 1, recheck: async () => (rechecks++, { stop: 'no' }) });
    expect(verdict).toMatchObject({ held: false, stopped: false, deleted: 4, message: null });
    expect(rechecks).toBe(0);
  });

  it('the revision moved and the caller says the snapshot is no longer the entry\'s: nothing is deleted', async () => {
    const id = await organization();
    await bump(id);
    let rechecks = 0;
    const verdict = await pass(id, { revision: 1, recheck: async () => (rechecks++, { stop: 'the entry changed; deletions skipped' }) });
    expect(verdict).toMatchObject({ held: false, stopped: true, deleted: 0, message: 'the entry changed; deletions skipped' });
    expect(rechecks).toBe(1);
    expect(await deleted(id)).toEqual([]);
  });

  it('the revision moved and the caller finds the snapshot still the entry\'s at the new one: the pass goes on', async () => {
    const id = await organization();
    await bump(id);
    let rechecks = 0;
    const verdict = await pass(id, { revision: 1, recheck: async () => (rechecks++, { revision: await revisionOf(id) }) });
    expect(verdict).toMatchObject({ held: false, stopped: false, deleted: 4, message: null });
    expect(rechecks).toBe(1);
    expect(await deleted(id)).toEqual(['g', 'h', 'i', 'j']);
  });

  it('an organization that moves again after every recheck stops the pass after a few, deleting nothing more', async () => {
    const id = await organization();
    await bump(id);
    let rechecks = 0;
    // Each recheck finds the snapshot still the entry's at the revision it reads, and the organization changes again at once.
    const verdict = await pass(id, {
      revision: 1,
      recheck: async () => {
        rechecks++;
        const now = await revisionOf(id);
        await bump(id);
        return { revision: now };
      },
    });
    expect(verdict.deleted).toBe(0);
    expect(verdict).toMatchObject({ stopped: true, message: expect.stringContaining('kept changing') });
    expect(rechecks).toBe(3);
  });
});
