import { contentHash, inventoryItemId } from '@music/domain';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, uniqueName, type TestStore } from '@music/testing';
import { InventoryRepository } from './inventory.repository';

describe('InventoryRepository (real store)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let repo: InventoryRepository;
  const orgA = 'org-a';
  const orgB = 'org-b';

  beforeAll(async () => {
    store = await openTestStore('inventory_repo');
    redis = openTestRedis();
    repo = new InventoryRepository(store.models, new RedisLocks(redis, { prefix: uniqueName('inventory_repo') }));
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  it('creates a two-way item with its outbox event in the same document', async () => {
    const data = { name: 'Song', artist: 'A', album: 'B' };
    const outcome = await repo.createLocal(orgA, { externalId: 'c1', data }, { outbox: true });
    expect(outcome.kind).toBe('created');
    if (outcome.kind !== 'created') return;
    const stored = await store.models.inventoryItems.findById(inventoryItemId(orgA, 'c1')).lean();
    expect(stored).toMatchObject({
      organizationId: orgA,
      externalId: 'c1',
      data,
      origin: 'local',
      hash: contentHash('c1', data),
      version: 1,
      settledVersion: 0,
      remoteKnown: false,
      deletedAt: null,
      pendingEvent: { id: outcome.item.pendingEvent?.id, op: 'upsert', version: 1 },
    });
    expect(stored?.pendingEvent?.at).toBeInstanceOf(Date);
  });

  it('creates a one-way item without an event and leaves the version at 0', async () => {
    const outcome = await repo.createLocal(orgA, { externalId: 'c2', data: { name: 'x' } }, { outbox: false });
    expect(outcome.kind).toBe('created');
    const stored = await store.models.inventoryItems.findById(inventoryItemId(orgA, 'c2')).lean();
    expect(stored).toMatchObject({ version: 0, pendingEvent: null, origin: 'local' });
  });

  it('reports an existing live item instead of overwriting it', async () => {
    await repo.createLocal(orgA, { externalId: 'dup', data: { name: 'first' } }, { outbox: true });
    const again = await repo.createLocal(orgA, { externalId: 'dup', data: { name: 'second' } }, { outbox: true });
    expect(again.kind).toBe('exists');
    const stored = await store.models.inventoryItems.findById(inventoryItemId(orgA, 'dup')).lean();
    expect(stored?.data).toEqual({ name: 'first' });
    // The same externalId in another organization is another item.
    expect((await repo.createLocal(orgB, { externalId: 'dup', data: { name: 'b' } }, { outbox: true })).kind).toBe('created');
  });

  it('updates only when version and hash are still the ones read', async () => {
    const created = await repo.createLocal(orgA, { externalId: 'u1', data: { name: 'v1' } }, { outbox: true });
    if (created.kind !== 'created') throw new Error('not created');
    const read = created.item;

    const updated = await repo.updateLocal(orgA, read.id, read, { name: 'v2' }, { outbox: true });
    expect(updated).toMatchObject({ version: 2, data: { name: 'v2' }, hash: contentHash('u1', { name: 'v2' }), pendingEvent: { op: 'upsert', version: 2 } });
    expect(updated?.pendingEvent?.id).not.toBe(read.pendingEvent?.id);

    // A stale version no longer matches.
    expect(await repo.updateLocal(orgA, read.id, read, { name: 'v3' }, { outbox: true })).toBeNull();

    // An inbound write changes data and hash without bumping the version: a read taken before it is stale too.
    if (!updated) throw new Error('not updated');
    await store.models.inventoryItems.updateOne({ _id: read.id }, { $set: { data: { name: 'remote' }, hash: contentHash('u1', { name: 'remote' }), origin: 'remote' } });
    expect(await repo.updateLocal(orgA, read.id, updated, { name: 'v3' }, { outbox: true })).toBeNull();

    // Another organization's id never matches.
    const fresh = await repo.findInOrganizations([orgA], read.id);
    if (!fresh) throw new Error('missing');
    expect(await repo.updateLocal(orgB, read.id, fresh, { name: 'v3' }, { outbox: true })).toBeNull();
    const stored = await store.models.inventoryItems.findById(read.id).lean();
    expect(stored?.data).toEqual({ name: 'remote' });
  });

  it('one-way updates keep the version and store no event', async () => {
    const created = await repo.createLocal(orgA, { externalId: 'ow1', data: { name: 'a' } }, { outbox: false });
    if (created.kind !== 'created') throw new Error('not created');
    const updated = await repo.updateLocal(orgA, created.item.id, created.item, { name: 'b' }, { outbox: false });
    expect(updated).toMatchObject({ version: 0, pendingEvent: null, data: { name: 'b' }, origin: 'local' });
  });

  it('tombstones with a DELETE event, hides the item, and revives it on re-create', async () => {
    const created = await repo.createLocal(orgA, { externalId: 't1', data: { name: 'a' } }, { outbox: true });
    if (created.kind !== 'created') throw new Error('not created');

    expect(await repo.tombstone(orgA, created.item.id, 7)).toBeNull();
    const dead = await repo.tombstone(orgA, created.item.id, 1);
    expect(dead).toMatchObject({ version: 2, origin: 'local', pendingEvent: { op: 'delete', version: 2 } });
    expect(dead?.deletedAt).toBeInstanceOf(Date);
    expect(await repo.findInOrganizations([orgA], created.item.id)).toBeNull();
    expect((await repo.listForOrganizations([orgA], { limit: 200 })).items.map((i) => i.id)).not.toContain(created.item.id);
    // A tombstone cannot be tombstoned or updated again.
    expect(await repo.tombstone(orgA, created.item.id, 2)).toBeNull();

    const revived = await repo.createLocal(orgA, { externalId: 't1', data: { name: 'again' } }, { outbox: true });
    expect(revived.kind).toBe('revived');
    if (revived.kind !== 'revived') return;
    expect(revived.item).toMatchObject({ version: 3, deletedAt: null, origin: 'local', data: { name: 'again' }, pendingEvent: { op: 'upsert', version: 3 } });
    expect(revived.item.pendingEvent?.id).not.toBe(dead?.pendingEvent?.id);
    expect(await repo.findInOrganizations([orgA], created.item.id)).not.toBeNull();
  });

  it('hard-deletes only within the organization and at the expected version', async () => {
    const created = await repo.createLocal(orgA, { externalId: 'h1', data: {} }, { outbox: true });
    if (created.kind !== 'created') throw new Error('not created');
    expect(await repo.hardDelete(orgB, created.item.id)).toBe(false);
    expect(await repo.hardDelete(orgA, created.item.id, { version: 5 })).toBe(false);
    expect(await repo.hardDelete(orgA, created.item.id, { version: 1 })).toBe(true);
    expect(await store.models.inventoryItems.findById(created.item.id).lean()).toBeNull();
  });

  it('finds items only in the given organizations', async () => {
    const created = await repo.createLocal(orgB, { externalId: 'f1', data: {} }, { outbox: true });
    if (created.kind !== 'created') throw new Error('not created');
    expect(await repo.findInOrganizations([orgA], created.item.id)).toBeNull();
    expect(await repo.findInOrganizations([], created.item.id)).toBeNull();
    expect((await repo.findInOrganizations([orgA, orgB], created.item.id))?.externalId).toBe('f1');
  });

  it('pages through several organizations by id without repeats or gaps', async () => {
    const orgs = ['page-1', 'page-2'];
    for (const org of orgs) {
      for (let i = 0; i < 7; i++) await repo.createLocal(org, { externalId: `p${i}`, data: { n: i } }, { outbox: false });
    }
    await repo.createLocal('page-other', { externalId: 'x', data: {} }, { outbox: false });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await repo.listForOrganizations(orgs, { limit: 3, ...(cursor ? { cursor } : {}) });
      pages++;
      seen.push(...page.items.map((i) => i.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(14);
    expect([...seen].sort()).toEqual(seen);
    expect(seen).not.toContain(inventoryItemId('page-other', 'x'));
    expect(await repo.listForOrganizations([], { limit: 3 })).toEqual({ items: [], nextCursor: null });
  });
});
