import request from 'supertest';
import { withEntryIds } from '@music/persistence';
import { JOB_NAMES, jobIds } from '@music/queue';
import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';
import { INTEGRATION } from '../container';

const song = (id: string, name = `Song ${id}`) => ({ id, name, artist: `Artist ${id}`, album: `Album ${id}`, genre: 'rock' });

describe('polling (real store, real Redis, stub third party)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
  });
  afterEach(async () => h.stop());

  it('maps and stores every record, then a repeat poll writes nothing and delivers nothing', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'), song('2'), song('3'));

    const first = await h.pollNow(org.id);
    expect(first).toMatchObject({ kind: 'done', status: 'succeeded', counts: { fetched: 3, created: 3, updated: 0, unchanged: 0, invalid: 0 } });
    const items = await h.items(org.id);
    expect(items.map((i) => [i.externalId, i.data['name'], i.data['artist'], i.data['album'], i.origin])).toEqual([
      ['1', 'Song 1', 'Artist 1', 'Album 1', 'remote'],
      ['2', 'Song 2', 'Artist 2', 'Album 2', 'remote'],
      ['3', 'Song 3', 'Artist 3', 'Album 3', 'remote'],
    ]);

    const second = await h.pollNow(org.id);
    expect(second).toMatchObject({ kind: 'done', status: 'succeeded', counts: { fetched: 3, created: 0, updated: 0, unchanged: 3 } });
    const after = await h.items(org.id);
    expect(after.map((i) => i.updatedAt.getTime())).toEqual(items.map((i) => i.updatedAt.getTime()));
    await h.drainOutput();
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });

  it('updates changed records only, as remote writes that are never delivered back', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'), song('2'));
    await h.pollNow(org.id);
    h.thirdParty.put(song('2', 'Renamed'));
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ counts: { updated: 1, unchanged: 1 } });
    const two = (await h.items(org.id)).find((i) => i.externalId === '2');
    expect(two?.data['name']).toBe('Renamed');
    expect(two?.pendingEvent).toBeNull();
    await h.drainOutput();
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });

  it('counts records that fail mapping without aborting the run, and keeps a sample of errors', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'), { id: '2', name: 'No artist' } as never, song('3'));
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ status: 'succeeded', counts: { fetched: 3, created: 2, invalid: 1 } });
    if (run.kind !== 'done') throw new Error('expected a finished run');
    const stored = await h.runs.findForOrganization(org.id, run.runId);
    expect(stored?.errors[0]).toMatchObject({ index: 1, externalId: '2', path: 'artist' });
  });

  it('deletes items the third party no longer returns after a complete snapshot', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'), song('2'), song('3'), song('4'));
    await h.pollNow(org.id);
    h.thirdParty.records.delete('2');
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ status: 'succeeded', counts: { deleted: 1 } });
    expect((await h.items(org.id)).map((i) => i.externalId)).toEqual(['1', '3', '4']);
    await h.drainOutput();
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });

  it('deletes nothing and flags the run when the snapshot comes back empty or drops too much', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'), song('2'), song('3'), song('4'));
    await h.pollNow(org.id);

    h.thirdParty.records.clear();
    const empty = await h.pollNow(org.id);
    expect(empty).toMatchObject({ status: 'attention', counts: { deleted: 0 } });

    h.thirdParty.put(song('1'));
    const dropped = await h.pollNow(org.id);
    expect(dropped).toMatchObject({ status: 'attention', counts: { deleted: 0 } });
    expect(await h.items(org.id)).toHaveLength(4);
  });

  it('never deletes after a failed fetch, and records the failure on the run', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'), song('2'));
    await h.pollNow(org.id);
    h.thirdParty.failures.music = { count: 1, status: 503 };
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ kind: 'retry' });
    if (run.kind !== 'retry') throw new Error('expected a retry');
    const stored = await h.runs.findForOrganization(org.id, run.runId);
    expect(stored).toMatchObject({ status: 'failed', message: expect.stringContaining('503') });
    expect(await h.items(org.id)).toHaveLength(2);
  });

  it('walks page-numbered pagination to the end', async () => {
    const org = await h.createOrganization({
      polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 2 } }],
    });
    h.thirdParty.put(...['1', '2', '3', '4', '5'].map((id) => song(id)));
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ status: 'succeeded', counts: { fetched: 5, created: 5 } });
    if (run.kind !== 'done') throw new Error('expected a finished run');
    expect((await h.runs.findForOrganization(org.id, run.runId))?.pages).toBe(3);
  });

  it('walks cursor pagination to the end', async () => {
    const org = await h.createOrganization({
      polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'cursor', limit: 2 } }],
    });
    h.thirdParty.put(...['1', '2', '3', '4', '5'].map((id) => song(id)));
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ status: 'succeeded', counts: { fetched: 5, created: 5 } });
  });

  it('takes a full page without a next cursor for an unfinished walk: stores it, deletes nothing', async () => {
    const org = await h.createOrganization({
      polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'cursor', limit: 3 } }],
    });
    h.thirdParty.put(...['1', '2', '3', '4', '5', '6', '7', '8'].map((id) => song(id)));
    await h.pollNow(org.id);
    expect(await h.items(org.id)).toHaveLength(8);
    // The API stops paginating as configured: a plain slice of the first 3, no cursor anywhere.
    h.thirdParty.ignoreCursor = true;
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ status: 'partial', counts: { fetched: 3, deleted: 0 } });
    expect(await h.items(org.id)).toHaveLength(8);
  });

  it('refuses a polling endpoint on a private address unless allow-listed, and says why on the run', async () => {
    await h.stop();
    h = await new IntegrationHarness().start({ OUTBOUND_ALLOW_LIST: '' });
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'));
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ kind: 'done', status: 'failed' });
    if (run.kind !== 'done') throw new Error('expected a finished run');
    expect((await h.runs.findForOrganization(org.id, run.runId))?.message).toMatch(/blocked/);
    expect(await h.items(org.id)).toHaveLength(0);
  });

  it('registers a job scheduler per polling entry, follows changes and deletion, and reconciles after Redis lost them', async () => {
    const org = await h.createOrganization({}, { schedule: true });
    const schedulerId = `poll:${org.id}:${org.polling[0]?.id}`;
    expect(await h.schedules.allSchedulerIds()).toEqual([schedulerId]);

    const input = { synchronization: 'two-way' as const, webhooks: org.webhooks, polling: [{ endpoint: `${h.thirdParty.baseUrl}/other`, interval: 5, type: 'minute' as const, trackDeletes: true }], mappings: org.mappings, transforms: [] };
    const changed = await h.organizations.replace(h.ownerId, org.id, withEntryIds(input));
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    const newId = `poll:${org.id}:${changed?.polling[0]?.id}`;
    expect(await h.schedules.allSchedulerIds()).toEqual([newId]);
    const scheduler = (await h.queues.polling.getJobSchedulers()).find((s) => s.key === newId);
    expect(scheduler?.every).toBe(5 * 60_000);

    // Redis lost every scheduler: the start-up/periodic reconciliation restores them from the database.
    await h.queues.polling.removeJobScheduler(newId);
    expect(await h.schedules.allSchedulerIds()).toEqual([]);
    await h.use(INTEGRATION.reconcileAll).execute();
    expect(await h.schedules.allSchedulerIds()).toEqual([newId]);

    await h.organizations.markDeleted(h.ownerId, org.id);
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    expect(await h.schedules.allSchedulerIds()).toEqual([]);
  });

  it('fires scheduled polls on its own (with a shortened polling minute)', async () => {
    await h.stop();
    h = await new IntegrationHarness().start({ POLL_MINUTE_MS: '300' });
    h.thirdParty.put(song('1'));
    const org = await h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'minute' }] }, { schedule: true });
    await eventually(async () => (await h.items(org.id)).length === 1, 'the first scheduled poll');
    h.thirdParty.put(song('2'));
    await eventually(async () => (await h.items(org.id)).length === 2, 'a later scheduled poll to pick up new data');
    const runs = await h.runs.listForOrganization(org.id, { limit: 10 });
    expect(runs.every((r) => r.trigger === 'schedule')).toBe(true);
  });

  it('a manual sync requested while a poll runs waits for it and then runs, rather than being skipped', async () => {
    const org = await h.createOrganization();
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    h.thirdParty.put(song('1'));
    h.thirdParty.musicDelayMs = 800;
    const first = await h.runs.createQueued(org.id, entry, 'manual');
    const second = await h.runs.createQueued(org.id, entry, 'manual');
    // What music-config's POST /organization/:id/sync enqueues, twice in a row.
    for (const run of [first, second]) {
      await h.queues.polling.add(JOB_NAMES.poll, { version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual', runId: run.id }, { jobId: jobIds.manualPoll(run.id) });
    }
    for (const run of [first, second]) {
      await eventually(async () => (await h.runs.findForOrganization(org.id, run.id))?.status === 'succeeded', `manual run ${run.id} to succeed`, 20000);
    }
    const [a, b] = await Promise.all([first, second].map((r) => h.runs.findForOrganization(org.id, r.id)));
    // They ran one after the other, not at once.
    expect((b?.startedAt?.getTime() ?? 0) >= (a?.finishedAt?.getTime() ?? Infinity) || (a?.startedAt?.getTime() ?? 0) >= (b?.finishedAt?.getTime() ?? Infinity)).toBe(true);
  });

  it('lists sync runs to the owner only, newest first, filtered by status', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'));
    await h.pollNow(org.id);
    h.thirdParty.records.clear();
    await h.pollNow(org.id);

    const list = await request(h.app).get(`/organization/${org.id}/sync-runs`).set('authorization', `Bearer ${h.token()}`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((r: { status: string }) => r.status)).toEqual(['attention', 'succeeded']);
    const filtered = await request(h.app).get(`/organization/${org.id}/sync-runs?status=attention`).set('authorization', `Bearer ${h.token()}`);
    expect(filtered.body.items).toHaveLength(1);

    const stranger = await request(h.app).get(`/organization/${org.id}/sync-runs`).set('authorization', `Bearer ${h.token('someone-else')}`);
    expect(stranger.status).toBe(404);
    expect((await request(h.app).get(`/organization/${org.id}/sync-runs`)).status).toBe(401);
  });
});
