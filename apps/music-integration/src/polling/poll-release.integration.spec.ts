import type { Redis } from 'ioredis';
import { inventoryItemId } from '@music/domain';
import type { Models } from '@music/persistence';
import { itemLockName, RedisLocks } from '@music/platform';
import { IntegrationHarness } from '../integration.test-harness';
import { replacing } from '@music/testing';
import { pollLeaseName, type PollRun } from './poll-run';

const song = (id: number, name = `Song ${id}`) => ({ id: String(id), name, artist: `Artist ${id}`, album: `Album ${id}` });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ITEM_WRITES = ['insertMany', 'bulkWrite', 'create', 'updateOne', 'updateMany', 'deleteOne', 'deleteMany', 'findOneAndUpdate'];

// A poll page's write is answered before its release (its items' locks given back, the liveness
// check after its insert, the write mark raised after it). A release that fails - the liveness check
// could not be made (docs/sync-model.md, "Deleting an organization"), or the mark could not be raised
// after the write and the store could not forget the remembered pages instead ("Unchanged pages skip
// the store") - fails the page: the run stops before its next page, writes nothing more, and fails
// (whatever else ended the walk), never recorded as succeeded.
describe('poll runs: a page whose release fails stops and fails the run (real store, real Redis)', () => {
  let h: IntegrationHarness;
  /** What happened, in order: `write <method>` for every item write sent, `failed <what>` for the injected failures. */
  const log: string[] = [];
  /** Armed: the liveness check with this number (counted since armed) fails. */
  let failLiveness: { at: number; seen: number } | null = null;
  /** Armed: the write mark raise with this number (counted since armed) fails, and its fallback in the store too. */
  let failRaise: { at: number; seen: number; failed: boolean } | null = null;
  /** Holds the answer to list pages from this number on until `until` resolves. */
  let holdFrom: { page: number; until: () => Promise<void> } | null = null;
  /** Resolves once an injected failure happened. */
  let failureSeen!: Promise<void>;
  let sawFailure!: () => void;

  beforeEach(async () => {
    h = await new IntegrationHarness().start();
    failureSeen = new Promise((resolve) => (sawFailure = resolve));
    h.thirdParty.onList = async ({ params }) => {
      if (holdFrom && Number(params.get('page')) >= holdFrom.page) await holdFrom.until();
    };
  });
  afterEach(async () => {
    await h.stop();
    log.length = 0;
    failLiveness = null;
    failRaise = null;
    holdFrom = null;
  });

  /** A poll run over the real store and Redis, whose item writes are logged and whose release steps fail when armed. */
  const pollRun = (): PollRun => {
    const real = h.store.models;
    let items = real.inventoryItems;
    for (const method of ITEM_WRITES) {
      items = replacing(items, method, (call, ...args) => {
        log.push(`write ${method}`);
        return call(...args);
      });
    }
    // The liveness check reads the organization through the native collection (the poll's own reads go through `records`).
    const organizations = new Proxy(real.organizations, {
      get(t, prop) {
        const value: unknown = Reflect.get(t, prop, t);
        if (prop !== 'collection') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
        return replacing(t.collection, 'findOne', (call, ...args) => {
          if (failLiveness && ++failLiveness.seen === failLiveness.at) {
            log.push('failed liveness');
            sawFailure();
            return Promise.reject(new Error('injected: the liveness check failed'));
          }
          return call(...args);
        });
      },
    });
    const pollMemory = replacing(real.pollMemory, 'updateMany', (call, ...args) => {
      if (failRaise?.failed) {
        failRaise = null;
        log.push('failed fallback');
        sawFailure();
        return Promise.reject(new Error('injected: the store could not forget the pages'));
      }
      return call(...args);
    });
    const redis = replacing(h.redis, 'hincrby', (call, ...args) => {
      if (failRaise && ++failRaise.seen === failRaise.at) {
        failRaise.failed = true;
        log.push('failed raise');
        return Promise.reject(new Error('injected: redis refused the raise'));
      }
      return call(...args);
    }) as Redis;
    const models: Models = { ...real, inventoryItems: items, organizations, pollMemory };
    return h.pollRunOver({ models, records: real, locks: new RedisLocks(redis, { prefix: h.prefix }) });
  };

  const organization = () =>
    h.createOrganization({ synchronization: 'one-way', webhooks: [], polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 10 } }] });
  const execute = (poll: PollRun, org: { id: string; polling: Array<{ id: string }> }) =>
    poll.execute({ version: 1, organizationId: org.id, pollingId: org.polling[0]?.id as string, trigger: 'manual' }, async () => undefined);
  /** The run's id (a manual run without one creates it: the latest of the entry). */
  const latestRun = async (org: { id: string; polling: Array<{ id: string }> }) => h.runs.findLatestStarted(org.id, org.polling[0]?.id as string);
  /** Nothing was written after the first injected failure. */
  const writesAfterFailure = () => {
    const first = log.findIndex((e) => e.startsWith('failed'));
    expect(first).toBeGreaterThanOrEqual(0);
    return log.slice(first).filter((e) => e.startsWith('write'));
  };
  const lockFree = async (name: string) => {
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    const free = await locks.acquire(name, 'probe', 1000);
    if (free) await locks.release(name, 'probe');
    return free;
  };

  it('a first poll: page 2\'s liveness check fails; page 3, arriving after, is not written and the run fails', async () => {
    const org = await organization();
    h.thirdParty.put(...Array.from({ length: 50 }, (_, i) => song(i + 1)));
    // Page 3 on is answered only once page 2's release has failed (its liveness check, then its
    // locks given back and its mark raised: two Redis round trips, well within 300 ms).
    holdFrom = { page: 3, until: () => failureSeen.then(() => sleep(300)) };
    failLiveness = { at: 2, seen: 0 };
    await expect(execute(pollRun(), org)).rejects.toThrow('injected: the liveness check failed');
    expect(log).toContain('failed liveness');
    expect(writesAfterFailure()).toEqual([]);
    // Pages 1 and 2 stored (their inserts answered), nothing of the pages after.
    expect((await h.items(org.id)).map((i) => Number(i.externalId)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const run = await latestRun(org);
    expect(run?.status).toBe('failed');
    // Every lock given back: the entry's lease, and the items of the page prepared ahead (page 3) too.
    expect(await lockFree(pollLeaseName(org.id, org.polling[0]?.id as string))).toBe(true);
    for (let i = 1; i <= 30; i++) expect(await lockFree(itemLockName(inventoryItemId(org.id, String(i))))).toBe(true);
  });

  it('a first poll: the last page\'s liveness check fails; the walk had ended, the run fails all the same', async () => {
    const org = await organization();
    // Pages of 10, 10 and 5: the third page ends the walk.
    h.thirdParty.put(...Array.from({ length: 25 }, (_, i) => song(i + 1)));
    failLiveness = { at: 3, seen: 0 };
    await expect(execute(pollRun(), org)).rejects.toThrow('injected: the liveness check failed');
    expect(writesAfterFailure()).toEqual([]);
    const run = await latestRun(org);
    expect(run?.status).toBe('failed');
    expect(await lockFree(pollLeaseName(org.id, org.polling[0]?.id as string))).toBe(true);
  });

  // A page not prepared ahead (a re-poll) waits for the release of the page before it: a failed
  // release stops the run there, before this page is written.
  it('a re-poll: the mark raise after page 2\'s write fails, its fallback too; page 3 is not written and the run fails', async () => {
    const org = await organization();
    h.thirdParty.put(...Array.from({ length: 50 }, (_, i) => song(i + 1)));
    expect(await execute(pollRun(), org)).toMatchObject({ status: 'succeeded', counts: { created: 50 } });
    // Every record changed: each page is written, between two raises of the mark (before, after).
    h.thirdParty.put(...Array.from({ length: 50 }, (_, i) => song(i + 1, `Renamed ${i + 1}`)));
    log.length = 0;
    failRaise = { at: 4, seen: 0, failed: false };
    await expect(execute(pollRun(), org)).rejects.toThrow('injected: the store could not forget the pages');
    expect(log).toContain('failed raise');
    expect(writesAfterFailure()).toEqual([]);
    const names = new Map((await h.items(org.id)).map((i) => [Number(i.externalId), i.data['name']]));
    expect([...names].filter(([, name]) => String(name).startsWith('Renamed')).map(([id]) => id).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const run = await latestRun(org);
    expect(run?.status).toBe('failed');
    expect(await lockFree(pollLeaseName(org.id, org.polling[0]?.id as string))).toBe(true);
    for (let i = 1; i <= 50; i++) expect(await lockFree(itemLockName(inventoryItemId(org.id, String(i))))).toBe(true);
  });
});
