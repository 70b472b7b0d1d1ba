import { contentHash, inventoryItemId } from '@music/domain';
import { OrganizationRepository, type Models } from '@music/persistence';
import { itemLockName, RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, replacing, uniqueName, type TestStore } from '@music/testing';
import { ItemStore, type ItemTarget } from './item-store';
import type { SyncEvent } from './transitions';
import { newMarkTally, WriteMarks } from './write-marks';

// `ItemStore.prepareMany`: `apply` answers once the batch is written; `released` settles once its
// locks are given back and the write mark raised after it, and rejects when that release failed:
// the liveness check after its insert (docs/sync-model.md, "Deleting an organization"), or the mark's
// raise after the write together with its fallback, forgetting the remembered pages in the store
// ("Unchanged pages skip the store"). A caller (a poll) learns of such a failure only from `released`.
describe('a prepared batch whose release fails (real store, real Redis)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let locks: RedisLocks;
  let items: ItemStore;
  let prefix: string;
  /** Armed: the next liveness check (the organization read after an insert) fails. */
  let failLiveness = false;
  /** Armed: the mark raise with this number (counted from 1 since armed) fails, and so does its fallback when `fallbackFails`. */
  let failRaise: { at: number; seen: number; fallbackFails: boolean; failed: boolean } | null = null;
  const injected: string[] = [];

  beforeAll(async () => {
    store = await openTestStore('release_failures');
    redis = openTestRedis();
    prefix = uniqueName('release_failures');
    locks = new RedisLocks(redis, { prefix });
    const organizations = store.models.organizations;
    const failingOrganizations = new Proxy(organizations, {
      get(t, prop) {
        const value: unknown = Reflect.get(t, prop, t);
        if (prop !== 'collection') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
        return replacing(t.collection, 'findOne', (real, ...args) => {
          if (!failLiveness) return real(...args);
          failLiveness = false;
          injected.push('liveness');
          return Promise.reject(new Error('injected: the liveness check failed'));
        });
      },
    });
    const failingPollMemory = replacing(store.models.pollMemory, 'updateMany', (real, ...args) => {
      if (!failRaise?.failed || !failRaise.fallbackFails) return real(...args);
      failRaise = null;
      injected.push('fallback');
      return Promise.reject(new Error('injected: the store could not forget the pages'));
    });
    const failingRedis = replacing(redis, 'hincrby', (real, ...args) => {
      if (failRaise && ++failRaise.seen === failRaise.at) {
        failRaise.failed = true;
        injected.push('raise');
        return Promise.reject(new Error('injected: redis refused the raise'));
      }
      return real(...args);
    });
    const models: Models = { ...store.models, organizations: failingOrganizations, pollMemory: failingPollMemory };
    items = new ItemStore(models, locks, new OrganizationRepository(models), undefined, new WriteMarks(failingRedis, prefix, models));
    await store.models.organizations.collection.insertOne({ _id: 'org-r', revision: 1, deletedAt: null } as never);
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });
  afterEach(() => {
    failLiveness = false;
    failRaise = null;
    injected.length = 0;
  });

  const upserts = (ids: string[], name: string) =>
    ids.map((externalId) => {
      const target: ItemTarget = { id: inventoryItemId('org-r', externalId), organizationId: 'org-r', externalId };
      const data = { name, artist: 'A', album: 'B' };
      const event: SyncEvent = { type: 'inbound-upsert', externalId, data, hash: contentHash(externalId, data), freshness: new Date(), entries: ['e'], source: 'poll', versionFloor: 0, mayCreate: true };
      return { target, decide: () => event };
    });
  const lockFree = async (externalId: string) => {
    const name = itemLockName(inventoryItemId('org-r', externalId));
    const free = await locks.acquire(name, 'probe', 1000);
    if (free) await locks.release(name, 'probe');
    return free;
  };
  const markOf = async () => Number(await redis.hget(`${prefix}:writemark:{org-r}`, 'n'));

  it('the liveness check after the insert fails: apply answers the write, released rejects, after the locks are given back and the mark raised', async () => {
    const tally = newMarkTally();
    const batch = await items.prepareMany(upserts(['l1', 'l2', 'l3'], 'New'), { insertFirst: true, needsFloor: true, marks: tally });
    failLiveness = true;
    const result = await batch.apply();
    expect(result.applied.map((a) => a.transition.outcome)).toEqual(['created', 'created', 'created']);
    await expect(batch.released).rejects.toThrow('injected: the liveness check failed');
    expect(injected).toEqual(['liveness']);
    // Once it settled: the locks are free and the mark was raised after the write, as for any batch.
    for (const id of ['l1', 'l2', 'l3']) expect(await lockFree(id)).toBe(true);
    expect(tally).toEqual({ raised: 2, doubt: false });
  });

  it('the mark raise after the write fails and its fallback too: released rejects, the locks given back', async () => {
    const tally = newMarkTally();
    const before = await markOf();
    // The batch's raises: the first before its first write, the second after its last.
    failRaise = { at: 2, seen: 0, fallbackFails: true, failed: false };
    const batch = await items.prepareMany(upserts(['m1', 'm2'], 'New'), { insertFirst: true, needsFloor: true, marks: tally });
    const result = await batch.apply();
    expect(result.applied).toHaveLength(2);
    await expect(batch.released).rejects.toThrow('injected: the store could not forget the pages');
    expect(injected).toEqual(['raise', 'fallback']);
    expect(await markOf()).toBe(before + 1);
    expect(tally).toEqual({ raised: 1, doubt: true });
    for (const id of ['m1', 'm2']) expect(await lockFree(id)).toBe(true);
  });

  it('the mark raise after the write fails but its fallback holds: released resolves (nothing relies on the mark)', async () => {
    const tally = newMarkTally();
    failRaise = { at: 2, seen: 0, fallbackFails: false, failed: false };
    const batch = await items.prepareMany(upserts(['k1'], 'New'), { insertFirst: true, needsFloor: true, marks: tally });
    const result = await batch.apply();
    expect(result.applied).toHaveLength(1);
    await expect(batch.released).resolves.toBeUndefined();
    expect(injected).toEqual(['raise']);
    expect(tally).toEqual({ raised: 1, doubt: true });
  });
});
