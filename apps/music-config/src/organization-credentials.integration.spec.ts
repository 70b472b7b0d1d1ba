import type { Express } from 'express';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { webhookTokenHash } from '@music/platform';
import { testAccessToken, testSecretBox, type TestStore } from '@music/testing';
import { openConfigTestEnv, type ConfigTestEnv } from './config.test-helper';

// Input webhooks' generated secrets and call URL tokens (shown once), their rotation with an
// overlap window, polling credentials sealed at rest, and URLs masked in every answer.

type Json = Record<string, any>;

describe('music-config: webhook credentials and polling credentials (real store + Redis)', () => {
  let env: ConfigTestEnv;
  let store: TestStore;
  let app: Express;
  const alice = `Bearer ${testAccessToken({ id: 'user-alice', email: 'alice@test.com' })}`;
  const bob = `Bearer ${testAccessToken({ id: 'user-bob', email: 'bob@test.com' })}`;

  const body = (overrides: Json = {}) => ({
    name: 'Acme',
    synchronization: 'two-way',
    webhooks: [
      { type: 'input', url: 'https://acme.example/docs/our-webhook', method: 'POST' },
      { type: 'output', url: 'https://hooks.acme.example/in?token=out-s3cret', method: 'POST' },
    ],
    polling: [
      {
        endpoint: 'https://user:pa55word@api.acme.example/music?api_key=k3y-in-url',
        interval: 1,
        type: 'hour',
        auth: { type: 'bearer', token: 'bearer-token-0123456789-wxyz' },
      },
    ],
    mappings: { externalId: { type: 'string', source: 'id', required: true } },
    transforms: [],
    ...overrides,
  });
  const create = async (payload: Json = body(), auth = alice) => {
    const res = await request(app).post('/organization').set('authorization', auth).send(payload);
    expect(res.status).toBe(201);
    return res.body as Json;
  };
  const stored = async (id: string) => (await store.models.organizations.findById(id).lean()) as unknown as Json;

  beforeAll(async () => {
    env = await openConfigTestEnv('config_creds', { env: { INBOUND_WEBHOOK_BASE_URL: 'https://sync.example.com/', WEBHOOK_SECRET_OVERLAP_SECONDS: '3600' } });
    ({ store, app } = env);
  });
  afterAll(() => env.close());

  it('generates a secret and a call URL token for every input webhook, shown once, that the official library signs with', async () => {
    const created = await create();
    const input = created['webhooks'][0];
    expect(input).toMatchObject({
      hasSecret: true,
      verification: 'none',
      callUrl: `https://sync.example.com/sync?orgId=${created['id']}`,
      secret: expect.stringMatching(/^whsec_/),
      callUrlWithToken: expect.stringMatching(new RegExp(`^https://sync\\.example\\.com/sync\\?orgId=${created['id']}&token=[\\w-]{43}$`)),
    });
    // The official library reads it (base64 key) and its signatures verify with it.
    const secret = input.secret as string;
    const at = new Date();
    const signature = new Webhook(secret).sign('m1', at, '{}');
    expect(() => new Webhook(secret).verify('{}', { 'webhook-id': 'm1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature })).not.toThrow();
    // Stored: the secret sealed, the token only as its hash.
    const doc = await stored(created['id']);
    const token = new URL(input.callUrlWithToken).searchParams.get('token') as string;
    expect(doc['webhooks'][0].secret).toMatch(/^sealed:v1:dev:/);
    expect(testSecretBox().open(doc['webhooks'][0].secret)).toBe(secret);
    expect(doc['webhooks'][0].tokenHash).toBe(webhookTokenHash(token));
    expect(JSON.stringify(doc)).not.toContain(token);
    // Never shown again: not by GET, not by a write that keeps them.
    const get = await request(app).get(`/organization/${created['id']}`).set('authorization', alice);
    const put = await request(app).put(`/organization/${created['id']}`).set('authorization', alice).send(get.body);
    for (const res of [get, put, await request(app).get('/organization').set('authorization', alice)]) {
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(secret);
      expect(res.text).not.toContain(token);
      expect(res.text).not.toContain('callUrlWithToken');
    }
    expect(testSecretBox().open((await stored(created['id']))['webhooks'][0].secret)).toBe(secret);
  });

  it('keeps a whsec_ secret the third party gave for an input webhook, and refuses clearing it', async () => {
    const theirs = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = await create(body({ webhooks: [{ type: 'input', url: 'https://acme.example/in', method: 'POST', secret: theirs }] }));
    expect(created['webhooks'][0]).not.toHaveProperty('secret');
    expect(created['webhooks'][0].callUrlWithToken).toEqual(expect.any(String));
    expect(testSecretBox().open((await stored(created['id']))['webhooks'][0].secret)).toBe(theirs);
    const cleared = await request(app)
      .patch(`/organization/${created['id']}`)
      .set('authorization', alice)
      .send({ webhooks: [{ type: 'input', url: 'https://acme.example/in', method: 'POST', secret: null }] });
    expect(cleared.status).toBe(400);
    expect(cleared.body.error.details).toEqual([{ path: 'webhooks.0.secret', message: expect.stringContaining('rotate-secret') }]);
  });

  it('rotates a secret: the new one shown once, the previous one kept for the overlap window', async () => {
    const created = await create();
    const [input, output] = created['webhooks'];
    const before = (await stored(created['id']))['webhooks'][0];
    const rotated = await request(app).post(`/organization/${created['id']}/webhooks/${input.id}/rotate-secret`).set('authorization', alice);
    expect(rotated.status).toBe(200);
    expect(rotated.body.webhook).toMatchObject({ id: input.id, secret: expect.stringMatching(/^whsec_/), callUrlWithToken: expect.any(String), rotation: { previousSecretExpiresAt: expect.any(String) } });
    expect(rotated.body.webhook.secret).not.toBe(input.secret);
    const expiresIn = Date.parse(rotated.body.webhook.rotation.previousSecretExpiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
    const after = (await stored(created['id']))['webhooks'][0];
    expect(testSecretBox().open(after.previousSecret)).toBe(input.secret);
    expect(testSecretBox().open(after.secret)).toBe(rotated.body.webhook.secret);
    expect(after.previousTokenHash).toBe(before.tokenHash);
    expect(after.tokenHash).toBe(webhookTokenHash(new URL(rotated.body.webhook.callUrlWithToken).searchParams.get('token') as string));
    // GET shows the rotation, never the secrets.
    const get = await request(app).get(`/organization/${created['id']}`).set('authorization', alice);
    expect(get.body.webhooks[0].rotation).toEqual(rotated.body.webhook.rotation);
    expect(get.text).not.toContain(rotated.body.webhook.secret);
    // Output webhooks rotate too (deliveries are then signed with both secrets during the overlap).
    const out = await request(app).post(`/organization/${created['id']}/webhooks/${output.id}/rotate-secret`).set('authorization', alice);
    expect(out.status).toBe(200);
    expect(out.body.webhook).toMatchObject({ type: 'output', secret: expect.stringMatching(/^whsec_/) });
    expect(out.body.webhook).not.toHaveProperty('callUrlWithToken');
    // Another user, or another webhook id, is a 404.
    expect((await request(app).post(`/organization/${created['id']}/webhooks/${input.id}/rotate-secret`).set('authorization', bob)).status).toBe(404);
    expect((await request(app).post(`/organization/${created['id']}/webhooks/nope/rotate-secret`).set('authorization', alice)).status).toBe(404);
  });

  it('stores polling credentials sealed, shows them as a hint, keeps them through a GET-then-PUT, and removes them with null', async () => {
    const created = await create();
    const entry = created['polling'][0];
    expect(entry.auth).toEqual({ type: 'bearer', hint: '…wxyz' });
    // Finding: credentials went in the URL, which was returned: URLs are masked in every answer.
    expect(entry.endpoint).toBe('https://***@api.acme.example/music?api_key=***');
    expect(created['webhooks'][1].url).toBe('https://hooks.acme.example/in?token=***');
    const doc = await stored(created['id']);
    expect(doc['polling'][0].auth).toMatch(/^sealed:v1:dev:/);
    expect(JSON.stringify(doc)).not.toContain('bearer-token-0123456789');

    const get = await request(app).get(`/organization/${created['id']}`).set('authorization', alice);
    for (const text of [JSON.stringify(created), get.text]) expect(text).not.toMatch(/pa55word|k3y-in-url|out-s3cret|bearer-token-0123456789/);
    const put = await request(app).put(`/organization/${created['id']}`).set('authorization', alice).send({ ...get.body, name: 'Round trip' });
    expect(put.status).toBe(200);
    const afterPut = await stored(created['id']);
    expect(afterPut['polling'][0].endpoint).toBe('https://user:pa55word@api.acme.example/music?api_key=k3y-in-url');
    expect(afterPut['webhooks'][1].url).toBe('https://hooks.acme.example/in?token=out-s3cret');
    expect(JSON.parse(testSecretBox().open(afterPut['polling'][0].auth))).toEqual({ type: 'bearer', token: 'bearer-token-0123456789-wxyz' });

    const polling = [{ ...get.body.polling[0], auth: null }];
    const cleared = await request(app).patch(`/organization/${created['id']}`).set('authorization', alice).send({ polling });
    expect(cleared.status).toBe(200);
    expect(cleared.body.polling[0]).not.toHaveProperty('auth');
    expect((await stored(created['id']))['polling'][0]).not.toHaveProperty('auth');
  });

  it('reads secrets stored in plain text before sealing existed, and writes them sealed at the next change', async () => {
    const created = await create(body({ webhooks: [{ type: 'output', url: 'https://hooks.acme.example/out', method: 'POST' }] }));
    const doc = await stored(created['id']);
    const legacy = 'a-plain-legacy-secret-wxyz';
    await store.models.organizations.updateOne({ _id: created['id'] }, { $set: { webhooks: [{ ...doc['webhooks'][0], secret: legacy }] } });
    const get = await request(app).get(`/organization/${created['id']}`).set('authorization', alice);
    expect(get.body.webhooks[0]).toMatchObject({ hasSecret: true, secretHint: '…wxyz' });
    expect((await request(app).patch(`/organization/${created['id']}`).set('authorization', alice).send({ name: 'touched' })).status).toBe(200);
    const after = (await stored(created['id']))['webhooks'][0];
    expect(after.secret).toMatch(/^sealed:v1:dev:/);
    expect(testSecretBox().open(after.secret)).toBe(legacy);
  });
});
