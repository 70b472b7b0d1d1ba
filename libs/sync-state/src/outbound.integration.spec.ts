import { inventoryItemId, type InventoryItem, type Webhook } from '@music/domain';
import { itemLockName, LockTimeoutError, RedisLocks } from '@music/platform';
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
    // The writer keeps nothing it creates for an organization that is not live (below).
    await store.models.organizations.collection.insertOne({ _id: org.id, revision: 1, deletedAt: null } as never);
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

// docs/sync-model.md, "Deleting an organization": a write under way when its organization was
// deleted lands after the purge's pass, and is removed by its own writer (found by the convergence
// test: a fan-out's first attempt answered after the purge had finished stored its delivery).
describe('writes landing after their organization was deleted and purged (real store)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let sync: SyncState;
  /** The same writer whose item writes wait 300 ms at most for an item's lock. */
  let hurried: SyncState;
  let otherProcess: RedisLocks;
  const webhooks = ['w1', 'w2'].map((id) => ({ id, type: 'output', url: `http://127.0.0.1:9/sync/${id}`, method: 'POST' }) as Webhook);
  let n = 0;

  beforeAll(async () => {
    store = await openTestStore('purge_race');
    redis = openTestRedis();
    const prefix = uniqueName('purge_race');
    sync = createSyncState({ models: store.models, locks: new RedisLocks(redis, { prefix }) });
    hurried = createSyncState({ models: store.models, locks: new RedisLocks(redis, { prefix, waitMs: 300 }) });
    otherProcess = new RedisLocks(redis, { prefix });
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  /** A live two-way organization of its own for each test. */
  const liveOrganization = async () => {
    const org = { id: `org-purged-${++n}`, synchronization: 'two-way' as const };
    await store.models.organizations.collection.insertOne({ _id: org.id, revision: 1, deletedAt: null } as never);
    return org;
  };
  /** Deleted as music-config does it (marked), then one pass of its purge. */
  const deleteAndPurge = async (organizationId: string): Promise<void> => {
    await store.models.organizations.updateOne({ _id: organizationId }, { $set: { deletedAt: new Date() } });
    await sync.maintenance.purgeOrganization(organizationId);
  };
  const leftOf = async (organizationId: string) => ({
    items: await store.models.inventoryItems.countDocuments({ organizationId }),
    deliveries: await store.models.deliveries.countDocuments({ organizationId }),
    inboundMessages: await store.models.inboundMessages.countDocuments({ organizationId }),
  });
  const nothing = { items: 0, deliveries: 0, inboundMessages: 0 };
  const created = async (org: { id: string; synchronization: 'two-way' }, externalId: string): Promise<InventoryItem> => {
    const outcome = await sync.local.create(org, { externalId, data: { name: externalId } });
    if (outcome.kind !== 'created') throw new Error(`not created: ${outcome.kind}`);
    return outcome.item;
  };
  const answered = { at: new Date(), statusCode: 200, error: null, ms: 300 };

  it("a fan-out's first attempt answered after the purge stores no delivery, whatever the answer", async () => {
    for (const status of ['succeeded', 'failed', 'pending'] as const) {
      const org = await liveOrganization();
      const item = await created(org, 'first');
      // The attempt left before the organization was deleted; its answer comes after the purge's pass.
      await deleteAndPurge(org.id);
      const result = await sync.outbound.fanOutFirstAttempt(item, item.pendingEvent?.id as string, { webhook: webhooks[0] as Webhook, body: '{}' }, { status, attempt: answered }, { allEntries: [] });
      expect(result.recorded).toBe(false);
      expect(await leftOf(org.id)).toEqual(nothing);
    }
  });

  it('a fan-out to several webhooks that read the item before the purge stores no delivery', async () => {
    const org = await liveOrganization();
    const item = await created(org, 'several');
    await deleteAndPurge(org.id);
    expect(await sync.outbound.fanOut(item, item.pendingEvent?.id as string, { webhooks, body: '{}' })).toEqual({ kind: 'stale' });
    expect(await leftOf(org.id)).toEqual(nothing);
  });

  it('no item is created, by any writer, for an organization marked deleted or gone', async () => {
    const org = await liveOrganization();
    await deleteAndPurge(org.id);
    await sync.local.create(org, { externalId: 'local', data: { name: 'late' } });
    const freshness = await sync.clock.now();
    await sync.remote.applyUpserts(org.id, [{ externalId: 'webhook', data: { name: 'late' }, hash: 'h1' }], { kind: 'webhook', freshness, entries: [] });
    await sync.remote.applyUpserts(org.id, [{ externalId: 'poll', data: { name: 'late' }, hash: 'h2' }], { kind: 'poll', entry: 'e1', freshness }, { insertFirst: true });
    expect(await leftOf(org.id)).toEqual(nothing);
    // Its purge finished: the organization itself is gone.
    await store.models.organizations.deleteOne({ _id: org.id });
    await sync.local.create(org, { externalId: 'later', data: { name: 'later still' } });
    expect(await leftOf(org.id)).toEqual(nothing);
  });

  it('an input-webhook call stored after the purge is not kept', async () => {
    const org = await liveOrganization();
    await deleteAndPurge(org.id);
    await sync.inbox.accept(org.id, 'msg-1', 'POST', '{"id":"x"}');
    expect(await leftOf(org.id)).toEqual(nothing);
  });

  it("a fan-out's first attempt whose item write fails after the purge leaves no delivery", async () => {
    const org = await liveOrganization();
    const item = await created(org, 'locked');
    await deleteAndPurge(org.id);
    // Another process holds the item's lock longer than the attempt's write waits for it.
    await otherProcess.withLock(itemLockName(item.id), async () => {
      const attempt = hurried.outbound.fanOutFirstAttempt(item, item.pendingEvent?.id as string, { webhook: webhooks[0] as Webhook, body: '{}' }, { status: 'succeeded', attempt: answered }, { allEntries: [] });
      await expect(attempt).rejects.toBeInstanceOf(LockTimeoutError);
    });
    expect(await leftOf(org.id)).toEqual(nothing);
  });

  // A document the store refuses (a field name it does not take) stands for any store error that
  // comes after some documents of the same write were stored.
  const refusedByTheStore = { $refused: true };

  it('a fan-out whose delivery insert fails after storing some, after the purge, leaves no delivery', async () => {
    const org = await liveOrganization();
    const item = await created(org, 'half-inserted');
    await deleteAndPurge(org.id);
    const plan = { webhooks: [webhooks[0] as Webhook, { ...(webhooks[1] as Webhook), method: refusedByTheStore as never }], body: '{}' };
    await expect(sync.outbound.fanOut(item, item.pendingEvent?.id as string, plan)).rejects.toThrow();
    expect(await leftOf(org.id)).toEqual(nothing);
  });

  it('a poll page whose insert fails after storing some items, after the purge, leaves no item', async () => {
    const org = await liveOrganization();
    await deleteAndPurge(org.id);
    const freshness = await sync.clock.now();
    const upserts = [
      { externalId: 'stored', data: { name: 'late' }, hash: 'h1' },
      { externalId: 'refused', data: refusedByTheStore, hash: 'h2' },
    ];
    await expect(sync.remote.applyUpserts(org.id, upserts, { kind: 'poll', entry: 'e1', freshness }, { insertFirst: true })).rejects.toThrow();
    expect(await leftOf(org.id)).toEqual(nothing);
  });

  it('a live organization keeps what is written for it', async () => {
    const org = await liveOrganization();
    const item = await created(org, 'kept');
    await sync.outbound.fanOutFirstAttempt(item, item.pendingEvent?.id as string, { webhook: webhooks[0] as Webhook, body: '{}' }, { status: 'succeeded', attempt: answered }, { allEntries: [] });
    await sync.inbox.accept(org.id, 'msg-2', 'POST', '{"id":"y"}');
    expect(await leftOf(org.id)).toEqual({ items: 1, deliveries: 1, inboundMessages: 1 });
  });
});
