import type { Express } from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { generateKeyPairSync } from 'node:crypto';
import { provideValue, resolve, signAccessToken, tokenIssuingFrom } from '@music/platform';
import { JOB_NAMES, jobIds, openQueue, QUEUE_NAMES, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import { LOOSE_ORGANIZATION_BODY, testAccessToken, testSecretBox, type TestStore } from '@music/testing';
import { CONFIG, type ConfigQueues } from './app';
import { openConfigTestEnv, type ConfigTestEnv } from './config.test-helper';

const SECRET = 'whsec_aW50ZWdyYXRpb24tdGVzdC1zZWNyZXQtOTg3Ng==';

describe('music-config /organization (real store + Redis)', () => {
  let env: ConfigTestEnv;
  let store: TestStore;
  let prefix: string;
  let queues: ConfigQueues;
  let app: Express;

  const alice = { id: 'user-alice', email: 'alice@test.com' };
  const bob = { id: 'user-bob', email: 'bob@test.com' };
  const bearer = (user: { id: string; email: string }) => `Bearer ${testAccessToken(user)}`;
  const asAlice = () => bearer(alice);
  const asBob = () => bearer(bob);

  /** A valid body of our own (https URLs, a signed output webhook). */
  const body = (overrides: Record<string, unknown> = {}) => ({
    name: 'Acme Records',
    synchronization: 'two-way',
    webhooks: [
      { type: 'input', url: 'https://acme.example/hooks/in', method: 'POST' },
      { type: 'output', url: 'https://acme.example/hooks/out', method: 'POST', secret: SECRET },
    ],
    polling: [
      { endpoint: 'https://acme.example/music', interval: 5, type: 'minute' },
      { endpoint: 'https://acme.example/albums', interval: 1, type: 'hour' },
    ],
    mappings: {
      externalId: { type: 'string', source: 'id', required: true },
      name: { type: 'string', source: 'title', required: true },
    },
    transforms: [],
    ...overrides,
  });

  /** Creates an organization; returns it as GET shows it (without the credentials shown only once). */
  async function createOrg(payload: unknown = body(), token = asAlice()) {
    const res = await request(app).post('/organization').set('authorization', token).send(payload as object);
    expect(res.status).toBe(201);
    const webhooks = (res.body.webhooks as Array<Record<string, unknown>>).map(({ secret: _s, callUrlWithToken: _t, ...w }) => w);
    return { ...res.body, webhooks } as { id: string; revision: number; [k: string]: unknown };
  }
  /** The stored webhook secrets, opened. */
  const storedSecrets = async (id: string) =>
    ((await store.models.organizations.findById(id).lean())?.webhooks as Array<{ secret?: string }>).map((w) => (w.secret === undefined ? undefined : testSecretBox().open(w.secret)));

  async function orgJobs(): Promise<Array<{ id?: string; name: string; data: OrgChangedJob }>> {
    return queues.orgEvents.getJobs(['waiting', 'delayed', 'prioritized']);
  }

  beforeAll(async () => {
    env = await openConfigTestEnv('config', { purges: true });
    ({ store, prefix, queues, app } = env);
  });
  afterAll(() => env.close());

  describe('authentication', () => {
    it.each([
      ['no token', undefined, 'Missing bearer token'],
      ['a bad token', 'Bearer abc.def.ghi', 'Invalid token'],
      [
        'a token signed with another key',
        `Bearer ${
          signAccessToken(
            alice,
            tokenIssuingFrom({
              NODE_ENV: 'test',
              JWT_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
              JWT_ISSUER: 'music-auth',
              JWT_AUDIENCE: 'music-sync',
              JWT_EXPIRES_IN_SECONDS: 60,
            }),
          ).token
        }`,
        'Invalid token',
      ],
      ['the misspelt "Beare" scheme', 'Beare token', 'Authorization header must be "Bearer <token>"'],
    ])('answers 401 with %s', async (_what, authorization, message) => {
      for (const call of [
        () => request(app).get('/organization'),
        () => request(app).post('/organization').send(body()),
        () => request(app).get('/organization/some-id'),
        () => request(app).delete('/organization/some-id'),
        () => request(app).post('/organization/some-id/sync'),
      ]) {
        const req = call();
        const res = authorization ? await req.set('authorization', authorization) : await req;
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message } });
      }
      expect(await store.models.organizations.countDocuments({ name: 'Acme Records', ownerId: { $exists: false } })).toBe(0);
    });
  });

  describe('a body in the looser spellings (`webhook`, `"required": "true"`)', () => {
    it('is accepted as sent and stored and returned in canonical form', async () => {
      const res = await request(app).post('/organization').set('authorization', asAlice()).send(LOOSE_ORGANIZATION_BODY);
      expect(res.status).toBe(201);
      expect(res.headers['location']).toBe(`/organization/${res.body.id}`);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'Untitled organization',
        synchronization: 'two-way',
        notifications: [],
        webhooks: [
          {
            id: expect.stringMatching(/^[0-9a-f]{16}$/),
            type: 'input',
            url: 'http://localhost:3000/sync?orgId=',
            method: 'DELETE',
            // Every input webhook gets a secret and a call URL token, shown this once.
            hasSecret: true,
            secretHint: expect.stringMatching(/^whsec_…/),
            verification: 'none',
            callUrl: `http://localhost:3003/sync?orgId=${res.body.id}`,
            secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
            callUrlWithToken: expect.stringMatching(new RegExp(`^http://localhost:3003/sync\\?orgId=${res.body.id}&token=[\\w-]{43}$`)),
          },
          {
            id: expect.stringMatching(/^[0-9a-f]{16}$/),
            type: 'output',
            url: 'http://localhost:3004/sync/create',
            method: 'POST',
            hasSecret: false,
            secretHint: null,
          },
        ],
        polling: [
          {
            id: expect.stringMatching(/^[0-9a-f]{16}$/),
            endpoint: 'http://localhost:3004/music',
            interval: 1,
            type: 'minute',
            trackDeletes: true,
          },
        ],
        mappings: {
          externalId: { type: 'string', source: 'id', required: true },
          name: { type: 'string', source: 'name', required: true },
          artist: { type: 'string', source: 'artist', required: true },
          album: { type: 'string', source: 'album', required: true },
        },
        transforms: [],
        revision: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(res.body).not.toHaveProperty('webhook');

      const doc = await store.models.organizations.findById(res.body.id).lean();
      expect(doc?.ownerId).toBe(alice.id);
      expect(doc?.webhooks).toHaveLength(2);
      expect(doc).not.toHaveProperty('webhook');
      const mappings = JSON.parse(doc?.mappingsJson ?? '{}') as Record<string, { required: unknown }>;
      expect(Object.values(mappings).map((m) => m.required)).toEqual([true, true, true, true]);
    });
  });

  describe('CRUD', () => {
    it('GET /organization lists only the caller\'s organizations', async () => {
      const mine = await createOrg();
      const theirs = await createOrg(body({ name: 'Bob Co' }), asBob());
      const res = await request(app).get('/organization').set('authorization', asAlice());
      expect(res.status).toBe(200);
      const ids = (res.body.organizations as Array<{ id: string }>).map((o) => o.id);
      expect(ids).toContain(mine.id);
      expect(ids).not.toContain(theirs.id);
    });

    it('GET /organization/:id returns the organization', async () => {
      const created = await createOrg();
      const res = await request(app).get(`/organization/${created.id}`).set('authorization', asAlice());
      expect(res.status).toBe(200);
      expect(res.body).toEqual(created);
    });

    it('PUT replaces the settings and bumps the revision', async () => {
      const created = await createOrg();
      const replacement = body({
        synchronization: 'one-way',
        webhooks: [],
        polling: [{ endpoint: 'https://acme.example/v2/music', interval: 1, type: 'day' }],
      });
      const res = await request(app).put(`/organization/${created.id}`).set('authorization', asAlice()).send(replacement);
      expect(res.status).toBe(200);
      expect(res.body.synchronization).toBe('one-way');
      expect(res.body.webhooks).toEqual([]);
      expect(res.body.polling.map((p: { endpoint: string }) => p.endpoint)).toEqual(['https://acme.example/v2/music']);
      expect(res.body.revision).toBe(2);
      const again = await request(app).get(`/organization/${created.id}`).set('authorization', asAlice());
      expect(again.body).toEqual(res.body);
    });

    it('PATCH merges top-level keys and keeps the others', async () => {
      const created = await createOrg();
      const res = await request(app).patch(`/organization/${created.id}`).set('authorization', asAlice()).send({ name: 'Renamed', synchronization: 'one-way' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'Renamed', synchronization: 'one-way', revision: 2 });
      expect(res.body.webhooks).toEqual(created['webhooks']);
      expect(res.body.polling).toEqual(created['polling']);
      expect(res.body.mappings).toEqual(created['mappings']);
      // Both webhooks kept their secrets through the merge (the input one generated at creation).
      expect(await storedSecrets(created.id)).toEqual([expect.stringMatching(/^whsec_/), SECRET]);
    });

    it('PATCH refuses a merge that is invalid as a whole and leaves the organization alone', async () => {
      const created = await createOrg();
      const before = await store.models.organizations.findById(created.id).lean();
      const res = await request(app)
        .patch(`/organization/${created.id}`)
        .set('authorization', asAlice())
        .send({ mappings: { name: { type: 'string', source: 'title' } }, polling: [{ endpoint: 'music', interval: 1, type: 'minute' }] });
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['mappings.externalId', 'polling.0.endpoint']);
      expect(await store.models.organizations.findById(created.id).lean()).toEqual(before);
      const notObject = await request(app).patch(`/organization/${created.id}`).set('authorization', asAlice()).send([1, 2]);
      expect(notObject.status).toBe(400);
    });

    it('DELETE answers 202: the organization is gone from every API at once, and its purge is queued', async () => {
      const created = await createOrg();
      const res = await request(app).delete(`/organization/${created.id}`).set('authorization', asAlice());
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ id: created.id, deleted: true, cleanup: 'scheduled' });
      expect((await request(app).get(`/organization/${created.id}`).set('authorization', asAlice())).status).toBe(404);
      expect((await request(app).delete(`/organization/${created.id}`).set('authorization', asAlice())).status).toBe(404);
      const list = await request(app).get('/organization').set('authorization', asAlice());
      expect((list.body.organizations as Array<{ id: string }>).map((o) => o.id)).not.toContain(created.id);
      // Kept, marked deleted, until the integration app's purge job has removed its data.
      expect(await store.models.organizations.countDocuments({ _id: created.id, deletedAt: { $ne: null } })).toBe(1);
      const purge = await queues.maintenance?.getJob(jobIds.purgeOrganization(created.id));
      expect(purge?.data).toEqual({ version: 1, organizationId: created.id, pass: 1 });
    });
  });

  describe('validation', () => {
    const detailPaths = (res: request.Response): string[] => (res.body.error.details as Array<{ path: string }>).map((d) => d.path).sort();

    it.each([
      ['a bad field type', body({ mappings: { externalId: { type: 'string', source: 'id' }, album: { type: 'text', source: 'album' } } }), ['mappings.album.type']],
      ['a URL that is not absolute', body({ webhooks: [{ type: 'output', url: '/hooks/out', method: 'POST' }] }), ['webhooks.0.url']],
      ['a relative URL under the webhook alias', { ...LOOSE_ORGANIZATION_BODY, webhook: [{ type: 'input', url: 'localhost/sync', method: 'POST' }] }, ['webhooks.0.url']],
      ['a missing externalId mapping', body({ mappings: { name: { type: 'string', source: 'title' } } }), ['mappings.externalId']],
      ['an unknown key', body({ colour: 'blue' }), ['(root)']],
      ['an unknown method and a bad polling unit', body({ webhooks: [{ type: 'output', url: 'https://a.example/', method: 'PATCH' }], polling: [{ endpoint: 'https://a.example/', interval: 1, type: 'week' }] }), ['polling.0.type', 'webhooks.0.method']],
      ['a missing synchronization', { mappings: { externalId: { type: 'string', source: 'id' } } }, ['synchronization']],
    ])('POST answers 400 for %s, listing every offending path', async (_what, payload, paths) => {
      const res = await request(app).post('/organization').set('authorization', asAlice()).send(payload);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(detailPaths(res)).toEqual(paths);
    });

    it('names the unknown key in the message', async () => {
      const res = await request(app).post('/organization').set('authorization', asAlice()).send(body({ colour: 'blue' }));
      expect(res.body.error.details[0].message).toContain('colour');
    });

    it('PUT answers 400 too, and changes nothing', async () => {
      const created = await createOrg();
      const res = await request(app).put(`/organization/${created.id}`).set('authorization', asAlice()).send(body({ synchronization: 'both-ways' }));
      expect(res.status).toBe(400);
      expect(detailPaths(res)).toEqual(['synchronization']);
      expect((await request(app).get(`/organization/${created.id}`).set('authorization', asAlice())).body).toEqual(created);
    });

    it('answers 415 for a body that is not JSON, naming the content-type header', async () => {
      const res = await request(app).post('/organization').set('authorization', asAlice()).set('content-type', 'text/plain').send('hello');
      expect(res.status).toBe(415);
      expect(res.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('content-type: application/json') });
    });
  });

  describe('webhook secrets', () => {
    it('are stored but never returned by any endpoint', async () => {
      const post = await request(app).post('/organization').set('authorization', asAlice()).send(body());
      expect(post.status).toBe(201);
      const id = post.body.id as string;
      const output = post.body.webhooks.find((w: { type: string }) => w.type === 'output');
      expect(output).toMatchObject({ hasSecret: true, secretHint: `whsec_…${SECRET.slice(-4)}` });
      const responses = [
        post,
        await request(app).get(`/organization/${id}`).set('authorization', asAlice()),
        await request(app).get('/organization').set('authorization', asAlice()),
        await request(app).put(`/organization/${id}`).set('authorization', asAlice()).send(body()),
        await request(app).patch(`/organization/${id}`).set('authorization', asAlice()).send({ name: 'x' }),
      ];
      for (const res of responses) {
        expect(res.status).toBeLessThan(300);
        expect(res.text).not.toContain(SECRET);
        expect(res.text).not.toContain(SECRET.slice(6, -4));
      }
      // Stored sealed (AES-256-GCM), never as sent.
      const doc = await store.models.organizations.findById(id).lean();
      expect(JSON.stringify(doc)).not.toContain(SECRET.slice(6, -4));
      expect((doc?.webhooks as Array<{ secret?: string }>)[1]?.secret).toMatch(/^sealed:v1:dev:/);
      expect((await storedSecrets(id))[1]).toBe(SECRET);
    });

    it('survive a GET-then-PUT round trip; "secret": null clears one', async () => {
      const created = await createOrg();
      const fetched = await request(app).get(`/organization/${created.id}`).set('authorization', asAlice());
      const put = await request(app).put(`/organization/${created.id}`).set('authorization', asAlice()).send({ ...fetched.body, name: 'Round trip' });
      expect(put.status).toBe(200);
      expect(put.body.webhooks[1]).toMatchObject({ hasSecret: true });
      expect((await storedSecrets(created.id))[1]).toBe(SECRET);

      const webhooks = (fetched.body.webhooks as Array<Record<string, unknown>>).map((w) => (w['type'] === 'output' ? { ...w, secret: null } : w));
      const cleared = await request(app).patch(`/organization/${created.id}`).set('authorization', asAlice()).send({ webhooks });
      expect(cleared.status).toBe(200);
      expect(cleared.body.webhooks[1]).toMatchObject({ hasSecret: false, secretHint: null });
      expect((await storedSecrets(created.id))[1]).toBeUndefined();
    });
  });

  describe('tenancy', () => {
    it('answers 404 to another user on every verb and leaves the organization unchanged', async () => {
      const created = await createOrg();
      const before = await store.models.organizations.findById(created.id).lean();
      const jobsBefore = (await queues.polling.getJobs(['waiting'])).length;
      const url = `/organization/${created.id}`;
      const attempts = [
        await request(app).get(url).set('authorization', asBob()),
        await request(app).put(url).set('authorization', asBob()).send(body({ name: 'Hijacked' })),
        await request(app).patch(url).set('authorization', asBob()).send({ name: 'Hijacked' }),
        await request(app).delete(url).set('authorization', asBob()),
        await request(app).post(`${url}/sync`).set('authorization', asBob()),
      ];
      for (const res of attempts) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'Organization not found' } });
      }
      // The same answer as for an id that does not exist at all.
      const missing = await request(app).get('/organization/no-such-id').set('authorization', asBob());
      expect(missing.body).toEqual(attempts[0]?.body);

      expect(await store.models.organizations.findById(created.id).lean()).toEqual(before);
      expect(await store.models.syncRuns.countDocuments({ organizationId: created.id })).toBe(0);
      expect((await queues.polling.getJobs(['waiting'])).length).toBe(jobsBefore);
      expect((await orgJobs()).filter((j) => j.data.organizationId === created.id).map((j) => j.data.kind)).toEqual(['created']);
      const list = await request(app).get('/organization').set('authorization', asBob());
      expect((list.body.organizations as Array<{ id: string }>).map((o) => o.id)).not.toContain(created.id);
    });
  });

  describe('org-changed events', () => {
    it('lands one job per create, update and delete, with stable ids', async () => {
      const created = await createOrg();
      await request(app).put(`/organization/${created.id}`).set('authorization', asAlice()).send(body({ name: 'v2' })).expect(200);
      await request(app).patch(`/organization/${created.id}`).set('authorization', asAlice()).send({ name: 'v3' }).expect(200);
      await request(app).delete(`/organization/${created.id}`).set('authorization', asAlice()).expect(202);

      const jobs = (await orgJobs()).filter((j) => j.data.organizationId === created.id).sort((a, b) => a.data.revision - b.data.revision);
      expect(jobs.map((j) => ({ id: j.id, name: j.name, data: j.data }))).toEqual([
        { id: jobIds.orgChanged(created.id, 1, 'created'), name: JOB_NAMES.orgChanged, data: { version: 1, organizationId: created.id, kind: 'created', revision: 1 } },
        { id: jobIds.orgChanged(created.id, 2, 'updated'), name: JOB_NAMES.orgChanged, data: { version: 1, organizationId: created.id, kind: 'updated', revision: 2 } },
        { id: jobIds.orgChanged(created.id, 3, 'updated'), name: JOB_NAMES.orgChanged, data: { version: 1, organizationId: created.id, kind: 'updated', revision: 3 } },
        { id: jobIds.orgChanged(created.id, 4, 'deleted'), name: JOB_NAMES.orgChanged, data: { version: 1, organizationId: created.id, kind: 'deleted', revision: 4 } },
      ]);
      expect(jobs.every((j) => !j.id?.includes(':'))).toBe(true);
    });
  });

  describe('POST /organization/:id/sync', () => {
    it('creates one queued run and one poll job per polling entry', async () => {
      const created = await createOrg();
      const res = await request(app).post(`/organization/${created.id}/sync`).set('authorization', asAlice());
      expect(res.status).toBe(202);
      const polling = created['polling'] as Array<{ id: string; endpoint: string }>;
      expect(res.body.runs).toEqual(polling.map((p) => ({ id: expect.any(String), pollingId: p.id, endpoint: p.endpoint, status: 'queued' })));

      for (const run of res.body.runs as Array<{ id: string; pollingId: string }>) {
        const stored = await store.models.syncRuns.findById(run.id).lean();
        expect(stored).toMatchObject({ organizationId: created.id, pollingId: run.pollingId, trigger: 'manual', status: 'queued' });
        const job = await queues.polling.getJob(jobIds.manualPoll(run.id));
        expect(job?.name).toBe(JOB_NAMES.poll);
        expect(job?.data).toEqual({ version: 1, organizationId: created.id, pollingId: run.pollingId, trigger: 'manual', runId: run.id });
      }
    });

    it('answers 409 for an organization without polling entries', async () => {
      const created = await createOrg(body({ polling: [] }));
      const res = await request(app).post(`/organization/${created.id}/sync`).set('authorization', asAlice());
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: { code: 'CONFLICT', message: 'organization has no polling entries' } });
      expect(await store.models.syncRuns.countDocuments({ organizationId: created.id })).toBe(0);
    });
  });

  describe('with Redis unreachable for the queues', () => {
    let deadRedis: Redis;
    let deadQueues: ConfigQueues;
    let degraded: Express;

    beforeAll(() => {
      // Nothing listens on port 1: BullMQ never gets a ready connection.
      deadRedis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, enableOfflineQueue: false, disconnectTimeout: 10 });
      deadRedis.on('error', () => undefined);
      deadQueues = {
        orgEvents: openQueue<OrgChangedJob>(QUEUE_NAMES.orgEvents, { connection: deadRedis, prefix }),
        polling: openQueue<PollJob>(QUEUE_NAMES.polling, { connection: deadRedis, prefix }),
        maintenance: openQueue<PurgeOrganizationJob>(QUEUE_NAMES.maintenance, { connection: deadRedis, prefix }),
      };
      for (const q of Object.values(deadQueues)) q.on('error', () => undefined);
      // The same app with its queues replaced by ones whose Redis is gone.
      const container = env.containerWith({ QUEUE_ENQUEUE_TIMEOUT_MS: '300' });
      provideValue(container, CONFIG.queues, deadQueues);
      degraded = resolve(container, CONFIG.app);
    });
    afterAll(() => {
      deadRedis.disconnect();
    });

    it('still saves organization changes (the event is given up, the integration app reconciles)', async () => {
      const res = await request(degraded).post('/organization').set('authorization', asAlice()).send(body());
      expect(res.status).toBe(201);
      expect(await store.models.organizations.countDocuments({ _id: res.body.id })).toBe(1);
      expect((await orgJobs()).some((j) => j.data.organizationId === res.body.id)).toBe(false);
    });

    it('answers 503 to a manual sync and marks its runs failed', async () => {
      const created = await createOrg();
      const res = await request(degraded).post(`/organization/${created.id}/sync`).set('authorization', asAlice());
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
      const runs = await store.models.syncRuns.find({ organizationId: created.id }).lean();
      expect(runs).toHaveLength(2);
      expect(runs.map((r) => r.status)).toEqual(['failed', 'failed']);
      expect(runs.every((r) => r.finishedAt instanceof Date && /the job queue \(Redis\) did not accept the poll/.test(r.message ?? ''))).toBe(true);
    });
  });
});
