import request from 'supertest';
import { JOB_NAMES, jobIds } from '@music/queue';
import { IntegrationHarness } from '../integration.test-harness';

type Page = { items: Array<Record<string, unknown> & { id: string }>; nextCursor: string | null };

describe('sync history: GET /organization/:id/sync-runs and /deliveries (real store, real Redis)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
  });
  afterEach(async () => h.stop());

  const get = async (path: string, query: Record<string, string | number> = {}) => {
    const res = await request(h.app).get(path).query(query).set('authorization', `Bearer ${h.token()}`);
    return res;
  };

  /** Every page of a listing, following nextCursor. */
  const walk = async (path: string, query: Record<string, string | number>): Promise<Array<Page['items'][number]>> => {
    const seen: Page['items'] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const res = await get(path, { ...query, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      const page = res.body as Page;
      seen.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) return seen;
    }
    throw new Error('too many pages');
  };

  it('pages through deliveries created in the same millisecond without losing or repeating one', async () => {
    // Two output webhooks for upserts: every local change fans out to two deliveries with one createdAt.
    const org = await h.createOrganization({
      webhooks: [
        { type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' },
        { type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'PUT' },
      ],
    });
    for (const id of ['a', 'b', 'c']) await h.createLocal(org.id, id, { name: id, artist: 'x', album: 'y' });
    await h.drainOutput();
    const all = (await get(`/organization/${org.id}/deliveries`, { limit: 100 })).body as Page;
    expect(all.items).toHaveLength(6);
    expect(all.nextCursor).toBeNull();

    for (const limit of [1, 2, 4]) {
      const paged = await walk(`/organization/${org.id}/deliveries`, { limit });
      expect(paged.map((d) => d.id)).toEqual(all.items.map((d) => d.id));
    }
  });

  it('filters deliveries by status, by item (externalId) and by time', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    await h.createLocal(org.id, 'ok-1', { name: 'ok', artist: 'x', album: 'y' });
    await h.drainOutput();
    const between = new Date();
    h.thirdParty.failures.sync = { count: 1, status: 400 };
    await h.createLocal(org.id, 'refused-1', { name: 'no', artist: 'x', album: 'y' });
    await h.drainOutput();

    const path = `/organization/${org.id}/deliveries`;
    const failed = (await get(path, { status: 'failed' })).body as Page;
    expect(failed.items.map((d) => [d['externalId'], d['status'], d['lastError']])).toEqual([['refused-1', 'failed', 'HTTP 400']]);
    const ofItem = (await get(path, { externalId: 'ok-1' })).body as Page;
    expect(ofItem.items.map((d) => [d['externalId'], d['status']])).toEqual([['ok-1', 'succeeded']]);
    expect(((await get(path, { since: between.toISOString() })).body as Page).items.map((d) => d['externalId'])).toEqual(['refused-1']);
    expect(((await get(path, { until: between.toISOString() })).body as Page).items.map((d) => d['externalId'])).toEqual(['ok-1']);
    expect(((await get(path, { before: between.toISOString() })).body as Page).items.map((d) => d['externalId'])).toEqual(['ok-1']);
  });

  it('pages through sync runs newest first and filters them by status and time', async () => {
    const org = await h.createOrganization();
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    h.thirdParty.put({ id: '1', name: 'n', artist: 'a', album: 'b' });
    await h.pollNow(org.id);
    await h.pollNow(org.id);
    const between = new Date();
    h.thirdParty.failures.music = { count: 1, status: 404 };
    await h.pollNow(org.id);
    // Runs queued in one millisecond (music-config queues one per polling entry in a loop).
    const at = new Date();
    for (let i = 0; i < 3; i++) await h.runs.createQueued(org.id, entry, 'manual', at);

    const path = `/organization/${org.id}/sync-runs`;
    const all = (await get(path, { limit: 100 })).body as Page;
    expect(all.items.map((r) => r['status'])).toEqual(['queued', 'queued', 'queued', 'failed', 'succeeded', 'succeeded']);
    for (const limit of [1, 2, 4]) expect((await walk(path, { limit })).map((r) => r.id)).toEqual(all.items.map((r) => r.id));

    expect(((await get(path, { status: 'succeeded' })).body as Page).items).toHaveLength(2);
    const failed = ((await get(path, { status: 'failed' })).body as Page).items;
    expect(failed).toEqual([expect.objectContaining({ status: 'failed', message: expect.stringContaining('404') })]);
    expect(((await get(path, { until: between.toISOString() })).body as Page).items.map((r) => r['status'])).toEqual(['succeeded', 'succeeded']);
    expect(((await get(path, { since: between.toISOString(), status: 'failed' })).body as Page).items).toHaveLength(1);
  });

  it('shows a run stored without pages, message or times (an earlier version wrote none) with 0 and nulls', async () => {
    const org = await h.createOrganization();
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    const id = 'run-stored-bare';
    await h.store.models.syncRuns.collection.insertOne({ _id: id, organizationId: org.id, pollingId: entry.id, endpoint: entry.endpoint, trigger: 'manual', status: 'queued', counts: {}, errors: [], queuedAt: new Date() } as never);

    const expected = { id, status: 'queued', pages: 0, message: null, startedAt: null, finishedAt: null };
    expect((await get(`/organization/${org.id}/sync-runs/${id}`)).body).toMatchObject(expected);
    expect(((await get(`/organization/${org.id}/sync-runs`)).body as Page).items).toEqual([expect.objectContaining(expected)]);
  });

  it('shows a long manual sync progressing: GET .../sync-runs/:runId reports running with counts that move before the final ones', async () => {
    const org = await h.createOrganization({
      polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 1 } }],
    });
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    for (let i = 1; i <= 8; i++) h.thirdParty.put({ id: String(i), name: `n${i}`, artist: 'a', album: 'b' });
    // A slow endpoint: one record per page, each page takes a while.
    h.thirdParty.musicDelayMs = 400;
    // What music-config's POST /organization/:id/sync does: a queued run and its poll job.
    const run = await h.runs.createQueued(org.id, entry, 'manual');
    await h.queues.polling.add(JOB_NAMES.poll, { version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual', runId: run.id }, { jobId: jobIds.manualPoll(run.id) });

    const seen: Array<{ status: string; fetched: number; pages: number }> = [];
    for (;;) {
      const res = await get(`/organization/${org.id}/sync-runs/${run.id}`);
      const body = res.body as { status: string; counts: { fetched: number }; pages: number };
      seen.push({ status: body.status, fetched: body.counts.fetched, pages: body.pages });
      if (!['queued', 'running'].includes(body.status)) break;
      if (seen.length > 400) throw new Error('the run did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.at(-1)).toMatchObject({ status: 'succeeded', fetched: 8 });
    const partway = seen.filter((s) => s.status === 'running' && s.fetched > 0 && s.fetched < 8);
    expect(partway.length).toBeGreaterThan(0);
    expect(partway.every((s) => s.pages > 0)).toBe(true);
  });

  it('refuses a malformed cursor or filter with 400 naming the parameter, and hides other tenants’ history', async () => {
    const org = await h.createOrganization();
    const bad = await get(`/organization/${org.id}/deliveries`, { cursor: 'not-a-cursor' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'cursor' })]);
    const badStatus = await get(`/organization/${org.id}/sync-runs`, { status: 'exploded' });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.details).toEqual([expect.objectContaining({ path: 'status' })]);
    const stranger = await request(h.app).get(`/organization/${org.id}/deliveries`).set('authorization', `Bearer ${h.token('intruder')}`);
    expect(stranger.status).toBe(404);
  });
});
