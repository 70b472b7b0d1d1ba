import { inventoryItemId } from '@music/domain';
import { itemLockName, RedisLocks } from '@music/platform';
import { IntegrationHarness } from '../integration.test-harness';

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
});
