import type { Express } from 'express';
import request from 'supertest';
import { testAccessToken, ThirdPartyStub, uniqueName, type TestStore } from '@music/testing';
import type { ConfigQueues } from './app';
import { openConfigTestEnv, type ConfigTestEnv } from './config.test-helper';

const alice = { id: 'user-alice', email: 'alice@test.com' };
const bob = { id: 'user-bob', email: 'bob@test.com' };
const bearer = (user: { id: string; email: string }) => `Bearer ${testAccessToken(user)}`;

const MAPPINGS = {
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string', source: 'name', required: true },
  album: { type: 'string', source: 'album', required: true },
};

describe('POST /organization/:id/mapping-preview: a dry run of the mapping (real store + Redis, stub third party)', () => {
  let env: ConfigTestEnv;
  let store: TestStore;
  let queues: ConfigQueues;
  const thirdParty = new ThirdPartyStub();

  beforeAll(async () => {
    env = await openConfigTestEnv('preview');
    ({ store, queues } = env);
    await thirdParty.start();
  });
  afterAll(async () => {
    await env.close();
    await thirdParty.close();
  });
  beforeEach(() => {
    thirdParty.records.clear();
    thirdParty.musicRequests.splice(0);
    thirdParty.musicDelayMs = 0;
    thirdParty.musicRawBody = null;
    thirdParty.failures.music = { count: 0, status: 500 };
  });

  /** The config app with a guarded client of its own (the local stack allows loopback 127.0.0.1 only). */
  function appWith(settings: Record<string, string> = {}): Express {
    // Each app counts its previews afresh (a prefix of its own for the rate limit).
    return env.appWith({ QUEUE_PREFIX: uniqueName('preview'), OUTBOUND_ALLOW_LIST: '127.0.0.1', OUTBOUND_TIMEOUT_MS: '3000', ...settings });
  }

  async function createOrg(app: Express, polling: unknown[], owner = alice): Promise<{ id: string; polling: Array<{ id: string }> }> {
    const res = await request(app).post('/organization').set('authorization', bearer(owner)).send({ synchronization: 'two-way', polling, mappings: MAPPINGS });
    expect(res.status).toBe(201);
    return res.body as { id: string; polling: Array<{ id: string }> };
  }

  const preview = (app: Express, orgId: string, body: object = {}, owner = alice) =>
    request(app).post(`/organization/${orgId}/mapping-preview`).set('authorization', bearer(owner)).send(body);

  it('maps the first page of the polling endpoint (as a poll requests it), each record with its item or its errors, and writes nothing', async () => {
    const app = appWith();
    thirdParty.put({ id: 's1', name: 'One', album: 'A' }, { id: 's2', name: 'Two' }, { id: 's3', name: 'Three', album: 'C' });
    const org = await createOrg(app, [{ endpoint: `${thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 2 } }]);
    const before = { items: await store.models.inventoryItems.countDocuments(), runs: await store.models.syncRuns.countDocuments(), polls: await queues.polling.count() };

    const res = await preview(app, org.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      source: { kind: 'polling', pollingId: org.polling[0]?.id, endpoint: `${thirdParty.baseUrl}/music`, ok: true, httpStatus: 200, ms: expect.any(Number) },
      mapping: 'saved',
      reversible: true,
      counts: { records: 2, valid: 1, invalid: 1 },
      results: [
        { index: 0, record: { id: 's1', name: 'One', album: 'A' }, ok: true, item: { externalId: 's1', data: { name: 'One', album: 'A' } } },
        { index: 1, record: { id: 's2', name: 'Two' }, ok: false, externalId: 's2', errors: [{ path: 'album', message: expect.any(String) }] },
      ],
    });
    // One request, for the first page only, with the parameters a poll sends.
    expect(thirdParty.musicRequests).toEqual(['limit=2&page=1']);
    expect({ items: await store.models.inventoryItems.countDocuments(), runs: await store.models.syncRuns.countDocuments(), polls: await queues.polling.count() }).toEqual(before);
  });

  it('maps a pasted sample with a draft mapping: no request is made, nothing is saved', async () => {
    const app = appWith();
    const org = await createOrg(app, [{ endpoint: `${thirdParty.baseUrl}/music`, interval: 1, type: 'hour' }]);
    const mappings = { externalId: { type: 'string', source: 'id', required: true }, title: { type: 'string', source: 'name', required: true } };
    const transforms = [{ field: 'title', op: 'uppercase', direction: 'inbound' }];
    const res = await preview(app, org.id, { records: [{ id: 'x', name: 'loud' }, 'not a record'], mappings, transforms });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      source: { kind: 'sample' },
      mapping: 'draft',
      counts: { records: 2, valid: 1, invalid: 1 },
      results: [
        { index: 0, ok: true, item: { externalId: 'x', data: { title: 'LOUD' } } },
        { index: 1, ok: false, record: 'not a record', errors: [{ path: '', message: expect.stringMatching(/expected an object record/) }] },
      ],
    });
    expect(thirdParty.musicRequests).toEqual([]);
    const saved = await request(app).get(`/organization/${org.id}`).set('authorization', bearer(alice));
    expect(Object.keys(saved.body.mappings)).toEqual(['externalId', 'name', 'album']);
  });

  it('shows a tenant only "blocked by the outbound policy" for a refused address, never the address or the reason', async () => {
    const app = appWith();
    // 127.0.0.2 is loopback but not on the allow list: refused before any byte is sent.
    const org = await createOrg(app, [{ endpoint: `${thirdParty.baseUrl.replace('127.0.0.1', '127.0.0.2')}/music`, interval: 1, type: 'hour' }]);
    const res = await preview(app, org.id);
    expect(res.status).toBe(200);
    expect(res.body.source).toEqual({ kind: 'polling', pollingId: org.polling[0]?.id, endpoint: expect.stringContaining('127.0.0.2'), ok: false, error: 'blocked by the outbound policy' });
    expect(res.body.results).toEqual([]);
    const { endpoint, ...rest } = res.body.source as Record<string, unknown>;
    void endpoint;
    expect(JSON.stringify(rest)).not.toMatch(/127\.0\.0\.2|DNS|private|loopback|not allowed/i);
    expect(thirdParty.musicRequests).toEqual([]);
  });

  it('is bounded: the deadline and the size cap end the read, and say so', async () => {
    const slow = appWith({ OUTBOUND_TIMEOUT_MS: '300' });
    const org = await createOrg(slow, [{ endpoint: `${thirdParty.baseUrl}/music`, interval: 1, type: 'hour' }]);
    thirdParty.musicDelayMs = 2000;
    const started = Date.now();
    const timedOut = await preview(slow, org.id);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(timedOut.body.source).toMatchObject({ ok: false, error: 'no complete answer within 300 ms' });

    thirdParty.musicDelayMs = 0;
    for (let i = 0; i < 50; i++) thirdParty.put({ id: `big-${i}`, name: 'x'.repeat(100), album: 'y' });
    const small = appWith({ MAPPING_PREVIEW_MAX_BYTES: '1000' });
    const tooLarge = await preview(small, org.id);
    expect(tooLarge.body.source).toMatchObject({ ok: false, error: 'the first page is larger than 1000 bytes, the most a preview reads: paste a sample of records instead' });
    // The same page fits the default cap.
    expect((await preview(appWith(), org.id)).body.counts).toEqual({ records: 50, valid: 50, invalid: 0 });
  });

  it('reports an HTTP error, a non-JSON answer, a page with no array, and a closed port in source.error', async () => {
    const app = appWith();
    const org = await createOrg(app, [{ endpoint: `${thirdParty.baseUrl}/music`, interval: 1, type: 'hour' }]);
    thirdParty.failures.music = { count: 1, status: 503 };
    expect((await preview(app, org.id)).body.source.error).toBe('the endpoint answered HTTP 503');
    thirdParty.musicRawBody = '<html>not json</html>';
    expect((await preview(app, org.id)).body.source.error).toBe('the endpoint did not answer JSON');
    thirdParty.musicRawBody = '{"total": 3}';
    expect((await preview(app, org.id)).body.source.error).toBe('response is not an array (set the polling entry itemsPath)');
    const closed = await createOrg(app, [{ endpoint: 'http://127.0.0.1:1/music', interval: 1, type: 'hour' }]);
    expect((await preview(app, closed.id)).body.source.error).toBe('could not connect (ECONNREFUSED)');
  });

  it('answers 404 for another tenant’s organization or an unknown polling entry, 409 without polling entries, 400 for a bad body', async () => {
    const app = appWith();
    const org = await createOrg(app, [{ endpoint: `${thirdParty.baseUrl}/music`, interval: 1, type: 'hour' }]);
    expect((await preview(app, org.id, {}, bob)).status).toBe(404);
    expect((await preview(app, org.id, { pollingId: 'nope' })).status).toBe(404);
    const none = await createOrg(app, []);
    const noPolling = await preview(app, none.id);
    expect(noPolling.status).toBe(409);
    expect(noPolling.body.error.message).toMatch(/send a sample of records/);
    expect((await preview(app, none.id, { records: [{ id: 'a', name: 'n', album: 'b' }] })).body.counts).toEqual({ records: 1, valid: 1, invalid: 0 });
    for (const body of [{ records: [] }, { records: new Array(51).fill({}) }, { records: [{}], pollingId: org.polling[0]?.id }, { mappings: { name: { type: 'string' } } }, { surprise: 1 }]) {
      const res = await preview(app, org.id, body);
      expect([JSON.stringify(body).slice(0, 60), res.status, res.body.error?.code]).toEqual([JSON.stringify(body).slice(0, 60), 400, 'VALIDATION_FAILED']);
    }
    expect(thirdParty.musicRequests).toEqual([]);
  });

  it('limits reads of an endpoint per organization (samples are not counted)', async () => {
    const app = appWith({ MAPPING_PREVIEW_RATE_LIMIT_PER_MINUTE: '2' });
    const org = await createOrg(app, [{ endpoint: `${thirdParty.baseUrl}/music`, interval: 1, type: 'hour' }]);
    expect((await preview(app, org.id)).status).toBe(200);
    expect((await preview(app, org.id)).status).toBe(200);
    const limited = await preview(app, org.id);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await preview(app, org.id, { records: [{ id: 'a' }] })).status).toBe(200);
  });
});
