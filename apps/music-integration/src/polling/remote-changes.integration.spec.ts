import { contentHash, inventoryItemId } from '@music/domain';
import { type Models } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { createSyncState, type InboundRecord } from '@music/sync-state';
import { IntegrationHarness } from '../integration.test-harness';

const song = (id: number, name = `Song ${id}`) => ({ id: String(id), name, artist: `Artist ${id}`, album: `Album ${id}` });

const record = (externalId: string, name: string): InboundRecord => {
  const data = { name, artist: 'A', album: 'B' };
  return { externalId, data, hash: contentHash(externalId, data) };
};

/** The real models, with every inventory_items find filter written down (the reads still run). */
function watchingReads(models: Models): { models: Models; finds: Array<Record<string, unknown>> } {
  const finds: Array<Record<string, unknown>> = [];
  const items = models.inventoryItems;
  const watched = new Proxy(items, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'find') {
        return (filter: Record<string, unknown>, ...rest: unknown[]) => {
          finds.push(filter);
          return (target.find as (...a: unknown[]) => unknown)(filter, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { models: { ...models, inventoryItems: watched }, finds };
}

const readIds = (finds: Array<Record<string, unknown>>): string[] =>
  finds.flatMap((f) => ((f['_id'] as { $in?: string[] } | undefined)?.$in ?? []));

const T0 = new Date('2026-01-01T00:00:00Z');

describe('inbound changes through the one writer (real store)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
  });
  afterEach(async () => h.stop());

  // FerretDB 1.x (PostgreSQL backend) holds one pool connection per statement of an update command
  // until the command ends: a command with as many statements as the pool (50 by default) waits
  // forever for a connection, and the whole store with it. A changed page must not send one.
  it('applies a poll page of 120 changed records', async () => {
    const org = await h.createOrganization();
    const ids = Array.from({ length: 120 }, (_, i) => i + 1);
    h.thirdParty.put(...ids.map((i) => song(i)));
    expect(await h.pollNow(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 120 } });

    h.thirdParty.put(...ids.map((i) => song(i, `Renamed ${i}`)));
    expect(await h.pollNow(org.id)).toMatchObject({ status: 'succeeded', counts: { updated: 120, unchanged: 0, conflicts: 0 } });
    const names = (await h.items(org.id)).map((i) => i.data['name']);
    expect(names.sort()).toEqual(ids.map((i) => `Renamed ${i}`).sort());
  });

  it('insertFirst gives the same outcome and items as read-then-write, whatever the batch holds', async () => {
    const watch = watchingReads(h.store.models);
    const remote = createSyncState({ models: watch.models, locks: new RedisLocks(h.redis, { prefix: h.prefix }) }).remote;
    const apply = (orgId: string, batch: InboundRecord[], freshness: Date, insertFirst = false) => remote.applyUpserts(orgId, batch, { kind: 'webhook', freshness, entries: [] }, { insertFirst });
    // Two organizations in the same state: unchanged, changed and undelivered-local items, then a
    // batch of those plus new records applied to one with insertFirst and to the other without.
    const stateOf = async (orgId: string) =>
      (await h.items(orgId)).map((i) => [i.externalId, i.data['name'], i.origin, i.version, i.pendingEvent === null, i.remoteKnown]);
    const outcomes = [];
    const read: number[] = [];
    for (const insertFirst of [false, true]) {
      const org = await h.createOrganization({ polling: [] });
      await apply(org.id, [record('same', 'Same'), record('changed', 'Old')], T0);
      await h.createLocal(org.id, 'local', { name: 'Ours', artist: 'A', album: 'B' }, false);
      const batch = [record('same', 'Same'), record('changed', 'New'), record('local', 'Theirs'), record('new1', 'N1'), record('new2', 'N2')];
      watch.finds.length = 0;
      outcomes.push({ outcome: await apply(org.id, batch, new Date(T0.getTime() + 1000), insertFirst), items: await stateOf(org.id) });
      read.push(readIds(watch.finds).length);
    }
    expect(outcomes[0]?.outcome).toEqual({ created: 2, updated: 1, unchanged: 1, deleted: 0, absent: 0, conflicts: 1, diverged: 0, stale: 0, deferred: 0 });
    expect(outcomes[1]).toEqual(outcomes[0]);
    // Read-then-write reads the whole batch; insertFirst reads back only the 3 that existed.
    expect(read).toEqual([5, 3]);
    expect(outcomes[1]?.items).toEqual([
      ['changed', 'New', 'remote', 0, true, true],
      ['local', 'Ours', 'local', 1, false, false],
      ['new1', 'N1', 'remote', 0, true, true],
      ['new2', 'N2', 'remote', 0, true, true],
      ['same', 'Same', 'remote', 0, true, true],
    ]);
  });

  // Rule 2: a change past its `createBefore` (its freshness + TOMBSTONE_RETENTION_MS) creates
  // nothing, judged on the store's time read by the write itself, whichever way the batch is written.
  it('createBefore is judged by the write on the store clock: a change before it creates, one past it does not, an update applies either way', async () => {
    for (const insertFirst of [false, true]) {
      const org = await h.createOrganization({ polling: [] });
      const now = (await h.sync.clock.now()).getTime();
      const origin = (at: number) => ({ kind: 'webhook' as const, freshness: new Date(at), entries: [] });
      const young = await h.sync.remote.applyUpserts(org.id, [record('young', 'Y')], origin(now), { createBefore: new Date(now + 60_000), insertFirst });
      expect({ insertFirst, young }).toMatchObject({ insertFirst, young: { created: 1 } });
      const old = await h.sync.remote.applyUpserts(org.id, [record('old', 'O'), record('young', 'Y2')], origin(now + 1), { createBefore: new Date(now - 1), insertFirst });
      expect({ insertFirst, old }).toMatchObject({ insertFirst, old: { created: 0, stale: 1, updated: 1 } });
      expect((await h.items(org.id)).map((i) => [i.externalId, i.data['name']])).toEqual([['young', 'Y2']]);
    }
  });

  it('a first poll of an empty organization reads no items back; the next poll reads and deletes what vanished', async () => {
    const watch = watchingReads(h.store.models);
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    const poll = h.pollRunOver({ models: watch.models, locks });
    const org = await h.createOrganization({
      polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 10 } }],
    });
    const run = () => poll.execute({ version: 1, organizationId: org.id, pollingId: org.polling[0]?.id as string, trigger: 'manual' }, async () => undefined);
    const ids = Array.from({ length: 35 }, (_, i) => i + 1);
    h.thirdParty.put(...ids.map((i) => song(i)));

    expect(await run()).toMatchObject({ status: 'succeeded', counts: { fetched: 35, created: 35, deleted: 0 } });
    expect(await h.items(org.id)).toHaveLength(35);
    // Neither the pages (inserted first) nor a deletion pass (nothing can have vanished) read items.
    expect(watch.finds).toEqual([]);

    h.thirdParty.records.delete('7');
    // Page numbers without a total cannot see a delete before a page boundary: the first walk that
    // misses an item remembers it, the second consecutive one deletes it (docs/sync-model.md).
    expect(await run()).toMatchObject({ status: 'succeeded', counts: { unchanged: 34, deleted: 0 } });
    expect((await h.items(org.id)).map((i) => i.externalId)).toContain('7');
    expect(await run()).toMatchObject({ status: 'succeeded', counts: { unchanged: 34, deleted: 1 } });
    expect((await h.items(org.id)).map((i) => i.externalId)).not.toContain('7');
    // One read of the entry's items per deletion pass.
    expect(watch.finds.filter((f) => f['organizationId'] === org.id)).toHaveLength(2);
  });

  // A poll prepares its next page (locks, version floors, documents) while the store inserts the
  // current one. Rule 4 holds only if the prepared page's items stay locked from before its floor
  // read until after its insert: a local write of one of them in that window would land between the
  // two (a local create, then delete, leaves deliveries above the floor that was read). This pins
  // that a racing local write waits for the prepared page, and that an abandoned page writes nothing.
  it('a prepared batch keeps its items locked until it is written or abandoned', async () => {
    const org = await h.createOrganization({ polling: [] });
    const origin = { kind: 'poll' as const, entry: 'e1', freshness: new Date(T0.getTime() + 1000) };
    // An earlier life of "x" was delivered up to version 3: recreated, it continues from there.
    await h.store.models.deliveries.collection.insertOne({ _id: 'earlier_x', organizationId: org.id, itemId: inventoryItemId(org.id, 'x'), version: 3 } as never);
    const prepared = await h.sync.remote.prepareUpserts(org.id, [record('x', 'Theirs')], origin, { insertFirst: true });
    let localDone = false;
    const local = h.createLocal(org.id, 'x', { name: 'Ours', artist: 'A', album: 'B' }, false).then(
      () => 'created',
      (error: Error) => error.message,
    );
    void local.then(() => (localDone = true));
    await new Promise((r) => setTimeout(r, 400));
    // The local create waits for the prepared batch's lock: nothing was written in between.
    expect(localDone).toBe(false);
    expect(await h.items(org.id)).toEqual([]);
    expect(await prepared.apply()).toMatchObject({ created: 1, conflicts: 0, deferred: 0 });
    await prepared.released;
    // Then the local create finds the item the poll created, with the floor read before the insert.
    expect(await local).toBe('create failed: exists');
    expect((await h.items(org.id)).map((i) => [i.externalId, i.origin, i.version, i.data['name']])).toEqual([['x', 'remote', 3, 'Theirs']]);

    // Abandoned: nothing written, the locks given back at once.
    const dropped = await h.sync.remote.prepareUpserts(org.id, [record('y', 'Theirs')], origin, { insertFirst: true });
    const racing = h.createLocal(org.id, 'y', { name: 'Ours', artist: 'A', album: 'B' }, false);
    await dropped.abandon();
    expect((await racing).origin).toBe('local');
    expect((await h.items(org.id)).map((i) => [i.externalId, i.origin])).toEqual([
      ['x', 'remote'],
      ['y', 'local'],
    ]);
  });
});
