import { eventually } from '@music/testing';
import { ScenarioWorld, song, type Json } from './scenario-world';

// Issue 13's scenarios, each as a user meets it: the apps as processes, the stub third party on
// loopback, HTTP only. Each one lost, reverted or resurrected data before the sync engine v2.

jest.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const names = (items: Json[]): Record<string, unknown> => Object.fromEntries(items.map((i) => [i['externalId'], i['name']]));

describe('sync scenarios (apps as processes, stub third party)', () => {
  const w = new ScenarioWorld();
  beforeAll(async () => {
    await w.start();
  }, 120_000);
  afterAll(async () => w.stop());

  /** A two-way organization polling the stub's /music (daily) and delivering upserts and deletes to it. */
  const twoWay = (extra: Json = {}) =>
    w.createOrganization({
      synchronization: 'two-way',
      webhooks: [
        { type: 'output', url: `${w.stub.baseUrl}/sync/create`, method: 'POST' },
        { type: 'output', url: `${w.stub.baseUrl}/sync/delete`, method: 'DELETE' },
      ],
      polling: [{ endpoint: `${w.stub.baseUrl}/music`, interval: 1, type: 'day' }],
      ...extra,
    });

  beforeEach(() => {
    w.stub.records.clear();
    w.stub.deliveries.length = 0;
    w.stub.lists.clear();
    w.stub.pathFailures.clear();
    w.stub.pathDelaysMs.clear();
    w.stub.failures.sync = { count: 0, status: 500 };
    w.stub.onList = null;
    w.stub.withTotal = false;
    w.stub.releaseList();
  });

  it('1. a poll whose list response was in flight while a local delete was delivered does not bring the item back', async () => {
    w.stub.put(song('s1'), song('s2'), song('s3'), song('s4'));
    const org = await twoWay();
    expect(Object.keys(names(await w.items(org.id))).sort()).toEqual(['s1', 's2', 's3', 's4']);

    w.stub.holdNextList();
    const [runId] = await w.syncNow(org.id);
    await eventually(async () => w.stub.heldLists === 1, 'the list request to reach the third party');
    expect((await w.localDelete(org.id, 's1')).status).toBe(204);
    await eventually(async () => !w.stub.records.has('s1'), 'the DELETE to reach the third party');
    await w.deliveriesSettled(org.id);
    w.stub.releaseList();

    const run = await w.waitRun(org.id, runId as string);
    expect(run['counts']).toMatchObject({ created: 0 });
    expect(Object.keys(names(await w.items(org.id))).sort()).toEqual(['s2', 's3', 's4']);
    // The next poll sees the third party without s1: nothing to flag, nothing to bring back.
    const [next] = await w.syncAndWait(org.id);
    expect(next).toMatchObject({ status: 'succeeded', counts: { created: 0, deleted: 0 } });
    expect(Object.keys(names(await w.items(org.id))).sort()).toEqual(['s2', 's3', 's4']);
  });

  it('2. a poll whose list response was in flight while a local rename was delivered does not revert it', async () => {
    w.stub.put(song('s1', 'Original'), song('s2'));
    const org = await twoWay();

    w.stub.holdNextList();
    const [runId] = await w.syncNow(org.id);
    await eventually(async () => w.stub.heldLists === 1, 'the list request to reach the third party');
    expect((await w.localPatch(org.id, 's1', { name: 'Renamed' })).status).toBe(200);
    await eventually(async () => w.stub.records.get('s1')?.['name'] === 'Renamed', 'the rename to reach the third party');
    await w.deliveriesSettled(org.id);
    w.stub.releaseList();
    await w.waitRun(org.id, runId as string);
    expect((await w.item(org.id, 's1'))?.['name']).toBe('Renamed');

    // A later partial edit carries the rename, not the old name.
    expect((await w.localPatch(org.id, 's1', { artist: 'New Artist' })).status).toBe(200);
    await eventually(async () => w.stub.records.get('s1')?.['artist'] === 'New Artist', 'the second edit to arrive');
    expect(w.stub.records.get('s1')).toMatchObject({ name: 'Renamed', artist: 'New Artist' });
    expect((await w.item(org.id, 's1'))?.['name']).toBe('Renamed');
  });

  it('3. two polling entries of one organization never delete each other\'s items', async () => {
    w.stub.put(song('s1'), song('s2'), song('s3'), song('s4'));
    w.stub.list('a', ['s1', 's2', 's3']);
    w.stub.list('b', ['s4']);
    const org = await w.createOrganization({
      synchronization: 'one-way',
      webhooks: [],
      polling: [
        { endpoint: `${w.stub.baseUrl}/music/a`, interval: 1, type: 'day' },
        { endpoint: `${w.stub.baseUrl}/music/b`, interval: 1, type: 'day' },
      ],
    });
    for (let i = 0; i < 3; i++) {
      const runs = await w.syncAndWait(org.id);
      expect(runs.map((r) => (r['counts'] as Json)['deleted'])).toEqual([0, 0]);
      expect(Object.keys(names(await w.items(org.id))).sort()).toEqual(['s1', 's2', 's3', 's4']);
    }
    // Each entry still deletes what it stopped listing.
    w.stub.list('a', ['s1', 's2']);
    await w.syncAndWait(org.id);
    expect(Object.keys(names(await w.items(org.id))).sort()).toEqual(['s1', 's2', 's4']);
  });

  it('4. two-way to one-way with a local DELETE pending, then the item re-created: the old DELETE is never sent, and remote changes apply again', async () => {
    w.stub.put(song('s1', 'Theirs'), song('s2'));
    const org = await twoWay();
    w.stub.failPath('/sync/delete', 503);
    expect((await w.localDelete(org.id, 's1')).status).toBe(204);
    await eventually(async () => w.stub.deliveries.some((d) => d.path === '/sync/delete'), 'a first DELETE attempt');

    const current = await w.organization(org.id);
    expect((await w.call('music-config', 'PUT', `/organization/${org.id}`, { ...current, synchronization: 'one-way' })).status).toBe(200);
    expect((await w.localCreate(org.id, song('s1', 'Ours again'))).status).toBe(201);
    await eventually(async () => (await w.deliveries(org.id, '&status=cancelled')).length === 1, 'the pending DELETE to be cancelled');
    w.stub.clearPathFailure('/sync/delete');
    await sleep(3000);
    expect(w.stub.records.has('s1')).toBe(true);
    expect(w.stub.deliveries.filter((d) => d.path === '/sync/delete' && d.status < 300)).toHaveLength(0);

    // The third party is the source again: its next change to s1 is applied.
    w.stub.put(song('s1', 'Changed there'));
    await w.syncAndWait(org.id);
    expect((await w.item(org.id, 's1'))?.['name']).toBe('Changed there');
  });

  it('5. editing an output webhook\'s URL while a change is pending sends the change to the new URL', async () => {
    w.stub.put(song('s1', 'Before'));
    const org = await w.createOrganization({
      synchronization: 'two-way',
      webhooks: [{ type: 'output', url: `${w.stub.baseUrl}/sync/old`, method: 'POST' }],
      polling: [{ endpoint: `${w.stub.baseUrl}/music`, interval: 1, type: 'day' }],
    });
    w.stub.failPath('/sync/old', 503);
    expect((await w.localPatch(org.id, 's1', { name: 'Edited here' })).status).toBe(200);
    await eventually(async () => w.stub.deliveries.some((d) => d.path === '/sync/old'), 'a first attempt at the old URL');

    const current = await w.organization(org.id);
    const webhooks = (current['webhooks'] as Json[]).map((h) => ({ id: h['id'], type: h['type'], method: h['method'], url: `${w.stub.baseUrl}/sync/new` }));
    expect((await w.call('music-config', 'PUT', `/organization/${org.id}`, { ...current, webhooks })).status).toBe(200);

    await eventually(async () => w.stub.deliveries.some((d) => d.path === '/sync/new' && d.status < 300), 'the change at the new URL', 20_000);
    const [delivery] = await w.deliveriesSettled(org.id);
    expect(delivery).toMatchObject({ status: 'succeeded' });
    expect(w.stub.records.get('s1')?.['name']).toBe('Edited here');
    await w.syncAndWait(org.id);
    expect((await w.item(org.id, 's1'))?.['name']).toBe('Edited here');
  });

  it.each([
    ['offset', { type: 'offset', limit: 2 }],
    ['page', { type: 'page', limit: 2 }],
  ])('6. %s pagination: a delete at the third party between two pages deletes nothing it still holds', async (_kind, pagination) => {
    w.stub.put(...['s1', 's2', 's3', 's4', 's5', 's6'].map((id) => song(id)));
    const org = await w.createOrganization({
      synchronization: 'one-way',
      webhooks: [],
      polling: [{ endpoint: `${w.stub.baseUrl}/music`, interval: 1, type: 'day', pagination }],
    });
    expect(await w.items(org.id)).toHaveLength(6);
    // After the first page of the next walk has been read, the third party deletes s1: everything
    // after it shifts one place, and s3 moves from the second page into the first, unseen.
    let deleted = false;
    w.stub.onList = ({ params }) => {
      const second = params.get('page') === '2' || (params.get('offset') !== null && params.get('offset') !== '0');
      if (second && !deleted) {
        deleted = true;
        w.stub.records.delete('s1');
      }
    };
    const [run] = await w.syncAndWait(org.id);
    expect(deleted).toBe(true);
    expect(Object.keys(names(await w.items(org.id)))).toContain('s3');
    expect((run?.['counts'] as Json)['deleted']).toBe(0);
    w.stub.onList = null;
    // Later walks see the list as it is: s3 stays, and s1 goes in the end.
    await w.syncAndWait(org.id);
    await w.syncAndWait(org.id);
    expect(Object.keys(names(await w.items(org.id))).sort()).toEqual(['s2', 's3', 's4', 's5', 's6']);
  });

  it('7a. a local change the third party refused stays ours, diverged and listed, until the user accepts the remote version', async () => {
    w.stub.put(song('s1', 'Theirs'), song('s2'), song('s3'));
    const org = await twoWay();
    w.stub.failPath('/sync/create', 422);
    expect((await w.localPatch(org.id, 's1', { name: 'Ours' })).status).toBe(200);
    await eventually(async () => (await w.item(org.id, 's1'))?.['sync'] && ((await w.item(org.id, 's1'))?.['sync'] as Json)['state'] === 'diverged', 'the item to diverge');

    w.stub.put(song('s1', 'Changed there'));
    const [run] = await w.syncAndWait(org.id);
    expect(run?.['counts']).toMatchObject({ diverged: 1, updated: 0 });
    expect((await w.item(org.id, 's1'))?.['name']).toBe('Ours');
    const listed = await w.call('music-integration', 'GET', `/organization/${org.id}/divergences`);
    expect(listed.status).toBe(200);
    expect(listed.body['items']).toEqual([
      expect.objectContaining({ externalId: 's1', state: 'diverged', data: expect.objectContaining({ name: 'Ours' }), held: expect.objectContaining({ op: 'upsert', data: expect.objectContaining({ name: 'Changed there' }) }) }),
    ]);

    const accepted = await w.call('music-integration', 'POST', `/organization/${org.id}/divergences/s1/accept-remote`);
    expect(accepted.status).toBe(200);
    expect(await w.item(org.id, 's1')).toMatchObject({ name: 'Changed there', sync: expect.objectContaining({ state: 'synced' }) });
  });

  it('7b. a local create the third party refused is not kept on our side only, silently: it is listed, and a replay delivers it', async () => {
    const org = await twoWay();
    w.stub.failPath('/sync/create', 422);
    expect((await w.localCreate(org.id, song('s9', 'Made here'))).status).toBe(201);
    await eventually(async () => ((await w.item(org.id, 's9'))?.['sync'] as Json | undefined)?.['state'] === 'diverged', 'the create to diverge');
    const listed = await w.call('music-integration', 'GET', `/organization/${org.id}/divergences`);
    expect((listed.body['items'] as Json[]).map((d) => d['externalId'])).toEqual(['s9']);

    w.stub.clearPathFailure('/sync/create');
    const replay = await w.call('music-integration', 'POST', `/organization/${org.id}/divergences/s9/replay`);
    expect(replay.status).toBe(202);
    await eventually(async () => w.stub.records.get('s9')?.['name'] === 'Made here', 'the replayed create');
    await eventually(async () => ((await w.item(org.id, 's9'))?.['sync'] as Json | undefined)?.['state'] === 'synced', 'the item to settle');
  });

  it('7c. without polling, a remote change held back by a local change that then failed is kept, and applied when the user accepts it', async () => {
    const org = await w.createOrganization({
      synchronization: 'two-way',
      webhooks: [
        { type: 'input', url: 'http://127.0.0.1/sync', method: 'POST' },
        { type: 'output', url: `${w.stub.baseUrl}/sync/create`, method: 'POST' },
      ],
      polling: [],
    });
    expect((await w.sendWebhook(org.id, 'POST', song('s1', 'First'), 'm-1')).status).toBe(202);
    await eventually(async () => (await w.item(org.id, 's1'))?.['name'] === 'First', 'the webhook to be applied');
    w.stub.failPath('/sync/create', 422);
    expect((await w.localPatch(org.id, 's1', { name: 'Ours' })).status).toBe(200);
    expect((await w.sendWebhook(org.id, 'POST', song('s1', 'Theirs later'), 'm-2')).status).toBe(202);
    await eventually(async () => ((await w.item(org.id, 's1'))?.['sync'] as Json | undefined)?.['state'] === 'diverged', 'the item to diverge');
    // The delivery can fail before or after the second webhook is applied: both end with it held.
    const divergences = async () => (await w.call('music-integration', 'GET', `/organization/${org.id}/divergences`)).body['items'] as Json[];
    await eventually(async () => ((await divergences())[0]?.['held'] as Json | undefined) != null, 'the remote change to be held');
    expect((await divergences())[0]).toMatchObject({ externalId: 's1', held: { op: 'upsert', data: { name: 'Theirs later' } } });
    expect((await w.call('music-integration', 'POST', `/organization/${org.id}/divergences/s1/accept-remote`)).status).toBe(200);
    expect((await w.item(org.id, 's1'))?.['name']).toBe('Theirs later');
  });

  it('8. deleting an organization removes its items, deliveries, runs and inbound messages', async () => {
    w.stub.put(song('s1'), song('s2'));
    const org = await twoWay({ webhooks: [{ type: 'input', url: 'http://127.0.0.1/sync', method: 'POST' }, { type: 'output', url: `${w.stub.baseUrl}/sync/create`, method: 'POST' }] });
    expect((await w.localCreate(org.id, song('s3'))).status).toBe(201);
    expect((await w.sendWebhook(org.id, 'POST', song('s4'), 'm-purge')).status).toBe(202);
    await w.deliveriesSettled(org.id);
    await eventually(async () => (await w.items(org.id)).length === 4, 'every item');

    const res = await w.call('music-config', 'DELETE', `/organization/${org.id}`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: org.id, deleted: true, cleanup: 'scheduled' });
    expect((await w.call('music-config', 'GET', `/organization/${org.id}`)).status).toBe(404);
    const db = (await w.store()).db;
    if (!db) throw new Error('no store connection');
    await eventually(
      async () => {
        const left = await Promise.all(
          ['inventory_items', 'deliveries', 'sync_runs', 'inbound_messages'].map((c) => db.collection(c).countDocuments({ organizationId: org.id })),
        );
        const orgLeft = await db.collection('organizations').countDocuments({ _id: org.id as never });
        return left.every((n) => n === 0) && orgLeft === 0;
      },
      'the organization\'s data to be purged',
      30_000,
    );
  });

  it('traced: with two output webhooks, the first acknowledgement does not settle the change (an inbound change meanwhile does not overwrite it)', async () => {
    w.stub.put(song('s1', 'Theirs'));
    const org = await w.createOrganization({
      synchronization: 'two-way',
      webhooks: [
        { type: 'input', url: 'http://127.0.0.1/sync', method: 'POST' },
        { type: 'output', url: `${w.stub.baseUrl}/sync/fast`, method: 'POST' },
        { type: 'output', url: `${w.stub.baseUrl}/sync/slow`, method: 'POST' },
      ],
      polling: [],
    });
    expect((await w.sendWebhook(org.id, 'POST', song('s1', 'Theirs'), 'm-first')).status).toBe(202);
    await eventually(async () => (await w.item(org.id, 's1'))?.['name'] === 'Theirs', 'the first webhook');
    // The slow webhook fails three times (about two seconds of retries) before it takes the change.
    w.stub.failPath('/sync/slow', 503, 3);
    expect((await w.localPatch(org.id, 's1', { name: 'Ours' })).status).toBe(200);
    await eventually(async () => w.stub.deliveries.some((d) => d.path === '/sync/fast' && d.status < 300), 'the fast webhook to acknowledge');
    // An inbound change arrives while the slow webhook still owes its answer.
    expect((await w.sendWebhook(org.id, 'POST', song('s1', 'Theirs, older than ours'), 'm-late')).status).toBe(202);
    await sleep(500);
    expect((await w.item(org.id, 's1'))?.['name']).toBe('Ours');
    await eventually(async () => w.stub.deliveries.some((d) => d.path === '/sync/slow' && d.status < 300), 'the slow webhook to acknowledge', 20_000);
    await w.deliveriesSettled(org.id);
    expect(await w.item(org.id, 's1')).toMatchObject({ name: 'Ours' });
    expect(w.stub.records.get('s1')?.['name']).toBe('Ours');
  });
});
