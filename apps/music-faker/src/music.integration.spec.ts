import request from 'supertest';
import { provideValue, resolve } from '@music/platform';
import { eventually, testLogger } from '@music/testing';
import { createFakerApp, FAKER, fakerContainer, FakerState, fakerStateOf, loadFakerConfig, type FakerItem } from './app';
import { RecordingReceiver } from './recording-receiver.test-helper';

const config = loadFakerConfig({ NODE_ENV: 'test', FAKER_WEBHOOK_TIMEOUT_MS: '2000' });
// Built from the composition root, with the test's own state registered in place of the default one.
const newFaker = (state = new FakerState()) => {
  const container = fakerContainer({ config, logger: testLogger() });
  provideValue(container, FAKER.state, state);
  return { state, app: resolve(container, FAKER.app) };
};

describe('music-faker /music/generate', () => {
  it.each([[{ count: 0 }], [{ count: 101 }], [{ count: 'x' }], [{ count: 2.5 }], [{}]])('refuses %j with the error envelope', async (body) => {
    const { app, state } = newFaker();
    const res = await request(app).post('/music/generate').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details[0].path).toBe('count');
    expect(state.size).toBe(0);
  });

  it('creates and stores songs with every field', async () => {
    const { app } = newFaker();
    const res = await request(app).post('/music/generate').send({ count: 5 });
    expect(res.status).toBe(201);
    expect(res.body).toHaveLength(5);
    for (const song of res.body as FakerItem[]) {
      expect(song).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        name: expect.any(String),
        artist: expect.any(String),
        album: expect.any(String),
        genre: expect.any(String),
        durationSec: expect.any(Number),
        releasedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        updatedAt: expect.any(String),
      });
      expect(Number.isInteger(song['durationSec'])).toBe(true);
      expect(new Date(song['updatedAt'] as string).toISOString()).toBe(song['updatedAt']);
    }
    const all = await request(app).get('/music');
    expect(all.body).toEqual(res.body);
  });

  it('gives identical songs and ids for the same FAKER_SEED across two app instances', async () => {
    const seeded = loadFakerConfig({ NODE_ENV: 'test', FAKER_SEED: '4242' });
    const fixedClock = () => new Date('2026-01-02T03:04:05.000Z');
    const a = createFakerApp({ config: seeded, logger: testLogger(), state: new FakerState({ seed: 4242, now: fixedClock }) });
    const b = createFakerApp({ config: seeded, logger: testLogger(), state: new FakerState({ seed: 4242, now: fixedClock }) });
    const first = await request(a).post('/music/generate').send({ count: 4 });
    const second = await request(b).post('/music/generate').send({ count: 4 });
    expect(first.body).toEqual(second.body);
    // A different seed draws different songs, so the equality above is the seed's doing.
    const other = new FakerState({ seed: 7, now: fixedClock }).generate(4);
    expect(other.map((s) => s.id)).not.toEqual((first.body as FakerItem[]).map((s) => s.id));
  });

  it('seeds from config.FAKER_SEED when no state is given, and restarts the sequence on POST /_reset', async () => {
    const seeded = loadFakerConfig({ NODE_ENV: 'test', FAKER_SEED: '99' });
    const app = createFakerApp({ config: seeded, logger: testLogger() });
    const before = await request(app).post('/music/generate').send({ count: 2 });
    expect(fakerStateOf(app).seed).toBe(99);
    expect((await request(app).post('/_reset')).status).toBe(204);
    expect((await request(app).get('/music')).body).toEqual([]);
    const after = await request(app).post('/music/generate').send({ count: 2 });
    expect((after.body as FakerItem[]).map((s) => s.id)).toEqual((before.body as FakerItem[]).map((s) => s.id));
  });
});

describe('music-faker GET /music pagination', () => {
  const total = 23;
  let app: ReturnType<typeof newFaker>['app'];
  let ids: string[];

  beforeAll(() => {
    const faker = newFaker();
    app = faker.app;
    ids = faker.state.generate(total).map((s) => s.id);
  });

  it('returns the plain full array without pagination params', async () => {
    const res = await request(app).get('/music');
    expect((res.body as FakerItem[]).map((s) => s.id)).toEqual(ids);
  });

  it('walks page=N&limit=M until a short page, seeing every item once', async () => {
    const seen: string[] = [];
    for (let page = 1; ; page++) {
      const res = await request(app).get('/music').query({ page, limit: 5 });
      expect(res.status).toBe(200);
      const items = res.body as FakerItem[];
      seen.push(...items.map((s) => s.id));
      if (items.length < 5) break;
    }
    expect(seen).toEqual(ids);
  });

  it('walks offset=N&limit=M until an empty page, seeing every item once', async () => {
    const seen: string[] = [];
    for (let offset = 0; ; offset += 10) {
      const items = (await request(app).get('/music').query({ offset, limit: 10 })).body as FakerItem[];
      if (items.length === 0) break;
      seen.push(...items.map((s) => s.id));
    }
    expect(seen).toEqual(ids);
  });

  it('walks cursor mode from cursor= until nextCursor is null, seeing every item once', async () => {
    const seen: string[] = [];
    let cursor = '';
    let pages = 0;
    for (;;) {
      const res = await request(app).get('/music').query({ cursor, limit: 7 });
      expect(res.status).toBe(200);
      const body = res.body as { items: FakerItem[]; nextCursor: string | null };
      seen.push(...body.items.map((s) => s.id));
      pages++;
      if (body.nextCursor === null) break;
      cursor = body.nextCursor;
    }
    expect(seen).toEqual(ids);
    expect(pages).toBe(Math.ceil(total / 7));
  });

  it('keeps a cursor walk exact when items are removed between pages', async () => {
    const { app: local, state } = newFaker();
    const songs = state.generate(6).map((s) => s.id);
    const first = (await request(local).get('/music').query({ cursor: '', limit: 3 })).body as { items: FakerItem[]; nextCursor: string };
    state.remove(songs[0] as string);
    const second = (await request(local).get('/music').query({ cursor: first.nextCursor, limit: 3 })).body as { items: FakerItem[]; nextCursor: string | null };
    expect(second.items.map((s) => s.id)).toEqual(songs.slice(3));
    expect(second.nextCursor).toBeNull();
  });

  it.each([
    [{ page: 0 }],
    [{ limit: 0 }],
    [{ limit: 1001 }],
    [{ offset: -1 }],
    [{ page: 1, offset: 0 }],
    [{ cursor: 'garbage' }],
    [{ cursor: '', page: 2 }],
  ])('refuses %j', async (query) => {
    const res = await request(app).get('/music').query(query);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('music-faker GET/DELETE /music/:id', () => {
  it('reads and removes one item, 404 when absent', async () => {
    const { app, state } = newFaker();
    const [song] = state.generate(2);
    const id = song?.id as string;
    const got = await request(app).get(`/music/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(song);

    const removed = await request(app).delete(`/music/${id}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual(song);
    expect(state.get(id)).toBeUndefined();
    expect((await request(app).get('/music')).body).toHaveLength(1);

    for (const res of [await request(app).get(`/music/${id}`), await request(app).delete(`/music/${id}`)]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('music-faker webhook config', () => {
  it.each(['/config', '/music/config'])('PUT then GET %s round-trips, on both paths', async (path) => {
    const { app } = newFaker();
    const body = { create: ['http://127.0.0.1:9/created'], remove: ['https://localhost:3003/sync?orgId={{ orgId }}'] };
    const put = await request(app).put(path).send(body);
    expect(put.status).toBe(200);
    expect(put.body).toEqual(body);
    for (const read of ['/config', '/music/config']) expect((await request(app).get(read)).body).toEqual(body);
  });

  it.each([
    [{ create: ['not a url'], remove: [] }],
    [{ create: ['ftp://127.0.0.1/x'], remove: [] }],
    [{ create: [], remove: ['/relative/path'] }],
    [{ create: 'http://127.0.0.1/x', remove: [] }],
  ])('refuses %j with 400 and keeps the old config', async (body) => {
    const { app, state } = newFaker();
    state.setWebhookConfig({ create: ['http://127.0.0.1:1/keep'], remove: [] });
    const res = await request(app).put('/config').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(state.webhookConfig.create).toEqual(['http://127.0.0.1:1/keep']);
  });
});

describe('music-faker create/remove webhooks', () => {
  const receiver = new RecordingReceiver();
  let base: string;
  beforeAll(async () => {
    base = await receiver.start();
  });
  afterAll(() => receiver.stop());

  it('POSTs the generated array to every create URL and DELETEs the removed item to every remove URL', async () => {
    const { app, state } = newFaker();
    await request(app)
      .put('/music/config')
      .send({ create: [`${base}/created-a`, `${base}/created-b`], remove: [`${base}/sync?orgId=org-1`] })
      .expect(200);

    const generated = (await request(app).post('/music/generate').send({ count: 3 }).expect(201)).body as FakerItem[];
    await eventually(async () => receiver.requests.length >= 2, 'create webhook calls');
    const creates = receiver.requests.filter((r) => r.method === 'POST');
    expect(creates.map((r) => r.url).sort()).toEqual(['/created-a', '/created-b']);
    for (const call of creates) {
      expect(call.body).toEqual(generated);
      expect(call.headers['content-type']).toMatch(/application\/json/);
    }

    const target = generated[1] as FakerItem;
    await request(app).delete(`/music/${target.id}`).expect(200);
    const del = await eventually(async () => receiver.requests.find((r) => r.method === 'DELETE'), 'remove webhook call');
    expect(del.url).toBe('/sync?orgId=org-1');
    expect(del.body).toEqual(target);

    await state.whenIdle();
    expect(state.outbound.map((c) => [c.event, c.method, c.status])).toEqual(
      expect.arrayContaining([
        ['create', 'POST', 204],
        ['create', 'POST', 204],
        ['remove', 'DELETE', 204],
      ]),
    );
  });

  it('answers generate at once and logs a failed call when a webhook URL refuses connections', async () => {
    const { app, state } = newFaker();
    // Port 9 (discard) is closed on loopback here: the call fails with a connection error.
    await request(app).put('/config').send({ create: ['http://127.0.0.1:9/nobody'], remove: [] }).expect(200);
    const res = await request(app).post('/music/generate').send({ count: 1 });
    expect(res.status).toBe(201);
    await state.whenIdle();
    const [call] = state.outbound;
    expect(call?.status).toBeNull();
    expect(call?.error).toMatch(/ECONNREFUSED/);
  });
});

describe('music-faker GET /music: validators and updatedSince', () => {
  it.each([['/music'], ['/music?page=1&limit=2'], ['/music?offset=1&limit=2'], ['/music?cursor=&limit=2'], ['/ns/acme/music?limit=2&page=1']])('%s: an ETag, 304 on If-None-Match, 200 again after a change', async (path) => {
    const { app } = newFaker();
    const generate = path.startsWith('/ns/') ? '/ns/acme/music/generate' : '/music/generate';
    await request(app).post(generate).send({ count: 4 });
    const first = await request(app).get(path);
    expect(first.status).toBe(200);
    const etag = first.headers['etag'] as string;
    expect(etag).toEqual(expect.any(String));
    expect((await request(app).get(path).set('if-none-match', etag)).status).toBe(304);
    await request(app).post(generate).send({ count: 1 });
    const ids = (first.body.items ?? first.body) as FakerItem[];
    await request(app).delete(`${generate.replace('/generate', '')}/${ids[1]?.id}`);
    const changed = await request(app).get(path).set('if-none-match', etag);
    expect(changed.status).toBe(200);
  });

  it('Last-Modified once the list is a second old; If-Modified-Since answered 304 until the next change', async () => {
    let now = Date.now() - 5000;
    const state = new FakerState({ now: () => new Date(now) });
    const { app } = newFaker(state);
    await request(app).post('/music/generate').send({ count: 2 });
    // Fresh: no Last-Modified (a change later in the same second would look older).
    expect((await request(app).get('/music')).headers['last-modified']).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1100));
    const lastModified = (await request(app).get('/music')).headers['last-modified'] as string;
    expect(lastModified).toEqual(expect.any(String));
    expect((await request(app).get('/music').set('if-modified-since', lastModified)).status).toBe(304);
    now = Date.now();
    state.upsert({ id: 'new', name: 'New' });
    expect((await request(app).get('/music').set('if-modified-since', lastModified)).status).toBe(200);
  });

  it('updatedSince keeps the songs written at or after it, in every pagination style', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const state = new FakerState({ now: () => new Date(now) });
    const { app } = newFaker(state);
    await request(app).post('/music/generate').send({ count: 3 });
    now += 60_000;
    const since = new Date(now).toISOString();
    state.upsert({ id: 'late', name: 'Late' });
    const [first] = state.list();
    state.upsert({ id: first?.id as string, name: 'Renamed' });
    const all = await request(app).get('/music').query({ updatedSince: since });
    expect((all.body as FakerItem[]).map((s) => s.id).sort()).toEqual([first?.id, 'late'].sort());
    expect((await request(app).get('/music').query({ updatedSince: since, page: 1, limit: 1 })).body).toHaveLength(1);
    const cursor = await request(app).get('/music').query({ updatedSince: since, cursor: '', limit: 5 });
    expect(cursor.body.items).toHaveLength(2);
    expect((await request(app).get('/music').query({ updatedSince: 'yesterday' })).status).toBe(400);
  });
});
