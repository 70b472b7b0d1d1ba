import type { Express } from 'express';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { SyncControlRepository } from '@music/persistence';
import { testAccessToken, type TestStore } from '@music/testing';
import { openConfigTestEnv, type ConfigTestEnv } from './config.test-helper';

// music-config's side of the sync controls: notification webhooks on the organization body (secret
// generated and shown once, sealed at rest, kept on writes), and manual syncs refused while paused.

type Json = Record<string, any>;

describe('music-config: notification webhooks and paused organizations (real store + Redis)', () => {
  let env: ConfigTestEnv;
  let store: TestStore;
  let app: Express;
  const alice = `Bearer ${testAccessToken({ id: 'user-alice', email: 'alice@test.com' })}`;

  const body = (overrides: Json = {}) => ({
    name: 'Acme',
    synchronization: 'two-way',
    webhooks: [{ type: 'output', url: 'https://hooks.acme.example/in', method: 'POST' }],
    polling: [
      { endpoint: 'https://api.acme.example/music', interval: 1, type: 'hour' },
      { endpoint: 'https://api.acme.example/more', interval: 1, type: 'hour' },
    ],
    notifications: [{ url: 'https://ops.acme.example/alerts?key=s3cret-key', events: ['sync.failed', 'sync.paused'] }],
    mappings: { externalId: { type: 'string', source: 'id', required: true } },
    transforms: [],
    ...overrides,
  });
  const create = async (payload: Json = body()) => {
    const res = await request(app).post('/organization').set('authorization', alice).send(payload);
    expect(res.status).toBe(201);
    return res.body as Json;
  };

  beforeAll(async () => {
    env = await openConfigTestEnv('config_controls');
    ({ store, app } = env);
  });
  afterAll(() => env.close());

  it('generates a notification webhook’s secret, shows it once, seals it at rest and keeps it across writes', async () => {
    const created = await create();
    const [notification] = created['notifications'];
    expect(notification).toEqual({
      id: expect.any(String),
      url: 'https://ops.acme.example/alerts?key=***',
      events: ['sync.failed', 'sync.paused'],
      hasSecret: true,
      secretHint: expect.stringMatching(/^whsec_…/),
      secret: expect.stringMatching(/^whsec_/),
    });
    // The official library reads it.
    expect(() => new Webhook(notification.secret)).not.toThrow();

    const doc = (await store.models.organizations.findById(created['id']).lean()) as unknown as Json;
    expect(JSON.stringify(doc.notifications)).not.toContain(notification.secret);
    expect(JSON.stringify(doc.notifications)).not.toContain(notification.secret.slice('whsec_'.length));

    const read = (await request(app).get(`/organization/${created['id']}`).set('authorization', alice)).body as Json;
    expect(read['notifications'][0]).not.toHaveProperty('secret');
    expect(read['notifications'][0].secretHint).toBe(notification.secretHint);

    // What GET showed, sent back with PUT: the same webhook (id), its URL and secret kept.
    const put = await request(app).put(`/organization/${created['id']}`).set('authorization', alice).send(read);
    expect(put.status).toBe(200);
    expect(put.body.notifications[0]).toEqual(expect.objectContaining({ id: notification.id, secretHint: notification.secretHint, url: notification.url }));
    expect(put.body.notifications[0]).not.toHaveProperty('secret');
    // PATCHing other fields keeps them too.
    const patched = await request(app).patch(`/organization/${created['id']}`).set('authorization', alice).send({ name: 'Acme 2' });
    expect(patched.body.notifications).toEqual(put.body.notifications);
  });

  it('refuses a notification webhook with an unknown event, no event or a relative URL, naming the field', async () => {
    for (const [notifications, path] of [
      [[{ url: 'https://ops.acme.example/a', events: ['sync.exploded'] }], 'notifications.0.events.0'],
      [[{ url: 'https://ops.acme.example/a', events: [] }], 'notifications.0.events'],
      [[{ url: '/alerts', events: ['sync.failed'] }], 'notifications.0.url'],
    ] as const) {
      const res = await request(app).post('/organization').set('authorization', alice).send(body({ notifications }));
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
  });

  it('answers a manual sync of a paused organization 409 SYNC_PAUSED, and leaves a paused entry out', async () => {
    const created = await create();
    const controls = new SyncControlRepository(store.models);
    const [first, second] = created['polling'];

    await controls.setPaused(created['id'], first.id, { reason: 'moving', automatic: false });
    const some = await request(app).post(`/organization/${created['id']}/sync`).set('authorization', alice);
    expect(some.status).toBe(202);
    expect(some.body.runs.map((r: Json) => r['pollingId'])).toEqual([second.id]);

    await controls.setPaused(created['id'], second.id, { reason: 'moving too', automatic: false });
    const none = await request(app).post(`/organization/${created['id']}/sync`).set('authorization', alice);
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('SYNC_PAUSED');

    await controls.setPaused(created['id'], first.id, null);
    await controls.setPaused(created['id'], second.id, null);
    await controls.setPaused(created['id'], null, { reason: 'holiday', automatic: false });
    const paused = await request(app).post(`/organization/${created['id']}/sync`).set('authorization', alice);
    expect(paused.status).toBe(409);
    expect(paused.body.error).toMatchObject({ code: 'SYNC_PAUSED', message: expect.stringContaining('paused') });

    await controls.setPaused(created['id'], null, null);
    expect((await request(app).post(`/organization/${created['id']}/sync`).set('authorization', alice)).status).toBe(202);
  });
});
