import { contentHash, inventoryItemId, type Delivery, type InventoryItem } from '@music/domain';
import { InventoryRepository, toDelivery, type DeliveryDoc } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, uniqueName, type TestStore } from '@music/testing';
import { createSyncState, type SyncState } from './sync-state';

// Local changes (the inventory API's writes) through the one writer, on the real store; and the
// reads the inventory API makes (InventoryRepository), which never return tombstones.
describe('local changes (real store)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let sync: SyncState;
  let reads: InventoryRepository;
  const twoWay = { id: 'org-a', synchronization: 'two-way' as const };
  const oneWay = { id: 'org-one', synchronization: 'one-way' as const };
  const orgB = { id: 'org-b', synchronization: 'two-way' as const };

  beforeAll(async () => {
    store = await openTestStore('local_changes');
    redis = openTestRedis();
    sync = createSyncState({ models: store.models, locks: new RedisLocks(redis, { prefix: uniqueName('local_changes') }) });
    reads = new InventoryRepository(store.models);
    // The writer keeps nothing it creates for an organization that is not live (docs/sync-model.md,
    // "Deleting an organization"): the organizations these tests write for exist.
    const ids = ['org-a', 'org-one', 'org-b', 'org-failures', 'page-1', 'page-2', 'page-other'];
    await store.models.organizations.collection.insertMany(ids.map((id) => ({ _id: id, revision: 1, deletedAt: null })) as never[]);
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  const created = async (org: typeof twoWay | typeof oneWay, externalId: string, data: Record<string, unknown>): Promise<InventoryItem> => {
    const outcome = await sync.local.create(org, { externalId, data });
    if (outcome.kind !== 'created' && outcome.kind !== 'revived') throw new Error(`not created: ${outcome.kind}`);
    return outcome.item;
  };

  it('creates a two-way item pending, with its outbox event in the same document (row 1)', async () => {
    const data = { name: 'Song', artist: 'A', album: 'B' };
    const item = await created(twoWay, 'c1', data);
    const stored = await store.models.inventoryItems.findById(inventoryItemId(twoWay.id, 'c1')).lean();
    expect(stored).toMatchObject({
      organizationId: twoWay.id,
      externalId: 'c1',
      data,
      origin: 'local',
      hash: contentHash('c1', data),
      version: 1,
      state: 'pending',
      deleted: false,
      remoteKnown: false,
      awaiting: [],
      seenBy: [],
      fenceAt: null,
      rev: 0,
      pendingEvent: { id: item.pendingEvent?.id, op: 'upsert', version: 1 },
    });
    expect(stored?.pendingEvent?.at).toBeInstanceOf(Date);
  });

  it('creates a one-way item synced, without an event, and leaves the version at 0', async () => {
    await created(oneWay, 'c2', { name: 'x' });
    const stored = await store.models.inventoryItems.findById(inventoryItemId(oneWay.id, 'c2')).lean();
    expect(stored).toMatchObject({ version: 0, pendingEvent: null, origin: 'local', state: 'synced' });
  });

  it('reports an existing live item instead of overwriting it', async () => {
    await created(twoWay, 'dup', { name: 'first' });
    const again = await sync.local.create(twoWay, { externalId: 'dup', data: { name: 'second' } });
    expect(again.kind).toBe('exists');
    expect((await store.models.inventoryItems.findById(inventoryItemId(twoWay.id, 'dup')).lean())?.data).toEqual({ name: 'first' });
    // The same externalId in another organization is another item.
    expect((await sync.local.create(orgB, { externalId: 'dup', data: { name: 'b' } })).kind).toBe('created');
  });

  it('updates only when the item is still at the revision read (rows 4, 11)', async () => {
    const read = await created(twoWay, 'u1', { name: 'v1' });
    const updated = await sync.local.update(twoWay, read, { name: 'v2' });
    expect(updated).toMatchObject({ kind: 'written', item: { version: 2, data: { name: 'v2' }, hash: contentHash('u1', { name: 'v2' }), pendingEvent: { op: 'upsert', version: 2 }, rev: 1 } });
    if (updated.kind !== 'written' || !updated.item) throw new Error('not updated');
    expect(updated.item.pendingEvent?.id).not.toBe(read.pendingEvent?.id);
    // A stale read no longer matches: the caller reads again.
    expect(await sync.local.update(twoWay, read, { name: 'v3' })).toEqual({ kind: 'changed' });
    // The same content writes nothing (row 5).
    expect((await sync.local.update(twoWay, updated.item, { name: 'v2' })).kind).toBe('unchanged');
    expect((await store.models.inventoryItems.findById(read.id).lean())?.data).toEqual({ name: 'v2' });
  });

  it('one-way updates keep the version and store no event', async () => {
    const item = await created(oneWay, 'ow1', { name: 'a' });
    expect(await sync.local.update(oneWay, item, { name: 'b' })).toMatchObject({ kind: 'written', item: { version: 0, pendingEvent: null, data: { name: 'b' }, origin: 'local', state: 'synced' } });
  });

  it('tombstones with a DELETE event, hides the item, and revives it on re-create (rows 6, 24)', async () => {
    const item = await created(twoWay, 't1', { name: 'a' });
    const deleted = await sync.local.delete(twoWay, item);
    expect(deleted).toMatchObject({ kind: 'written', item: { version: 2, origin: 'local', deleted: true, state: 'pending', pendingEvent: { op: 'delete', version: 2 } } });
    expect(await reads.findInOrganizations([twoWay.id], item.id)).toBeNull();
    expect((await reads.listForOrganizations([twoWay.id], { limit: 200 })).items.map((i) => i.id)).not.toContain(item.id);

    const revived = await sync.local.create(twoWay, { externalId: 't1', data: { name: 'again' } });
    expect(revived).toMatchObject({ kind: 'revived', item: { version: 3, deleted: false, origin: 'local', data: { name: 'again' }, pendingEvent: { op: 'upsert', version: 3 } } });
    expect(await reads.findInOrganizations([twoWay.id], item.id)).not.toBeNull();
  });

  it('a one-way delete removes the document', async () => {
    const item = await created(oneWay, 'h1', {});
    expect(await sync.local.delete(oneWay, item)).toEqual({ kind: 'written', item: null });
    expect(await store.models.inventoryItems.findById(item.id).lean()).toBeNull();
  });

  it('a new document for an externalId continues the versions its deliveries carry', async () => {
    const id = inventoryItemId(twoWay.id, 'floor');
    await store.models.deliveries.create({
      _id: 'old-delivery',
      organizationId: twoWay.id,
      itemId: id,
      externalId: 'floor',
      eventId: 'old',
      webhookId: 'w',
      url: 'http://x',
      method: 'POST',
      op: 'upsert',
      version: 7,
      body: '{}',
      status: 'succeeded',
      attempts: 1,
      lastAttempts: [],
      lastError: null,
      createdAt: new Date(),
      updatedAt: new Date(),
      deliveredAt: new Date(),
    });
    expect((await created(twoWay, 'floor', { name: 'x' })).version).toBe(8);
  });

  it('finds items only in the given organizations', async () => {
    const item = await created(orgB, 'f1', {});
    expect(await reads.findInOrganizations([twoWay.id], item.id)).toBeNull();
    expect(await reads.findInOrganizations([], item.id)).toBeNull();
    expect((await reads.findInOrganizations([twoWay.id, orgB.id], item.id))?.externalId).toBe('f1');
  });

  it('a newer local change of an item that carried a failure resolves its failed deliveries (rows 11, 32); the other deliveries are untouched', async () => {
    const org = { id: 'org-failures', synchronization: 'two-way' as const };
    const webhook = (id: string, method: 'POST' | 'DELETE') => ({ id, type: 'output' as const, url: `http://127.0.0.1:9/${id}`, method });
    const fanned = async (item: InventoryItem, webhooks: ReturnType<typeof webhook>[]) => {
      const result = await sync.outbound.fanOut(item, item.pendingEvent?.id as string, { webhooks, body: '{}' });
      if (result.kind !== 'fanned-out') throw new Error(`not fanned out: ${result.kind}`);
      return Promise.all(result.deliveryIds.map(async (id) => toDelivery((await store.models.deliveries.findById(id).lean<DeliveryDoc>()) as DeliveryDoc)));
    };
    const gaveUp = (d: Delivery) => sync.outbound.settle(d, { status: 'failed', attempt: null, attemptNumber: 1, message: 'HTTP 400' }, { allEntries: [] });
    const statuses = async (itemId: string) =>
      (await store.models.deliveries.find({ itemId }).sort({ version: 1, webhookId: 1 }).lean<DeliveryDoc[]>()).map((d) => [d.version, d.webhookId, d.status, d.resolution ?? null]);

    // Row 11: one webhook gave up while another still owes an answer; a newer change replaces both.
    const two = await created(org, 'two-webhooks', { n: 1 });
    const [first] = await fanned(two, [webhook('w1', 'POST'), webhook('w2', 'POST')]);
    await gaveUp(first as Delivery);
    const pending = (await sync.items.read(two.id)) as InventoryItem;
    expect(pending).toMatchObject({ state: 'pending', gaveUp: ['w1'], awaiting: ['w2'] });
    expect(await sync.local.update(org, pending, { n: 2 })).toMatchObject({ kind: 'written' });
    expect(await statuses(two.id)).toEqual([
      [1, 'w1', 'resolved', 'replaced by a newer change of the item (version 2)'],
      // Still pending: its send finds the newer version and supersedes it.
      [1, 'w2', 'pending', null],
    ]);

    // Row 32: a DELETE the third party never took, then the item created again.
    const gone = await created(org, 'delete-refused', { n: 1 });
    const [upsert] = await fanned(gone, [webhook('w1', 'POST')]);
    await sync.outbound.settle(upsert as Delivery, { status: 'succeeded', attempt: { at: new Date(), statusCode: 200, error: null, ms: 1 }, attemptNumber: 1 }, { allEntries: [] });
    expect(await sync.local.delete(org, (await sync.items.read(gone.id)) as InventoryItem)).toMatchObject({ kind: 'written' });
    const [del] = await fanned((await sync.items.read(gone.id)) as InventoryItem, [webhook('wd', 'DELETE')]);
    await gaveUp(del as Delivery);
    expect(await sync.items.read(gone.id)).toMatchObject({ state: 'diverged', deleted: true });
    expect(await sync.local.create(org, { externalId: 'delete-refused', data: { n: 3 } })).toMatchObject({ kind: 'revived' });
    expect(await statuses(gone.id)).toEqual([
      [1, 'w1', 'succeeded', null],
      [2, 'wd', 'resolved', 'replaced by a newer change of the item (version 3)'],
    ]);
  });

  it('pages through several organizations by id without repeats or gaps', async () => {
    const orgs = ['page-1', 'page-2'].map((id) => ({ id, synchronization: 'one-way' as const }));
    for (const org of orgs) {
      for (let i = 0; i < 7; i++) await created(org, `p${i}`, { n: i });
    }
    await created({ id: 'page-other', synchronization: 'one-way' }, 'x', {});
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await reads.listForOrganizations(
        orgs.map((o) => o.id),
        { limit: 3, ...(cursor ? { cursor } : {}) },
      );
      pages++;
      seen.push(...page.items.map((i) => i.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(14);
    expect([...seen].sort()).toEqual(seen);
    expect(seen).not.toContain(inventoryItemId('page-other', 'x'));
    expect(await reads.listForOrganizations([], { limit: 3 })).toEqual({ items: [], nextCursor: null });
  });
});
