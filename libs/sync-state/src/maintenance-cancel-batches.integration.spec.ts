import { inventoryItemId, type InventoryItem } from '@music/domain';
import { OrganizationRepository, withEntryIds } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, replacing, testSecretBox, uniqueName, type TestStore } from '@music/testing';
import { DeliveryFailures } from './failures';
import { Maintenance } from './maintenance';
import { sendLeaseName } from './outbound';
import { createSyncState, type SyncState } from './sync-state';

const BATCH = 3;
const ITEMS = 7;

// docs/sync-model.md, rule 8, and docs/reliability.md, bug 8: a reconciliation cancels every
// pending delivery to a removed output webhook, taking the items' send leases a batch at a time,
// and leaves a delivery whose send is on its way (its send lease held) to its send. With batches
// of 3 and 7 deliveries, that holds in every batch, not only the first.
describe('configuration reconciliation: cancellations across send-lease batches (real store, real Redis)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let prefix: string;
  let sync: SyncState;
  let organizations: OrganizationRepository;
  let maintenance: Maintenance;
  /** The lease names of each `withLocks` call the reconciliation made, in order. */
  const taken: string[][] = [];

  beforeAll(async () => {
    store = await openTestStore('cancel_batches');
    redis = openTestRedis();
    prefix = uniqueName('cancel_batches');
    const locks = new RedisLocks(redis, { prefix });
    sync = createSyncState({ models: store.models, locks });
    organizations = new OrganizationRepository(store.models, testSecretBox());
    const watched = replacing(locks, 'withLocks', (real, ...args) => {
      taken.push([...(args[0] as string[])]);
      return real(...args);
    });
    maintenance = new Maintenance(sync.items, sync.outbound, store.models, new DeliveryFailures(store.models), organizations, watched, { cancelBatch: BATCH });
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  it('every pending delivery to a removed webhook is cancelled, and the one being sent in the second batch is left to its send', async () => {
    const settings = withEntryIds({ synchronization: 'two-way', webhooks: [{ type: 'output', url: 'http://127.0.0.1:9/sync', method: 'POST' }], polling: [], mappings: {}, transforms: [] });
    const org = await organizations.create('owner', settings);
    const webhook = org.webhooks[0];
    if (!webhook) throw new Error('no webhook');
    for (let i = 1; i <= ITEMS; i++) {
      const created = await sync.local.create(org, { externalId: `x${i}`, data: { name: `Song ${i}` } });
      const item = (created as { item: InventoryItem }).item;
      expect(await sync.outbound.fanOut(item, item.pendingEvent?.id as string, { webhooks: [webhook], body: '{}' })).toMatchObject({ kind: 'fanned-out' });
    }
    // The deliveries in the order the reconciliation lists them: the fifth is in the second batch.
    const listed = await sync.outbound.listPending(org.id);
    expect(listed).toHaveLength(ITEMS);
    const sending = listed[BATCH + 1]?.itemId as string;
    // Its deliver job holds its send lease: the third party has the change, its answer is on the way.
    expect(await new RedisLocks(redis, { prefix }).acquire(sendLeaseName(sending), 'deliver-job', 30_000)).toBe(true);

    await organizations.replace(org.ownerId, org.id, { ...settings, webhooks: [] });
    const reconciled = await maintenance.reconcileConfiguration(org.id);

    expect(reconciled).toMatchObject({ cancelled: ITEMS - 1, complete: false });
    const deliveries = await store.models.deliveries.find({ organizationId: org.id }).lean();
    expect(deliveries.filter((d) => d.itemId !== sending).map((d) => d.status)).toEqual(Array(ITEMS - 1).fill('cancelled'));
    expect(deliveries.find((d) => d.itemId === sending)?.status).toBe('pending');
    // The items of the cancelled deliveries await nothing any more; the one being sent still awaits its answer.
    for (let i = 1; i <= ITEMS; i++) {
      const id = inventoryItemId(org.id, `x${i}`);
      expect((await sync.items.read(id))?.awaiting).toEqual(id === sending ? [webhook.id] : []);
    }
    // The leases were taken in batches of 3, the sending item's with the second.
    expect(taken.slice(0, 3).map((names) => names.length)).toEqual([3, 3, 1]);
    expect(taken[1]).toContain(sendLeaseName(sending));
  });
});
