import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { compareRoutesWithDocument, provideValue, resolve } from '@music/platform';
import { testLogger } from '@music/testing';
import { createFakerApp, FAKER, fakerContainer, FakerState, fakerNamespacesOf, loadFakerConfig, type FakerItem } from './app';
import { fakerApiDocument } from './faker.openapi';
import { RecordingReceiver } from './recording-receiver.test-helper';

const config = loadFakerConfig({ NODE_ENV: 'test', FAKER_WEBHOOK_TIMEOUT_MS: '2000' });
// Built from the composition root, with the test's own state registered in place of the default one.
const newFaker = (state = new FakerState({ seed: 7 })) => {
  const container = fakerContainer({ config, logger: testLogger() });
  provideValue(container, FAKER.state, state);
  return { state, app: resolve(container, FAKER.app) };
};
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('music-faker namespaces: two organizations’ songs and notifications never mix', () => {
  const receiver = new RecordingReceiver();
  let base: string;
  beforeAll(async () => {
    base = await receiver.start();
  });
  afterAll(() => receiver.stop());
  beforeEach(() => void receiver.requests.splice(0));

  it('keeps songs apart: /ns/<name>/music lists only that namespace’s, the default / only its own', async () => {
    const { app, state } = newFaker();
    const a = (await request(app).post('/ns/org-a/music/generate').send({ count: 2 }).expect(201)).body as FakerItem[];
    const b = (await request(app).post('/ns/org-b/music/generate').send({ count: 3 }).expect(201)).body as FakerItem[];
    await request(app).post('/music/generate').send({ count: 1 }).expect(201);
    expect((await request(app).get('/ns/org-a/music')).body).toEqual(a);
    expect((await request(app).get('/ns/org-b/music')).body).toEqual(b);
    expect((await request(app).get('/music')).body).toHaveLength(1);
    expect(state.size).toBe(1);
    // Ids of one namespace are unknown in the other.
    expect((await request(app).get(`/ns/org-b/music/${a[0]?.id}`)).status).toBe(404);
    expect((await request(app).get(`/ns/org-a/music/${a[0]?.id}`)).status).toBe(200);
    // Paging and deliveries are per namespace too.
    expect((await request(app).get('/ns/org-b/music?page=1&limit=2')).body).toEqual(b.slice(0, 2));
    await request(app).post('/ns/org-a/sync/create').send({ id: 'ours-1', name: 'Pushed' }).expect(200);
    expect(((await request(app).get('/ns/org-a/sync/received')).body as { applied: number }).applied).toBe(1);
    expect(((await request(app).get('/sync/received')).body as { applied: number }).applied).toBe(0);
    expect((await request(app).get('/ns/org-b/music/ours-1')).status).toBe(404);
  });

  it('calls only the namespace’s own targets: org B’s config does not take over org A’s delete notifications', async () => {
    const { app } = newFaker();
    await request(app).put('/ns/org-a/config').send({ create: [], remove: [`${base}/sync?orgId=A`] }).expect(200);
    await request(app).put('/ns/org-b/config').send({ create: [], remove: [`${base}/sync?orgId=B`] }).expect(200);
    const [songA] = (await request(app).post('/ns/org-a/music/generate').send({ count: 1 })).body as FakerItem[];
    await request(app).delete(`/ns/org-a/music/${songA?.id}`).expect(200);
    await fakerNamespacesOf(app).whenIdle();
    expect(receiver.requests.map((r) => [r.method, r.url])).toEqual([['DELETE', '/sync?orgId=A']]);
    expect(receiver.requests[0]?.body).toEqual(songA);
  });

  it('keeps several targets in one namespace: POST /config/targets adds one beside the others, PUT /config still replaces them all', async () => {
    const { app, state } = newFaker();
    const first = await request(app).post('/config/targets').send({ event: 'remove', url: `${base}/sync?orgId=A` });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.any(String), event: 'remove', url: `${base}/sync?orgId=A`, signed: false });
    const second = await request(app).post('/config/targets').send({ event: 'remove', url: `${base}/sync?orgId=B`, secret: SECRET });
    expect(second.body).toMatchObject({ event: 'remove', signed: true });
    expect(JSON.stringify((await request(app).get('/config/targets')).body)).not.toContain(SECRET);
    expect((await request(app).get('/config')).body).toEqual({ create: [], remove: [`${base}/sync?orgId=A`, `${base}/sync?orgId=B`] });

    const [song] = (await request(app).post('/music/generate').send({ count: 1 })).body as FakerItem[];
    await request(app).delete(`/music/${song?.id}`).expect(200);
    await state.whenIdle();
    expect(receiver.requests.map((r) => r.url).sort()).toEqual(['/sync?orgId=A', '/sync?orgId=B']);

    await request(app).delete(`/config/targets/${first.body.id}`).expect(204);
    expect((await request(app).delete(`/config/targets/${first.body.id}`)).status).toBe(404);
    expect(state.webhookConfig.remove).toEqual([`${base}/sync?orgId=B`]);
    await request(app).put('/config').send({ create: [], remove: [`${base}/only`] }).expect(200);
    expect(state.webhookTargets.map((t) => t.url)).toEqual([`${base}/only`]);
  });

  it('signs its calls to a target that has a secret (Standard Webhooks), and sends the id and timestamp to every target', async () => {
    const { app, state } = newFaker();
    await request(app).put('/config').send({ create: [{ url: `${base}/signed`, secret: SECRET }, `${base}/plain`], remove: [] }).expect(200);
    const songs = (await request(app).post('/music/generate').send({ count: 2 })).body as FakerItem[];
    await state.whenIdle();
    const signed = receiver.requests.find((r) => r.url === '/signed');
    const plain = receiver.requests.find((r) => r.url === '/plain');
    if (!signed || !plain) throw new Error('a target was not called');
    const headers = (h: Record<string, string | string[] | undefined>) => ({
      'webhook-id': String(h['webhook-id']),
      'webhook-timestamp': String(h['webhook-timestamp']),
      'webhook-signature': String(h['webhook-signature']),
    });
    // Verified over the exact body bytes, as a receiver does.
    expect(new Webhook(SECRET).verify(JSON.stringify(signed.body), headers(signed.headers))).toEqual(songs);
    expect(() => new Webhook(SECRET).verify(JSON.stringify(songs.slice(1)), headers(signed.headers))).toThrow();
    expect(() => new Webhook('whsec_c29tZS1vdGhlci1zZWNyZXQtMTIzNDU2Nzg=').verify(JSON.stringify(signed.body), headers(signed.headers))).toThrow();
    expect(plain.headers['webhook-id']).toMatch(/^msg_/);
    expect(plain.headers['webhook-signature']).toBeUndefined();
    expect(state.outbound.map((c) => [c.url.replace(base, ''), c.signed])).toEqual(expect.arrayContaining([['/signed', true], ['/plain', false]]));
  });

  it('refuses a malformed namespace name and a malformed secret with 400', async () => {
    const { app } = newFaker();
    const bad = await request(app).get('/ns/has%20space/music');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ path: 'namespace', message: expect.stringMatching(/letters, digits/) }]);
    const secret = await request(app).post('/config/targets').send({ event: 'create', url: `${base}/x`, secret: 'whsec_not base64!!' });
    expect(secret.status).toBe(400);
    expect((await request(app).post('/config/targets').send({ event: 'create', url: `${base}/x`, secret: 'short' })).status).toBe(400);
  });

  it('gives each named namespace its own deterministic seed, and POST /_reset (unprefixed) forgets them all', async () => {
    const one = newFaker(new FakerState({ seed: 99 }));
    const two = newFaker(new FakerState({ seed: 99 }));
    const a1 = (await request(one.app).post('/ns/x/music/generate').send({ count: 2 })).body as FakerItem[];
    const a2 = (await request(two.app).post('/ns/x/music/generate').send({ count: 2 })).body as FakerItem[];
    expect(a2.map((s) => s.id)).toEqual(a1.map((s) => s.id));
    const d = (await request(one.app).post('/music/generate').send({ count: 2 })).body as FakerItem[];
    expect(d.map((s) => s.id)).not.toEqual(a1.map((s) => s.id));

    await request(one.app).post('/ns/x/_reset').expect(204);
    expect((await request(one.app).get('/ns/x/music')).body).toEqual([]);
    expect((await request(one.app).get('/music')).body).toHaveLength(2);
    await request(one.app).post('/ns/y/music/generate').send({ count: 1 }).expect(201);
    await request(one.app).post('/_reset').expect(204);
    expect(fakerNamespacesOf(one.app).names()).toEqual([]);
    expect((await request(one.app).get('/music')).body).toEqual([]);
  });
});

describe('music-faker FAKER_CONTROL_ENDPOINTS', () => {
  const controlRoutes: Array<[string, string, unknown]> = [
    ['post', '/music/generate', { count: 1 }],
    ['put', '/config', { create: [], remove: ['http://127.0.0.1:1/x'] }],
    ['put', '/music/config', { create: [], remove: [] }],
    ['get', '/config', undefined],
    ['post', '/config/targets', { event: 'remove', url: 'http://127.0.0.1:1/x' }],
    ['get', '/sync/received', undefined],
    ['put', '/_faults', { failNext: 1 }],
    ['post', '/_reset', undefined],
    ['post', '/ns/a/music/generate', { count: 1 }],
    ['put', '/ns/a/config', { create: [], remove: [] }],
  ];

  it('defaults to on outside production and off in production', () => {
    expect(loadFakerConfig({ NODE_ENV: 'development' }).FAKER_CONTROL_ENDPOINTS).toBe(true);
    expect(loadFakerConfig({ NODE_ENV: 'test' }).FAKER_CONTROL_ENDPOINTS).toBe(true);
    expect(loadFakerConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-0123456789' }).FAKER_CONTROL_ENDPOINTS).toBe(false);
    expect(loadFakerConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-0123456789', FAKER_CONTROL_ENDPOINTS: 'true' }).FAKER_CONTROL_ENDPOINTS).toBe(true);
    expect(() => loadFakerConfig({ FAKER_CONTROL_ENDPOINTS: 'maybe' })).toThrow(/FAKER_CONTROL_ENDPOINTS/);
  });

  it('off: the control routes answer 404 and change nothing; the third party’s own API and the receivers still work', async () => {
    const state = new FakerState({ seed: 3 });
    state.generate(2);
    const app = createFakerApp({ config: loadFakerConfig({ NODE_ENV: 'test', FAKER_CONTROL_ENDPOINTS: 'false' }), logger: testLogger(), state });
    for (const [method, path, body] of controlRoutes) {
      const req = request(app)[method as 'get'](path);
      const res = body === undefined ? await req : await req.send(body as object);
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect(state.size).toBe(2);
    expect(state.webhookTargets).toEqual([]);
    expect(state.faults).toBeNull();
    expect((await request(app).get('/music')).body).toHaveLength(2);
    await request(app).post('/sync/create').send({ id: 'delivered', name: 'D' }).expect(200);
    expect(state.get('delivered')).toMatchObject({ name: 'D' });
    // Its document describes exactly what it serves.
    expect(compareRoutesWithDocument(app, fakerApiDocument({ metrics: true, controlEndpoints: false }))).toEqual({ undocumented: [], unserved: [] });
  });

  it('on: its document describes every route, the namespaced ones included', () => {
    const { app } = newFaker();
    expect(compareRoutesWithDocument(app, fakerApiDocument({ metrics: true, controlEndpoints: true }))).toEqual({ undocumented: [], unserved: [] });
  });
});

describe('music-faker in-process API (used by other tests) still works', () => {
  it('state.generate / list / received / setWebhookConfig behave as before for the default namespace', async () => {
    const state = new FakerState({ seed: 5 });
    const app = createFakerApp({ config, logger: testLogger(), state });
    state.generate(2);
    state.setWebhookConfig({ create: [], remove: ['http://127.0.0.1:1/gone'] });
    expect(state.webhookConfig).toEqual({ create: [], remove: ['http://127.0.0.1:1/gone'] });
    await request(app).post('/sync/create').send({ id: 'z' }).expect(200);
    expect(state.received.map((r) => r.path)).toEqual(['/sync/create']);
    expect(state.list()).toHaveLength(3);
  });
});
