import request from 'supertest';
import { Redis } from 'ioredis';
import type { Organization } from '@music/domain';
import { jobIds, JOB_NAMES, openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { testUrls } from '@music/testing';
import { openInventoryTestEnv, song, type InventoryTestEnv, type TestUser } from './inventory.test-helper';

describe('music-inventory outbox: local writes store their event and enqueue a fanout job', () => {
  let env: InventoryTestEnv;
  let owner: TestUser;
  let twoWay: Organization;
  let oneWay: Organization;

  beforeAll(async () => {
    env = await openInventoryTestEnv('inventory_outbox');
    owner = await env.user();
    twoWay = await env.organization(owner.id, 'two-way');
    oneWay = await env.organization(owner.id, 'one-way');
  });
  afterAll(async () => {
    await env.close();
  });

  const create = (organizationId: string, body: object) =>
    request(env.app).post('/inventory').set('authorization', owner.auth).set('x-organization-id', organizationId).send(body);
  const stored = (id: string) => env.store.models.inventoryItems.findById(id).lean();

  it('a two-way create stores a pending upsert and enqueues exactly one fanout job for it', async () => {
    const res = await create(twoWay.id, song('o-create'));
    expect(res.status).toBe(201);
    const doc = await stored(res.body.id);
    expect(doc).toMatchObject({ origin: 'local', version: 1, state: 'pending', remoteKnown: false, deleted: false });
    // The request's id rides on the event (and the job) for the log lines of its fan-out and deliveries.
    const requestId = res.headers['x-request-id'];
    expect(doc?.pendingEvent).toEqual({ id: expect.any(String), op: 'upsert', version: 1, at: expect.any(Date), requestId });

    const jobs = await env.fanoutJobs(res.body.id);
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    expect(job?.name).toBe(JOB_NAMES.fanout);
    expect(job?.id).toBe(jobIds.fanout(doc?.pendingEvent?.id ?? ''));
    expect(job?.data).toEqual({ version: 1, organizationId: twoWay.id, itemId: res.body.id, eventId: doc?.pendingEvent?.id, externalId: 'o-create', requestId });
  });

  it('an update that changes nothing writes nothing and enqueues nothing', async () => {
    const created = (await create(twoWay.id, song('o-noop', { tags: ['a'] }))).body;
    const before = await stored(created.id);

    const put = await request(env.app).put(`/inventory/${created.id}`).set('authorization', owner.auth).send({ tags: ['a'], album: 'Album', artist: 'Artist', name: 'Song o-noop' });
    expect(put.status).toBe(200);
    expect(put.body.sync.version).toBe(1);
    const patch = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ name: 'Song o-noop' });
    expect(patch.status).toBe(200);

    expect(await stored(created.id)).toEqual(before);
    expect(await env.fanoutJobs(created.id)).toHaveLength(1);
  });

  it('an update bumps the version, replaces the pending event and enqueues a job for the new one', async () => {
    const created = (await create(twoWay.id, song('o-update'))).body;
    const first = await stored(created.id);

    const res = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ name: 'Changed' });
    expect(res.status).toBe(200);
    expect(res.body.sync).toEqual({ state: 'pending', origin: 'local', version: 2, pending: true, remoteKnown: false });
    const second = await stored(created.id);
    expect(second?.version).toBe(2);
    expect(second?.pendingEvent).toMatchObject({ op: 'upsert', version: 2 });
    expect(second?.pendingEvent?.id).not.toBe(first?.pendingEvent?.id);

    const jobs = await env.fanoutJobs(created.id);
    expect(jobs.map((j) => j.id).sort()).toEqual([jobIds.fanout(first?.pendingEvent?.id ?? ''), jobIds.fanout(second?.pendingEvent?.id ?? '')].sort());
  });

  it('an update of an item that came from the third party is marked local and delivered', async () => {
    const created = (await create(twoWay.id, song('o-remote'))).body;
    // What an inbound write leaves behind: origin remote, settled, the event delivered and cleared.
    await env.store.models.inventoryItems.updateOne({ _id: created.id }, { $set: { origin: 'remote', pendingEvent: null, state: 'synced', remoteKnown: true }, $inc: { rev: 1 } });
    const res = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ album: 'Local edit' });
    expect(res.status).toBe(200);
    expect(res.body.sync).toEqual({ state: 'pending', origin: 'local', version: 2, pending: true, remoteKnown: true });
    expect((await stored(created.id))?.pendingEvent).toMatchObject({ op: 'upsert', version: 2 });
  });

  it('a two-way delete leaves a tombstone carrying the DELETE event; re-creating the externalId revives it', async () => {
    const created = (await create(twoWay.id, song('o-delete'))).body;
    expect((await request(env.app).delete(`/inventory/${created.id}`).set('authorization', owner.auth)).status).toBe(204);

    const tombstone = await stored(created.id);
    expect(tombstone).toMatchObject({ origin: 'local', version: 2, deleted: true, state: 'pending' });
    expect(tombstone?.pendingEvent).toMatchObject({ op: 'delete', version: 2 });
    expect((await env.fanoutJobs(created.id)).map((j) => j.id)).toContain(jobIds.fanout(tombstone?.pendingEvent?.id ?? ''));
    expect((await request(env.app).get(`/inventory/${created.id}`).set('authorization', owner.auth)).status).toBe(404);
    const list = await request(env.app).get(`/inventory/organization/${twoWay.id}`).query({ limit: 200 }).set('authorization', owner.auth);
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(created.id);

    const again = await create(twoWay.id, song('o-delete', { name: 'Back again' }));
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(created.id);
    expect(again.body.sync.version).toBe(3);
    const revived = await stored(created.id);
    expect(revived).toMatchObject({ deleted: false, version: 3, data: { name: 'Back again' } });
    expect(revived?.pendingEvent).toMatchObject({ op: 'upsert', version: 3 });
    expect(await env.fanoutJobs(created.id)).toHaveLength(3);
    expect((await request(env.app).get(`/inventory/${created.id}`).set('authorization', owner.auth)).body.name).toBe('Back again');
  });

  it('a one-way organization stores no event, enqueues nothing and deletes for good', async () => {
    const res = await create(oneWay.id, song('o-oneway'));
    expect(res.status).toBe(201);
    expect(res.body.sync).toEqual({ state: 'synced', origin: 'local', version: 0, pending: false, remoteKnown: false });
    expect((await stored(res.body.id))?.pendingEvent).toBeNull();

    const patched = await request(env.app).patch(`/inventory/${res.body.id}`).set('authorization', owner.auth).send({ name: 'Edited' });
    expect(patched.status).toBe(200);
    expect(await stored(res.body.id)).toMatchObject({ version: 0, pendingEvent: null, origin: 'local', data: { name: 'Edited' } });

    expect((await request(env.app).delete(`/inventory/${res.body.id}`).set('authorization', owner.auth)).status).toBe(204);
    expect(await stored(res.body.id)).toBeNull();
    expect(await env.fanoutJobs(res.body.id)).toHaveLength(0);
  });

  it('with Redis gone the create is still accepted and the item keeps its event for the sweeper', async () => {
    // A producer connection like main.ts makes, closed before the request.
    const producer = new Redis(testUrls().redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const deadQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: producer, prefix: env.prefix });
    deadQueue.on('error', () => undefined);
    await deadQueue.waitUntilReady();
    producer.disconnect();

    const res = await request(env.appWithQueue(deadQueue))
      .post('/inventory')
      .set('authorization', owner.auth)
      .set('x-organization-id', twoWay.id)
      .send(song('o-redis-down'));
    expect(res.status).toBe(201);
    const doc = await stored(res.body.id);
    expect(doc?.pendingEvent).toMatchObject({ op: 'upsert', version: 1, at: expect.any(Date) });
    // Nothing reached Redis: only the stored event can bring this change out.
    expect(await env.fanoutJobs(res.body.id)).toHaveLength(0);
    await deadQueue.close().catch(() => undefined);
  });
});
