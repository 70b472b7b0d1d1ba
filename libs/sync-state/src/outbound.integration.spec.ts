import { inventoryItemId, type InventoryItem, type Webhook } from '@music/domain';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, uniqueName, type TestStore } from '@music/testing';
import { createSyncState, type SyncState } from './sync-state';

// The fan-out on the real store (found by the convergence test: a fan-out job that read the item
// before a newer local change left a pending delivery of the older version, with no job to send or
// supersede it, until the sweeper came by).
describe('fan-out racing a newer local change (real store)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let sync: SyncState;
  const org = { id: 'org-fanout', synchronization: 'two-way' as const };
  const webhook = { id: 'w1', type: 'output', url: 'http://127.0.0.1:9/sync', method: 'POST' } as Webhook;

  beforeAll(async () => {
    store = await openTestStore('fanout_race');
    redis = openTestRedis();
    sync = createSyncState({ models: store.models, locks: new RedisLocks(redis, { prefix: uniqueName('fanout_race') }) });
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  it('a fan-out of an event replaced meanwhile leaves no pending delivery: the older version is superseded', async () => {
    const created = await sync.local.create(org, { externalId: 'f1', data: { name: 'one' } });
    const first = (created as { item: InventoryItem }).item;
    const firstEvent = first.pendingEvent?.id as string;
    // A newer local change lands after the fan-out job read the item.
    await sync.local.update(org, first, { name: 'two' });
    const result = await sync.outbound.fanOut(first, firstEvent, { webhooks: [webhook], body: '{}' });
    expect(result.kind).toBe('stale');

    const deliveries = await store.models.deliveries.find({ itemId: inventoryItemId(org.id, 'f1') }).lean();
    expect(deliveries.filter((d) => d.status === 'pending')).toEqual([]);
    const item = await sync.items.read(inventoryItemId(org.id, 'f1'));
    expect(item).toMatchObject({ version: 2, state: 'pending', awaiting: [] });
    expect(item?.pendingEvent?.version).toBe(2);
  });
});
