import { inventoryItemId } from '@music/domain';
import { PollMemoryRepository, type Models } from '@music/persistence';
import { itemLockName, RedisLocks, type Lease } from '@music/platform';
import { IntegrationHarness } from '../integration.test-harness';
import { pollLeaseName, type PollRun } from './poll-run';

const song = (id: number) => ({ id: String(id), name: `Song ${id}`, artist: `Artist ${id}`, album: `Album ${id}` });

describe('poll runs: pages fetched ahead (real store)', () => {
  let h: IntegrationHarness;
  let failFrom = Infinity;
  let onRequest: (page: number) => Promise<void> = async () => undefined;
  const requested: number[] = [];
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
    // 10 records a page, 5 pages; from page `failFrom` on, 503.
    h.thirdParty.put(...Array.from({ length: 50 }, (_, i) => song(i + 1)));
    h.thirdParty.onList = async ({ params }) => {
      const page = Number(params.get('page'));
      requested.push(page);
      await onRequest(page);
      if (page >= failFrom) h.thirdParty.failures.music = { count: 1, status: 503 };
    };
  });
  afterEach(async () => {
    await h.stop();
    failFrom = Infinity;
    onRequest = async () => undefined;
    requested.length = 0;
  });

  const organization = () =>
    h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 10 } }] });

  /** A PollRun whose inserts each take 150 ms more (`beforeInsert` runs first), its item locks waited for `waitMs`. */
  const slowPollRun = (waitMs: number, beforeInsert: (n: number) => Promise<void> = async () => undefined): PollRun => {
    const items = h.store.models.inventoryItems;
    let inserts = 0;
    const slow = new Proxy(items, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop === 'insertMany') {
          return async (...args: unknown[]) => {
            await beforeInsert(++inserts);
            await new Promise((r) => setTimeout(r, 150));
            return (target.insertMany as (...a: unknown[]) => unknown)(...args);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const models: Models = { ...h.store.models, inventoryItems: slow };
    const locks = new RedisLocks(h.redis, { prefix: h.prefix, waitMs });
    return h.pollRunOver({ models, locks });
  };
  const run = (poll: PollRun, org: { id: string; polling: Array<{ id: string }> }) =>
    poll.execute({ version: 1, organizationId: org.id, pollingId: org.polling[0]?.id as string, trigger: 'manual' }, async () => undefined);

  it('fetches the next page while the current one is being written', async () => {
    const org = await organization();
    // Page 1's write waits for item 1's lock, which is released only once page 2 is requested: the
    // run must ask for page 2 before page 1 is written (otherwise item 1 is deferred after 5 s).
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    const lock = itemLockName(inventoryItemId(org.id, '1'));
    expect(await locks.acquire(lock, 'test', 30_000)).toBe(true);
    onRequest = async (page) => {
      if (page === 2) await locks.release(lock, 'test');
    };
    expect(await h.pollNow(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 50, conflicts: 0 } });
  });

  it('a failure fetching a later page leaves the run partial: earlier pages stored, nothing deleted', async () => {
    const org = await organization();
    expect(await h.pollNow(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 50 } });
    expect(requested).toEqual([1, 2, 3, 4, 5, 6]);

    // Pages 3 on fail; items 21-50 would look vanished if a deletion pass ran.
    failFrom = 3;
    requested.length = 0;
    const outcome = await h.pollNow(org.id);
    expect(outcome).toMatchObject({ kind: 'retry' });
    const run = outcome.kind === 'retry' ? await h.runs.findForOrganization(org.id, outcome.runId) : null;
    expect(run).toMatchObject({ status: 'partial', pages: 2, counts: { fetched: 20, unchanged: 20, deleted: 0 } });
    expect(await h.items(org.id)).toHaveLength(50);
    // Fetched ahead of the writes, but never past the failure.
    expect(requested).toEqual([1, 2, 3]);
  });

  // A first poll prepares page N+1 (its items' locks taken) while page N is inserted. An externalId
  // on both pages (a list that shifted between two requests) is locked by page N until page N is
  // written: page N+1 must then wait for page N rather than be prepared ahead, or it would spend its
  // lock wait on page N's insert and find that item deferred (or, were page N to wait on page N+1,
  // deadlock). With a lock wait shorter than a page's insert, the item must still be applied once.
  it('an externalId on two consecutive pages of a first poll is written once, after the first page, never deferred', async () => {
    const org = await organization();
    // Item locks waited for 0 ms: any wait on page N's locks defers the item.
    const poll = slowPollRun(0);
    // Pages of 10: pages 2 to 4 share nothing with the page before (prepared ahead); song 40 ends
    // page 4 and starts page 5 (seen again with the same freshness as the item it created: stale, rule 2).
    const listed = Array.from({ length: 49 }, (_, i) => song(i + 1));
    h.thirdParty.listedRecords = [...listed.slice(0, 40), song(40), ...listed.slice(40)];
    expect(await run(poll, org)).toMatchObject({ status: 'succeeded', counts: { fetched: 50, created: 49, updated: 0, conflicts: 0, stale: 1 } });
    const items = await h.items(org.id);
    expect(items).toHaveLength(49);
    expect(new Set(items.map((i) => i.externalId)).size).toBe(49);
  });

  // A page prepared ahead holds its items' locks. When the run stops before writing it (here its
  // poll lease is taken away while the page before is inserted: the run checks the lease before each
  // page), it must write nothing of it and give its locks back, or those items stay locked (the
  // locks are renewed while held) and every other writer of them waits and gives up.
  it('a page prepared ahead is abandoned when the run stops before it: nothing written, its locks free', async () => {
    const org = await organization();
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    let preparedAhead = false;
    const poll = slowPollRun(5000, async (n) => {
      if (n !== 2) return;
      // Page 3 is being prepared while page 2 is inserted: its first item's lock is taken.
      for (let tries = 0; tries < 50 && !preparedAhead; tries++) {
        preparedAhead = !(await locks.acquire(itemLockName(inventoryItemId(org.id, '21')), 'probe', 1));
        if (!preparedAhead) await new Promise((r) => setTimeout(r, 5));
      }
      await locks.revoke(pollLeaseName(org.id, org.polling[0]?.id as string));
    });
    expect(await run(poll, org)).toMatchObject({ status: 'partial', counts: { created: 20 } });
    expect(preparedAhead).toBe(true);
    expect(await h.items(org.id)).toHaveLength(20);
    // Page 3 (songs 21-30) was prepared while page 2 was inserted: its locks are free again.
    for (let i = 21; i <= 30; i++) expect(await locks.acquire(itemLockName(inventoryItemId(org.id, String(i))), 'test', 1000)).toBe(true);
  });
  // The lease is confirmed while the page is prepared and its write mark raised, not before: the
  // page's write must still wait for that answer. Here the lease is taken away just as page 3's
  // confirmation is asked for (after pages 1 and 2 were written): nothing of page 3 may be written.
  it('a lease lost as a page is about to be written: nothing of that page is written, its locks free', async () => {
    const org = await organization();
    const leaseName = pollLeaseName(org.id, org.polling[0]?.id as string);
    class RevokingLocks extends RedisLocks {
      override async lease(name: string, token: string, ttlMs: number): Promise<Lease | null> {
        const lease = await super.lease(name, token, ttlMs);
        if (!lease) return lease;
        const confirm = lease.confirm.bind(lease);
        let confirms = 0;
        lease.confirm = async () => {
          if (++confirms === 3) await this.revoke(leaseName);
          return confirm();
        };
        return lease;
      }
    }
    const poll = h.pollRunOver({ locks: new RevokingLocks(h.redis, { prefix: h.prefix }) });
    expect(await run(poll, org)).toMatchObject({ status: 'partial', counts: { created: 20 } });
    expect(await h.items(org.id)).toHaveLength(20);
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    for (let i = 21; i <= 30; i++) expect(await locks.acquire(itemLockName(inventoryItemId(org.id, String(i))), 'test', 1000)).toBe(true);
  });

  // The run's progress (recorded once a second) is written while the walk goes on, not awaited
  // before the next page: one that cannot be recorded must still fail the run, as it did when awaited.
  it("a run's progress that cannot be recorded fails the run", async () => {
    const org = await organization();
    const runsModel = h.store.models.syncRuns;
    const syncRuns = new Proxy(runsModel, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop === 'updateOne') {
          return (filter: unknown, update: { $set?: Record<string, unknown> }, ...rest: unknown[]) => {
            const keys = Object.keys(update?.$set ?? {}).sort();
            if (keys.join() === 'counts,pages') throw new Error('sync_runs unavailable');
            return (target.updateOne as (...a: unknown[]) => unknown)(filter, update, ...rest);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    // Inserts of 400 ms: the progress is due during the run's third page.
    const items = h.store.models.inventoryItems;
    const inventoryItems = new Proxy(items, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop === 'insertMany') {
          return async (...args: unknown[]) => {
            await new Promise((r) => setTimeout(r, 400));
            return (target.insertMany as (...a: unknown[]) => unknown)(...args);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const models: Models = { ...h.store.models, syncRuns, inventoryItems };
    const poll = h.pollRunOver({ models, records: models });
    await expect(run(poll, org)).rejects.toThrow('sync_runs unavailable');
    expect(await h.items(org.id)).not.toHaveLength(50);
  });

  describe('the remembered pages (written in batches while the walk goes on)', () => {
    /** 50 pages of one record; each write of remembered pages (a batch of them) goes through `onSave` first. */
    const memoryRun = (onSave: (n: number) => Promise<void>): PollRun => {
      let saves = 0;
      const memory = new PollMemoryRepository(h.store.models);
      const save = memory.savePages.bind(memory);
      memory.savePages = async (...args) => {
        await onSave(++saves);
        return save(...args);
      };
      return h.pollRunOver({ memory });
    };
    const onePerPage = () =>
      h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 1 } }] });

    it('the pages after them are written while they are saved, and the run ends once they are all saved', async () => {
      const org = await onePerPage();
      const written = () => h.store.models.inventoryItems.countDocuments({ organizationId: org.id });
      let before = 0;
      let after = 0;
      const poll = memoryRun(async (n) => {
        if (n !== 1) return;
        // The first save waits for 5 more pages to be written, for 5 s at most.
        before = await written();
        for (let tries = 0; tries < 100 && after < before + 5; tries++) {
          await new Promise((r) => setTimeout(r, 50));
          after = await written();
        }
      });
      expect(await run(poll, org)).toMatchObject({ status: 'succeeded', counts: { created: 50 } });
      expect(before).toBeGreaterThan(0);
      expect(after).toBeGreaterThanOrEqual(before + 5);
      // Every page is remembered (50 and the empty page that ended the walk), and the head after them.
      expect(await h.store.models.pollMemory.countDocuments({ organizationId: org.id, kind: 'page' })).toBe(51);
      const head = await h.store.models.pollMemory.findOne({ organizationId: org.id, kind: 'head' }).lean();
      expect(head).toMatchObject({ pages: 51 });
    });

    it('a remembered page that cannot be written fails the run, as when it was awaited', async () => {
      const org = await onePerPage();
      const poll = memoryRun(async () => {
        throw new Error('poll_memory unavailable');
      });
      await expect(run(poll, org)).rejects.toThrow('poll_memory unavailable');
      const run_ = await h.store.models.syncRuns.findOne({ organizationId: org.id }).lean();
      expect(run_?.status).not.toBe('succeeded');
      // The walk stopped soon after (it checks before each page): not every page was written.
      expect(await h.store.models.inventoryItems.countDocuments({ organizationId: org.id })).toBeLessThan(50);
    });
  });
});
