import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, generateWebhookToken, webhookTokenHash } from '@music/platform';
import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';

const song = (id: string) => ({ id, name: `Song ${id}`, artist: 'Remote Artist', album: 'Remote Album' });

/** Standard Webhooks headers signing `body` with `secret`, as the official library makes them. */
function signed(secret: string, body: string, id = `msg-${Math.random().toString(36).slice(2)}`, at = new Date()) {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body), 'content-type': 'application/json' };
}

describe('input webhook authentication, as production runs it (INBOUND_WEBHOOK_UNAUTHENTICATED=refuse)', () => {
  let h: IntegrationHarness;
  const secret = generateWebhookSecret();
  const token = generateWebhookToken();
  let orgId: string;

  beforeAll(async () => {
    h = await new IntegrationHarness().start({ INBOUND_WEBHOOK_UNAUTHENTICATED: 'refuse' });
    const org = await h.createOrganization({
      webhooks: [
        { type: 'input', url: 'http://localhost:3003/sync', method: 'POST', secret, tokenHash: webhookTokenHash(token) },
        { type: 'input', url: 'http://localhost:3003/sync', method: 'DELETE', secret, tokenHash: webhookTokenHash(token) },
      ],
    });
    orgId = org.id;
  });
  afterAll(async () => h.stop());

  // Finding: a stranger's unsigned call to an organization's /sync wrote to and deleted from its inventory.
  it('refuses a call with neither signature nor token, and writes nothing', async () => {
    const post = await request(h.app).post(`/sync?orgId=${orgId}`).send(song('evil'));
    expect(post.status).toBe(401);
    expect(post.body.error).toEqual({ code: 'UNAUTHORIZED', message: expect.stringContaining('signature') });
    expect((await request(h.app).delete(`/sync?orgId=${orgId}`).send(song('evil'))).status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(await h.items(orgId)).toHaveLength(0);
    expect(await h.queues.inbound.getJobCounts('waiting', 'active', 'completed')).toEqual({ waiting: 0, active: 0, completed: 0 });
  });

  it('accepts a Standard Webhooks signature made by the official library, and a repeated webhook-id once', async () => {
    const body = JSON.stringify(song('s1'));
    const headers = signed(secret, body, 'msg-1');
    expect((await request(h.app).post(`/sync?orgId=${orgId}`).set(headers).send(body)).status).toBe(202);
    expect((await request(h.app).post(`/sync?orgId=${orgId}`).set(headers).send(body)).body).toMatchObject({ duplicate: true });
    await eventually(async () => (await h.items(orgId)).some((i) => i.externalId === 's1'), 'the signed record');
  });

  it('refuses a tampered body, another secret, a stale timestamp and a bad token, even next to a good one', async () => {
    const body = JSON.stringify(song('s2'));
    const post = (headers: Record<string, string>, text = body, query = '') => request(h.app).post(`/sync?orgId=${orgId}${query}`).set(headers).send(text);
    expect((await post(signed(secret, body), body.replace('s2', 's3'))).status).toBe(401);
    expect((await post(signed(generateWebhookSecret(), body))).status).toBe(401);
    expect((await post(signed(secret, body, 'msg-old', new Date(Date.now() - 10 * 60_000)))).status).toBe(401);
    expect((await post({ 'content-type': 'application/json' }, body, '&token=not-the-token')).status).toBe(401);
    expect((await post(signed(secret, body), body, '&token=not-the-token')).status).toBe(401);
  });

  it('accepts the webhook’s token in the URL from a third party that cannot sign', async () => {
    const res = await request(h.app).delete(`/sync?orgId=${orgId}&token=${token}`).send(song('s1'));
    expect(res.status).toBe(202);
    await eventually(async () => !(await h.items(orgId)).some((i) => i.externalId === 's1'), 'the token-authenticated delete');
  });

  it('keeps the previous secret and token working during a rotation’s overlap, and only then', async () => {
    const previous = generateWebhookSecret();
    const previousToken = generateWebhookToken();
    const current = generateWebhookSecret();
    const base = { type: 'input' as const, url: 'http://localhost:3003/sync', method: 'POST' as const, secret: current, tokenHash: webhookTokenHash(generateWebhookToken()), previousSecret: previous, previousTokenHash: webhookTokenHash(previousToken) };
    const overlapping = await h.createOrganization({ webhooks: [{ ...base, previousSecretExpiresAt: new Date(Date.now() + 60_000) }] });
    const expired = await h.createOrganization({ webhooks: [{ ...base, previousSecretExpiresAt: new Date(Date.now() - 1000) }] });
    const body = JSON.stringify(song('r1'));
    const call = (id: string, headers: Record<string, string>, query = '') => request(h.app).post(`/sync?orgId=${id}${query}`).set(headers).send(body);
    expect((await call(overlapping.id, signed(previous, body))).status).toBe(202);
    expect((await call(overlapping.id, signed(current, body))).status).toBe(202);
    expect((await call(overlapping.id, { 'content-type': 'application/json' }, `&token=${previousToken}`)).status).toBe(202);
    expect((await call(expired.id, signed(previous, body))).status).toBe(401);
    expect((await call(expired.id, { 'content-type': 'application/json' }, `&token=${previousToken}`)).status).toBe(401);
    expect((await call(expired.id, signed(current, body))).status).toBe(202);
  });

  it('still verifies a plain secret stored before secrets had to be whsec_ (read as raw bytes)', async () => {
    const legacy = 'a-plain-legacy-secret-0123456789';
    const org = await h.createOrganization({ webhooks: [{ type: 'input', url: 'http://localhost:3003/sync', method: 'POST' }] });
    const stored = await h.store.models.organizations.findById(org.id).lean();
    const webhooks = (stored?.webhooks as Array<Record<string, unknown>>).map((w) => ({ ...w, secret: legacy }));
    await h.store.models.organizations.updateOne({ _id: org.id }, { $set: { webhooks } });
    const body = JSON.stringify(song('l1'));
    const at = new Date();
    const headers = { 'webhook-id': 'legacy-1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(Buffer.from(legacy), { format: 'raw' }).sign('legacy-1', at, body) };
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).set(headers).set('content-type', 'application/json').send(body)).status).toBe(202);
  });
});

describe('input webhook authentication in development (INBOUND_WEBHOOK_UNAUTHENTICATED=accept, the default outside production)', () => {
  let h: IntegrationHarness;
  afterEach(async () => h.stop());

  it('accepts the bare /sync?orgId= form, and still refuses a signature or token that does not verify', async () => {
    h = await new IntegrationHarness().start({ NODE_ENV: 'development' });
    const secret = generateWebhookSecret();
    const org = await h.createOrganization({ webhooks: [{ type: 'input', url: 'http://localhost:3003/sync', method: 'POST', secret, tokenHash: webhookTokenHash(generateWebhookToken()) }] });
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).send(song('b1'))).status).toBe(202);
    const body = JSON.stringify(song('b2'));
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).set(signed(generateWebhookSecret(), body)).send(body)).status).toBe(401);
    expect((await request(h.app).post(`/sync?orgId=${org.id}&token=wrong`).send(song('b3'))).status).toBe(401);
  });
});
