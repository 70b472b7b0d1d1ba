import { contentHash, inventoryItemId, type Organization } from '@music/domain';
import { OrganizationRepository, withEntryIds } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, testSecretBox, uniqueName, type TestStore } from '@music/testing';
import { DeliveryFailures } from './failures';
import { Maintenance } from './maintenance';
import type { InboundRecord } from './remote-changes';
import { createSyncState, type SyncState } from './sync-state';

const song = (externalId: string, name: string): InboundRecord => {
  const data = { name, artist: 'A', album: 'B' };
  return { externalId, data, hash: contentHash(externalId, data) };
};

// docs/sync-model.md, rule 8 (and docs/reliability.md, bug 9): a write that read the organization
// (a poll run, an input webhook call) and listed its items under the polling entries it read
// applies the configuration again when one of those entries was removed while it wrote, so the
// removed entry does not stay in the items' `seenBy` and keep them from the other entries'
// deletion passes (rule 6). Only the revision is read while the organization did not change.
describe('Maintenance.reconcileEntriesRemovedSince (real store)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let sync: SyncState;
  let organizations: OrganizationRepository;
  let maintenance: Maintenance;
  /** The organization reads the method made (full reads, not the revision's). */
  let reads = 0;
  let reconciled: string[] = [];
  let seq = 0;

  beforeAll(async () => {
    store = await openTestStore('entries_removed');
    redis = openTestRedis();
    const locks = new RedisLocks(redis, { prefix: uniqueName('entries_removed') });
    sync = createSyncState({ models: store.models, locks });
    organizations = new OrganizationRepository(store.models, testSecretBox());
    const counted = {
      findById: (id: string) => {
        reads++;
        return organizations.findById(id);
      },
      revisionOf: (id: string) => organizations.revisionOf(id),
    };
    maintenance = new Maintenance(sync.items, sync.outbound, store.models, new DeliveryFailures(store.models), counted, locks);
    const reconcile = maintenance.reconcileConfiguration.bind(maintenance);
    maintenance.reconcileConfiguration = (organizationId: string) => {
      reconciled.push(organizationId);
      return reconcile(organizationId);
    };
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });
  beforeEach(() => {
    reads = 0;
    reconciled = [];
  });

  /** A two-way organization with two polling entries, and an item both list (written by an input webhook call). */
  const organizationWithItem = async () => {
    const settings = withEntryIds({
      synchronization: 'two-way',
      webhooks: [],
      polling: ['first', 'second'].map((p) => ({ endpoint: `http://127.0.0.1:9/music/${p}`, interval: 1, type: 'hour' as const, trackDeletes: true })),
      mappings: {},
      transforms: [],
    });
    const org = await organizations.create(`owner-${++seq}`, settings);
    const entries = org.polling.map((p) => p.id);
    await sync.remote.applyUpserts(org.id, [song('a', 'one')], { kind: 'webhook', freshness: new Date('2026-01-01T00:00:00Z'), entries });
    return { org, settings, entries };
  };
  const seenBy = async (org: Organization) => (await sync.items.read(inventoryItemId(org.id, 'a')))?.seenBy.slice().sort();

  it('the revision unchanged: no entry is gone, and the organization is not read', async () => {
    const { org, entries } = await organizationWithItem();
    expect(await maintenance.reconcileEntriesRemovedSince(org.id, org.revision, entries)).toEqual({ gone: [] });
    expect(reads).toBe(0);
    expect(reconciled).toEqual([]);
  });

  it('the revision moved, every entry read still there (a rename): nothing is reconciled', async () => {
    const { org, settings, entries } = await organizationWithItem();
    await organizations.replace(org.ownerId, org.id, { ...settings, name: 'renamed' });
    expect((await maintenance.reconcileEntriesRemovedSince(org.id, org.revision, entries)).gone).toEqual([]);
    expect(reads).toBe(1);
    expect(reconciled).toEqual([]);
    expect(await seenBy(org)).toEqual(entries.slice().sort());
  });

  it('an entry read removed, and its removal reconciled, before the write listed it: reconciled again, and the entry reported gone', async () => {
    const { org, settings, entries } = await organizationWithItem();
    const [first, second] = entries;
    // The owner removes the second entry, and the change's own reconciliation takes it out of the item...
    await organizations.replace(org.ownerId, org.id, { ...settings, polling: settings.polling.slice(0, 1) });
    await maintenance.reconcileConfiguration(org.id);
    expect(await seenBy(org)).toEqual([first]);
    // ...then the write that read both entries lists the item under both.
    await sync.remote.applyUpserts(org.id, [song('a', 'two')], { kind: 'webhook', freshness: new Date('2026-01-02T00:00:00Z'), entries });
    expect(await seenBy(org)).toEqual(entries.slice().sort());
    reconciled = [];

    const since = await maintenance.reconcileEntriesRemovedSince(org.id, org.revision, entries);
    expect(since.gone).toEqual([second]);
    expect(reconciled).toEqual([org.id]);
    // What it did, for the caller's memory of reconciled revisions.
    expect(since.reconciled).toMatchObject({ revision: org.revision + 1, complete: true, entriesRemoved: 1 });
    expect(await seenBy(org)).toEqual([first]);
  });

  it('the organization deleted meanwhile: every entry read is gone', async () => {
    const { org, entries } = await organizationWithItem();
    await organizations.markDeleted(org.ownerId, org.id);
    expect((await maintenance.reconcileEntriesRemovedSince(org.id, org.revision, entries)).gone).toEqual(entries);
  });
});
