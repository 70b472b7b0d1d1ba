import request from 'supertest';
import { RedisLocks } from '@music/platform';
import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';

// The hazards issue 13 traced in the code of the first engine, each shown with the engine running
// (real store, real Redis, stub third party): a 202'd webhook lost with Redis, duplicates recognised
// only as long as completed jobs are kept, locks lapsing during a long write, and "vanished since
// the run started" decided by comparing two processes' clocks.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const song = (id: string, name = `Song ${id}`) => ({ id, name, artist: `Artist ${id}`, album: `Album ${id}` });

describe('traced cases (real store, real Redis)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
  });
  afterEach(async () => h.stop());

  it('an input webhook answered 202 survives Redis losing its queue: it is stored first, and the sweeper queues it again', async () => {
    const org = await h.createOrganization({ polling: [] });
    await h.queues.inbound.pause();
    const res = await request(h.app).post(`/sync?orgId=${org.id}`).set('webhook-id', 'before-the-loss').send(song('w1'));
    expect(res.status).toBe(202);
    // Redis restarts without its data: the queue, and the job, are gone.
    await h.queues.inbound.obliterate({ force: true });
    await h.queues.inbound.resume();
    await eventually(async () => (await h.items(org.id)).some((i) => i.externalId === 'w1'), 'the stored webhook to be applied', 15_000);
  });

  it('a repeated webhook-id is a duplicate for as long as the dedupe retention, not as long as Redis keeps completed jobs, and only within one organization', async () => {
    const org = await h.createOrganization({ polling: [] });
    const send = (orgId: string, id: string, name: string) => request(h.app).post(`/sync?orgId=${orgId}`).set('webhook-id', id).send(song('s1', name));
    expect((await send(org.id, 'msg-1', 'First')).body).toMatchObject({ duplicate: false });
    await eventually(async () => (await h.items(org.id))[0]?.data['name'] === 'First', 'the first call');
    expect((await send(org.id, 'msg-2', 'Second')).body).toMatchObject({ duplicate: false });
    await eventually(async () => (await h.items(org.id))[0]?.data['name'] === 'Second', 'the second call');
    // Redis drops completed jobs (an hour, or 10,000 jobs shared by every organization).
    await h.queues.inbound.clean(0, 10_000, 'completed');
    // The third party retries its first call.
    expect((await send(org.id, 'msg-1', 'First')).body).toMatchObject({ duplicate: true });
    await sleep(800);
    expect((await h.items(org.id))[0]?.data['name']).toBe('Second');
    // Another organization's message ids are its own.
    const other = await h.createOrganization({ polling: [] });
    expect((await send(other.id, 'msg-1', 'Other')).body).toMatchObject({ duplicate: false });
  });

  it('a lock held across a long write is renewed: no other writer gets it while the write runs', async () => {
    const locks = new RedisLocks(h.redis, { prefix: h.prefix, ttlMs: 300 });
    let intruder: boolean | undefined;
    await locks.withLock('long-write', async () => {
      // The write takes twice the lock's TTL.
      await sleep(600);
      intruder = await locks.acquire('long-write', 'intruder', 1000);
    });
    expect(intruder).toBe(false);
  });

  describe('a poll whose lease is taken away', () => {
    let onPage: (page: number) => Promise<void> = async () => undefined;
    beforeEach(() => {
      // 10 records a page, 3 pages.
      h.thirdParty.put(...Array.from({ length: 30 }, (_, i) => song(String(i + 1))));
      h.thirdParty.onList = ({ params }) => onPage(Number(params.get('page')));
    });

    it('stops before its next write and ends partial, saying why', async () => {
      const org = await h.createOrganization({
        polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 10 } }],
      });
      const entry = org.polling[0]?.id as string;
      // While page 2 is fetched (page 1 being written), another holder takes the entry's lease.
      onPage = async (page) => {
        if (page === 2) await h.redis.set(`${h.prefix}:lock:poll:${org.id}:${entry}`, 'another-run', 'PX', 60_000);
      };
      const outcome = await h.pollNow(org.id);
      expect(outcome).toMatchObject({ kind: 'done', status: 'partial' });
      if (outcome.kind !== 'done') throw new Error('expected a finished run');
      expect((await h.runs.findForOrganization(org.id, outcome.runId))?.message).toMatch(/lost its lease/);
      const ids = (await h.items(org.id)).map((i) => Number(i.externalId));
      expect(ids.every((id) => id <= 10)).toBe(true);
    });
  });

  it('a poll begun by a process whose clock is ahead does not delete an item delivered during its walk (times are the store\'s)', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('s1'), song('s2'), song('s3'), song('s4'));
    await h.pollNow(org.id);
    expect(await h.items(org.id)).toHaveLength(4);

    // The polling process's clock runs a minute ahead of the others'.
    const RealDate = Date;
    const skewMs = 60_000;
    class AheadDate extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(RealDate.now() + skewMs);
        else super(...(args as [string | number | Date]));
      }
      static override now(): number {
        return RealDate.now() + skewMs;
      }
    }
    h.thirdParty.holdNextList();
    globalThis.Date = AheadDate as DateConstructor;
    const polled = h.pollNow(org.id);
    try {
      await eventually(async () => h.thirdParty.heldLists === 1, 'the poll to take its snapshot');
    } finally {
      globalThis.Date = RealDate;
    }
    // Meanwhile, on another process's clock, a local create is delivered: the snapshot lacks it.
    await h.createLocal(org.id, 's9', { name: 'Made here', artist: 'Us', album: 'Ours' });
    await eventually(async () => h.thirdParty.records.has('s9'), 'the create to reach the third party');
    await eventually(async () => (await h.item(org.id, 's9'))?.remoteKnown === true, 'the delivery to be recorded');
    h.thirdParty.releaseList();
    expect(await polled).toMatchObject({ kind: 'done', counts: { deleted: 0 } });
    expect((await h.items(org.id)).map((i) => i.externalId)).toContain('s9');
  });
});
