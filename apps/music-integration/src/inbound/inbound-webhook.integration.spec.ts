import request from 'supertest';
import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';

const song = (id: string, name = `Song ${id}`) => ({ id, name, artist: 'Remote Artist', album: 'Remote Album' });

// How calls are authenticated (signatures, tokens, rotation, the bare form) is in
// inbound-webhook-auth.integration.spec.ts; these calls use the bare form tests accept.
describe('input webhooks (POST|PUT|DELETE /sync?orgId=)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
  });
  afterEach(async () => h.stop());

  it('upserts one record or an array, answers 202 at once, and never delivers back', async () => {
    const org = await h.createOrganization();
    const one = await request(h.app).post(`/sync?orgId=${org.id}`).send(song('w1'));
    expect(one.status).toBe(202);
    expect(one.body).toMatchObject({ accepted: 1, duplicate: false });
    const many = await request(h.app).post(`/sync?orgId=${org.id}`).send([song('w2'), song('w3')]);
    expect(many.body.accepted).toBe(2);
    await eventually(async () => (await h.items(org.id)).length === 3, 'the records to be applied');
    const items = await h.items(org.id);
    expect(items.every((i) => i.origin === 'remote' && i.pendingEvent === null)).toBe(true);
    await h.drainOutput();
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });

  it('an inbound DELETE removes the item and produces no outbound DELETE', async () => {
    const org = await h.createOrganization();
    await request(h.app).post(`/sync?orgId=${org.id}`).send([song('d1'), song('d2')]);
    await eventually(async () => (await h.items(org.id)).length === 2, 'the records');
    const del = await request(h.app).delete(`/sync?orgId=${org.id}`).send(song('d1'));
    expect(del.status).toBe(202);
    await eventually(async () => (await h.items(org.id)).length === 1, 'the inbound delete');
    await h.drainOutput();
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });

  it('answers 404 for an unknown organization or a method without an input webhook', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'input', url: 'http://localhost:3000/sync?orgId=', method: 'DELETE' }] });
    expect((await request(h.app).post('/sync?orgId=nope').send(song('1'))).status).toBe(404);
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).send(song('1'))).status).toBe(404);
    expect((await request(h.app).delete(`/sync?orgId=${org.id}`).send(song('1'))).status).toBe(202);
    const missing = await request(h.app).post('/sync').send(song('1'));
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].path).toBe('orgId');
  });

  it('refuses bodies that are not records', async () => {
    const org = await h.createOrganization();
    const res = await request(h.app).post(`/sync?orgId=${org.id}`).set('content-type', 'application/json').send('"just a string"');
    expect(res.status).toBe(400);
  });
});
