import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { provideValue, resolve } from '@music/platform';
import { testLogger } from '@music/testing';
import { createFakerApp, FAKER, fakerContainer, FakerState, loadFakerConfig, startFakerServer, type FakerItem } from './app';
import { RecordingReceiver } from './recording-receiver.test-helper';

const config = loadFakerConfig({ NODE_ENV: 'test', FAKER_WEBHOOK_TIMEOUT_MS: '2000' });
// Built from the composition root, with the test's own state registered in place of the default one.
const newFaker = (state = new FakerState()) => {
  const container = fakerContainer({ config, logger: testLogger() });
  provideValue(container, FAKER.state, state);
  return { state, app: resolve(container, FAKER.app) };
};
const ids = (items: unknown) => (items as FakerItem[]).map((s) => s.id);

describe('music-faker /sync receiver', () => {
  const receiver = new RecordingReceiver();
  let base: string;
  beforeAll(async () => {
    base = await receiver.start();
  });
  afterAll(() => receiver.stop());

  it('upserts pushed items by id and removes them, visible through GET /music, without calling its own webhooks', async () => {
    const { app, state } = newFaker();
    const [existing] = state.generate(1);
    await request(app).put('/config').send({ create: [`${base}/c`], remove: [`${base}/r`] }).expect(200);

    const pushed = { id: 'ext-1', name: 'Our Song', artist: 'Us', album: 'Ours' };
    const one = await request(app).post('/sync/create').send(pushed);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ received: 1, created: 1, updated: 0 });

    const batch = await request(app)
      .put('/sync/create')
      .send([{ ...existing, name: 'Renamed by us' }, { id: 'ext-2', name: 'Two', artist: 'B', album: 'C' }]);
    expect(batch.body).toMatchObject({ received: 2, created: 1, updated: 1 });

    const list = (await request(app).get('/music')).body as FakerItem[];
    expect(ids(list)).toEqual([existing?.id, 'ext-1', 'ext-2']);
    expect(list[0]).toMatchObject({ name: 'Renamed by us', genre: existing?.genre });
    expect(list[1]).toMatchObject(pushed);

    // The canonical delete, and the accepted aliases.
    expect((await request(app).delete('/sync/delete').send({ id: 'ext-1' })).body).toMatchObject({ received: 1, removed: 1 });
    expect((await request(app).delete('/sync/create').send([{ ...existing }])).body).toMatchObject({ received: 1, removed: 1 });
    expect((await request(app).delete('/sync/ext-2')).body).toMatchObject({ received: 1, removed: 1 });
    // Deleting what is not there is still acknowledged (the receiver is idempotent).
    expect((await request(app).delete('/sync/delete').send({ id: 'never-there' })).body).toMatchObject({ received: 1, removed: 0 });
    expect((await request(app).get('/music')).body).toEqual([]);

    await state.whenIdle();
    expect(state.outbound).toEqual([]);
    expect(receiver.requests).toEqual([]);
    expect(state.deliveryCounts).toMatchObject({ total: 6, applied: 6, duplicates: 0 });
  });

  it('records every delivery with its webhook-id, method, path and body at GET /sync/received', async () => {
    const { app, state } = newFaker();
    await request(app).post('/sync/create').set('webhook-id', 'msg_1').send({ id: 'a', name: 'A' }).expect(200);
    await request(app).delete('/sync/delete').send({ id: 'a' }).expect(200);
    await request(app).post('/sync/create').send({ name: 'no id' }).expect(400);

    const res = await request(app).get('/sync/received');
    expect(res.body).toMatchObject({ total: 3, applied: 2, rejected: 1, duplicates: 0 });
    expect(res.body.deliveries).toEqual([
      expect.objectContaining({ seq: 1, webhookId: 'msg_1', method: 'POST', path: '/sync/create', body: { id: 'a', name: 'A' }, outcome: 'applied', status: 200 }),
      expect.objectContaining({ seq: 2, webhookId: null, method: 'DELETE', path: '/sync/delete', body: { id: 'a' }, outcome: 'applied' }),
      expect.objectContaining({ seq: 3, outcome: 'rejected', status: 400 }),
    ]);
    expect(state.received).toEqual(res.body.deliveries);
  });

  it('applies a repeated webhook-id once, acknowledges it 200 and counts it as a duplicate', async () => {
    const { app, state } = newFaker();
    const send = (name: string) => request(app).post('/sync/create').set('webhook-id', 'msg_dup').send({ id: 'x', name });
    expect((await send('first')).body).toMatchObject({ received: 1, duplicate: false });
    const again = await send('second');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ received: 1, duplicate: true });
    expect(state.get('x')?.['name']).toBe('first');

    // A removal redelivered after the item came back is not applied either.
    await request(app).delete('/sync/delete').set('webhook-id', 'msg_del').send({ id: 'x' }).expect(200);
    state.upsert({ id: 'x', name: 'back' });
    await request(app).delete('/sync/delete').set('webhook-id', 'msg_del').send({ id: 'x' }).expect(200);
    expect(state.get('x')?.['name']).toBe('back');

    const received = (await request(app).get('/sync/received')).body;
    expect(received).toMatchObject({ total: 4, applied: 2, duplicates: 2 });
    expect(received.deliveries.map((d: { outcome: string }) => d.outcome)).toEqual(['applied', 'duplicate', 'applied', 'duplicate']);
  });

  it('refuses bodies that are not items with a string id', async () => {
    const { app, state } = newFaker();
    for (const body of [{ id: 5 }, [], [{ id: '' }], { name: 'x' }]) {
      const res = await request(app).post('/sync/create').send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect((await request(app).delete('/sync/delete')).status).toBe(400);
    expect(state.size).toBe(0);
  });
});

describe('music-faker signed deliveries (FAKER_WEBHOOK_SECRET)', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const signer = new Webhook(secret);
  const signed = (msgId: string, payload: string) => ({
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    'webhook-signature': signer.sign(msgId, new Date(), payload),
  });
  const newSignedFaker = () => {
    const state = new FakerState();
    const app = createFakerApp({ config: loadFakerConfig({ NODE_ENV: 'test', FAKER_WEBHOOK_SECRET: secret }), logger: testLogger(), state });
    return { app, state };
  };

  it('accepts a valid signature and refuses unsigned, tampered or foreign-signed deliveries with 401', async () => {
    const { app, state } = newSignedFaker();
    const payload = JSON.stringify({ id: 's1', name: 'Signed' });
    const ok = await request(app).post('/sync/create').set(signed('msg_s1', payload)).send(payload);
    expect(ok.status).toBe(200);
    expect(state.get('s1')?.['name']).toBe('Signed');

    const unsigned = await request(app).post('/sync/create').send({ id: 's2' });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.code).toBe('UNAUTHORIZED');

    const headers = signed('msg_s3', payload);
    const tampered = await request(app).post('/sync/create').set(headers).send(payload.replace('Signed', 'Forged'));
    expect(tampered.status).toBe(401);

    const other = new Webhook(`whsec_${randomBytes(24).toString('base64')}`);
    const foreign = await request(app)
      .post('/sync/create')
      .set({ ...headers, 'webhook-signature': other.sign('msg_s3', new Date(), payload) })
      .send(payload);
    expect(foreign.status).toBe(401);

    const deletePayload = JSON.stringify({ id: 's1' });
    await request(app).delete('/sync/delete').set(signed('msg_d1', deletePayload)).send(deletePayload).expect(200);
    expect(state.get('s1')).toBeUndefined();
    expect((await request(app).delete('/sync/s1')).status).toBe(401);

    expect(state.size).toBe(0);
    expect(state.deliveryCounts).toMatchObject({ applied: 2, unauthorized: 4 });
    // Reading the received log needs no signature.
    expect((await request(app).get('/sync/received')).status).toBe(200);
  });

  it('accepts unsigned deliveries when no secret is configured', async () => {
    const { app } = newFaker();
    expect((await request(app).post('/sync/create').send({ id: 'plain' })).status).toBe(200);
  });
});

describe('music-faker test-only faults', () => {
  it('answers the configured status N times on /sync, then recovers and applies', async () => {
    const { app, state } = newFaker();
    const put = await request(app).put('/_faults').send({ failNext: 2, status: 503, retryAfterSeconds: 7, target: 'sync' });
    expect(put.body.faults).toMatchObject({ remaining: 2, status: 503, target: 'sync' });

    // GET /music is not a target here.
    expect((await request(app).get('/music')).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await request(app).post('/sync/create').set('webhook-id', 'msg_f').send({ id: 'f' });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
      expect(state.get('f')).toBeUndefined();
    }
    const third = await request(app).post('/sync/create').set('webhook-id', 'msg_f').send({ id: 'f' });
    expect(third.status).toBe(200);
    // Failed attempts do not mark the webhook-id as seen: the retry is applied, not a duplicate.
    expect(third.body).toMatchObject({ duplicate: false, created: 1 });
    expect(state.deliveryCounts).toMatchObject({ faults: 2, applied: 1, duplicates: 0 });
    expect((await request(app).get('/_faults')).body).toEqual({ faults: null });
  });

  it('fails GET /music with 500 by default for target music, then recovers', async () => {
    const { app, state } = newFaker();
    state.generate(1);
    await request(app).put('/_faults').send({ failNext: 1, target: 'music' }).expect(200);
    expect((await request(app).post('/sync/create').send({ id: 'untouched' })).status).toBe(200);
    const failed = await request(app).get('/music');
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe('INJECTED_FAULT');
    expect((await request(app).get('/music')).body).toHaveLength(2);
  });

  it('keeps failing until DELETE /_faults when failNext is omitted', async () => {
    const { app } = newFaker();
    await request(app).put('/_faults').send({ status: 429 }).expect(200);
    for (let i = 0; i < 3; i++) expect((await request(app).get('/music')).status).toBe(429);
    await request(app).delete('/_faults').expect(204);
    expect((await request(app).get('/music')).status).toBe(200);
  });

  it('delays without failing when only delayMs is given', async () => {
    const { app, state } = newFaker();
    const put = await request(app).put('/_faults').send({ delayMs: 20, failNext: 1 });
    expect(put.body.faults).toMatchObject({ status: null, delayMs: 20 });
    expect((await request(app).post('/sync/create').send({ id: 'slow' })).status).toBe(200);
    expect(state.get('slow')).toBeDefined();
    expect(state.faults).toBeNull();
  });

  it.each([[{}], [{ failNext: 0 }], [{ status: 200 }], [{ target: 'everything', failNext: 1 }]])('refuses the fault plan %j', async (body) => {
    const { app } = newFaker();
    expect((await request(app).put('/_faults').send(body)).status).toBe(400);
  });

  it('POST /_reset clears items, config, received log and faults', async () => {
    const { app, state } = newFaker();
    state.generate(2);
    state.setWebhookConfig({ create: ['http://127.0.0.1:1/x'], remove: [] });
    await request(app).post('/sync/create').set('webhook-id', 'msg_r').send({ id: 'r' }).expect(200);
    await request(app).put('/_faults').send({ failNext: 5, target: 'music' }).expect(200);

    await request(app).post('/_reset').expect(204);
    expect((await request(app).get('/music')).body).toEqual([]);
    expect((await request(app).get('/config')).body).toEqual({ create: [], remove: [] });
    expect((await request(app).get('/sync/received')).body).toEqual({ total: 0, applied: 0, duplicates: 0, rejected: 0, unauthorized: 0, faults: 0, deliveries: [] });
    expect(state.faults).toBeNull();
    // The webhook-id memory is cleared too.
    expect((await request(app).post('/sync/create').set('webhook-id', 'msg_r').send({ id: 'r' })).body).toMatchObject({ duplicate: false });
  });
});

describe('music-faker startFakerServer', () => {
  it('listens on loopback and serves the given state', async () => {
    const faker = await startFakerServer({ seed: 1 });
    try {
      expect(faker.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await request(faker.baseUrl).post('/music/generate').send({ count: 2 });
      expect(res.status).toBe(201);
      expect(ids(faker.state.list())).toEqual(ids(res.body));
      expect(ids(new FakerState({ seed: 1 }).generate(2))).toEqual(ids(res.body));
    } finally {
      await faker.close();
    }
  });
});
