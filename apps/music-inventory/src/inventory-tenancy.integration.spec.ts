import request from 'supertest';
import type { Organization } from '@music/domain';
import { openInventoryTestEnv, song, type InventoryTestEnv, type TestUser } from './inventory.test-helper';

describe('music-inventory tenancy: another user can neither see nor touch an item', () => {
  let env: InventoryTestEnv;
  let alice: TestUser;
  let bob: TestUser;
  let aliceOrg: Organization;
  let bobOrg: Organization;
  const aliceItemIds: string[] = [];

  beforeAll(async () => {
    env = await openInventoryTestEnv('inventory_tenancy');
    alice = await env.user();
    bob = await env.user();
    aliceOrg = await env.organization(alice.id);
    bobOrg = await env.organization(bob.id);
    for (const externalId of ['a-1', 'a-2', 'a-3']) {
      const res = await request(env.app).post('/inventory').set('authorization', alice.auth).set('x-organization-id', aliceOrg.id).send(song(externalId));
      expect(res.status).toBe(201);
      aliceItemIds.push(res.body.id);
    }
    const own = await request(env.app).post('/inventory').set('authorization', bob.auth).set('x-organization-id', bobOrg.id).send(song('b-1'));
    expect(own.status).toBe(201);
  });
  afterAll(async () => {
    await env.close();
  });

  const aliceDocs = () => env.store.models.inventoryItems.find({ organizationId: aliceOrg.id }).sort({ _id: 1 }).lean();

  it('answers 404 to every read and write of her items, with or without naming an organization', async () => {
    const before = await aliceDocs();
    const jobsBefore = (await Promise.all(aliceItemIds.map((id) => env.fanoutJobs(id)))).flat().length;
    const [target] = aliceItemIds as [string];

    const attempts = (header?: string) => {
      const withHeader = (req: request.Test) => (header ? req.set('x-organization-id', header) : req);
      return [
        withHeader(request(env.app).get(`/inventory/${target}`).set('authorization', bob.auth)),
        withHeader(request(env.app).put(`/inventory/${target}`).set('authorization', bob.auth)).send({ name: 'pwned', artist: 'x', album: 'y' }),
        withHeader(request(env.app).patch(`/inventory/${target}`).set('authorization', bob.auth)).send({ name: 'pwned' }),
        withHeader(request(env.app).delete(`/inventory/${target}`).set('authorization', bob.auth)),
      ];
    };
    for (const header of [undefined, aliceOrg.id, bobOrg.id]) {
      for (const res of await Promise.all(attempts(header))) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
    }

    const orgList = await request(env.app).get(`/inventory/organization/${aliceOrg.id}`).set('authorization', bob.auth);
    expect(orgList.status).toBe(404);

    const create = await request(env.app).post('/inventory').set('authorization', bob.auth).set('x-organization-id', aliceOrg.id).send(song('intruder'));
    expect(create.status).toBe(404);

    // Her items are exactly as they were: same data, versions and outbox events; no new jobs.
    expect(await aliceDocs()).toEqual(before);
    const jobsAfter = (await Promise.all(aliceItemIds.map((id) => env.fanoutJobs(id)))).flat().length;
    expect(jobsAfter).toBe(jobsBefore);
  });

  it('never lists her items in his listing', async () => {
    const res = await request(env.app).get('/inventory').query({ limit: 200 }).set('authorization', bob.auth);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { externalId: string }) => i.externalId)).toEqual(['b-1']);
    expect(res.body.items.map((i: { id: string }) => i.id)).not.toEqual(expect.arrayContaining([aliceItemIds[0]]));

    const hers = await request(env.app).get('/inventory').query({ limit: 200 }).set('authorization', alice.auth);
    expect(hers.body.items.map((i: { externalId: string }) => i.externalId).sort()).toEqual(['a-1', 'a-2', 'a-3']);
  });

  it('a user with no organization sees an empty list', async () => {
    const carol = await env.user();
    const res = await request(env.app).get('/inventory').set('authorization', carol.auth);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });
});
