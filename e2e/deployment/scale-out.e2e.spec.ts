import { eventually, freePort, testUrls, uniqueName } from '@music/testing';
import { launchApp, startStack, stopApp, type RunningApp, type Stack } from '../stack-processes';
import { call } from '../reliability/http-client';
import { EXAMPLE_MAPPINGS } from '@music/domain';

// docs/deployment.md's scale-out, as `docker compose up --scale music-integration=3` runs it: three
// music-integration processes (the production build) against one store and one Redis. Every local
// change is delivered exactly once (distinct webhook-id, no duplicate), the work is shared, and
// concurrent polls of one polling entry never run at the same time.

jest.setTimeout(240_000);

const CREATES = 30;
const UPDATES = 10;
const DELETES = 10;

interface Received {
  total: number;
  applied: number;
  duplicates: number;
  deliveries: Array<{ webhookId: string | null; method: string; outcome: string }>;
}

/** `music_delivery_attempts_total{result="succeeded"}` of one process, from its /metrics. */
async function deliveriesSent(app: RunningApp): Promise<number> {
  const text = (await call('GET', `${app.url}/metrics`)).text;
  const line = text.split('\n').find((l) => l.startsWith('music_delivery_attempts_total{') && l.includes('result="succeeded"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('three music-integration processes against one store and Redis', () => {
  let stack: Stack;
  const extraWorkers: RunningApp[] = [];
  let token = '';
  let orgId = '';
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const { mongoUrl, redisUrl } = testUrls();
    const env = {
      NODE_ENV: 'test',
      MONGO_URL: mongoUrl,
      MONGO_DB: uniqueName('e2e_scale'),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: uniqueName('e2e_scale'),
      AUTH_RATE_LIMIT_PREFIX: uniqueName('e2e_scale_rl'),
      OUTBOUND_ALLOW_LIST: '127.0.0.1,localhost,::1',
      LOG_LEVEL: 'warn',
      BCRYPT_COST: '4',
      FAKER_CONTROL_ENDPOINTS: 'true',
    };
    stack = await startStack(env, {}, { runtime: 'built' });
    for (let i = 0; i < 2; i++) {
      extraWorkers.push(await launchApp({ name: 'music-integration', port: await freePort(), env, runtime: 'built' }));
    }

    const email = `${uniqueName('scale')}@test.dev`;
    const password = 'correct horse battery staple';
    expect((await call('POST', `${stack.url('music-auth')}/auth/sign-up`, { email, password })).status).toBe(201);
    token = (await call('POST', `${stack.url('music-auth')}/auth/sign-in`, { email, password })).body.token as string;
    const faker = stack.url('music-faker');
    const created = await call(
      'POST',
      `${stack.url('music-config')}/organization`,
      {
        synchronization: 'two-way',
        webhooks: [
          { type: 'output', url: `${faker}/sync/create`, method: 'POST' },
          { type: 'output', url: `${faker}/sync/delete`, method: 'DELETE' },
        ],
        // Hourly: the only polls in this test are the ones it triggers.
        polling: [{ endpoint: `${faker}/music`, interval: 1, type: 'hour' }],
        mappings: EXAMPLE_MAPPINGS,
        transforms: [],
      },
      auth(),
    );
    expect(created.status).toBe(201);
    orgId = created.body.id as string;
  });

  afterAll(async () => {
    await Promise.all(extraWorkers.map((w) => stopApp(w)));
    await stack?.stop();
  });

  const received = async (): Promise<Received> => (await call('GET', `${stack.url('music-faker')}/sync/received`)).body as Received;

  it('delivers every local change exactly once, the three processes sharing the deliveries', async () => {
    const inventory = stack.url('music-inventory');
    const write = (method: string, path: string, body?: unknown) => call(method, `${inventory}${path}`, body, { ...auth(), 'x-organization-id': orgId });

    // Each phase waits for the previous one to be delivered, so no change supersedes another and
    // every change is exactly one delivery.
    const ids: string[] = [];
    const creates = await Promise.all(
      Array.from({ length: CREATES }, (_, n) => write('POST', '/inventory', { externalId: `scale-${n}`, name: `Song ${n}`, artist: 'Many', album: 'Workers' })),
    );
    for (const res of creates) {
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }
    await eventually(async () => (await received()).applied === CREATES, `${CREATES} creates delivered`, 60_000, 250);

    const updates = await Promise.all(ids.slice(0, UPDATES).map((id, n) => write('PATCH', `/inventory/${id}`, { name: `Song ${n} (remastered)` })));
    for (const res of updates) expect(res.status).toBe(200);
    await eventually(async () => (await received()).applied === CREATES + UPDATES, 'the updates delivered', 60_000, 250);

    const deletes = await Promise.all(ids.slice(UPDATES, UPDATES + DELETES).map((id) => write('DELETE', `/inventory/${id}`)));
    for (const res of deletes) expect(res.status).toBe(204);
    const changes = CREATES + UPDATES + DELETES;
    await eventually(async () => (await received()).applied === changes, 'the deletes delivered', 60_000, 250);

    // Settled: nothing more arrives, and what arrived is one delivery per change.
    await new Promise((r) => setTimeout(r, 2000));
    const log = await received();
    expect(log).toMatchObject({ total: changes, applied: changes, duplicates: 0 });
    const webhookIds = log.deliveries.map((d) => d.webhookId);
    expect(webhookIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(webhookIds).size).toBe(changes);
    expect(log.deliveries.filter((d) => d.method === 'DELETE')).toHaveLength(DELETES);

    // The faker holds exactly what the inventory holds.
    const fakerSongs = (await call('GET', `${stack.url('music-faker')}/music`)).body as Array<{ id: string; name: string }>;
    expect(fakerSongs.map((s) => s.id).sort()).toEqual(
      Array.from({ length: CREATES }, (_, n) => `scale-${n}`)
        .filter((_, n) => n < UPDATES || n >= UPDATES + DELETES)
        .sort(),
    );
    expect(fakerSongs.find((s) => s.id === 'scale-0')?.name).toBe('Song 0 (remastered)');

    // Shared: the deliveries were sent by more than one process, and their counts add up.
    const perProcess = await Promise.all([stack.apps['music-integration'], ...extraWorkers].map(deliveriesSent));
    expect(perProcess.reduce((a, b) => a + b, 0)).toBe(changes);
    expect(perProcess.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('never runs two polls of one polling entry at once, whichever process picks them up', async () => {
    const faker = stack.url('music-faker');
    // A slow third party (every /music call takes 1.5 s) makes concurrent runs overlap unless each
    // waits for the polling entry's lease.
    expect((await call('PUT', `${faker}/_faults`, { target: 'music', delayMs: 1500 })).status).toBe(200);
    try {
      const triggered = await Promise.all(Array.from({ length: 6 }, () => call('POST', `${stack.url('music-config')}/organization/${orgId}/sync`, {}, auth())));
      for (const res of triggered) expect(res.status).toBe(202);
      const runIds = triggered.flatMap((res) => (res.body.runs as Array<{ id: string }>).map((r) => r.id));
      expect(runIds).toHaveLength(6);

      type Run = { id: string; status: string; startedAt: string | null; finishedAt: string | null; message: string | null };
      const runs = await eventually(
        async () => {
          const all = await Promise.all(runIds.map(async (id) => (await call('GET', `${stack.url('music-integration')}/organization/${orgId}/sync-runs/${id}`, undefined, auth())).body as Run));
          return all.every((r) => !['queued', 'running'].includes(r.status)) ? all : undefined;
        },
        'every triggered run to finish',
        60_000,
        250,
      );
      // A manual run waits for the run in progress (it is never skipped): all six ran, one at a time.
      expect(runs.map((r) => r.status)).toEqual(Array(6).fill('succeeded'));
      const spans = runs.map((r) => [Date.parse(r.startedAt as string), Date.parse(r.finishedAt as string)] as const).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    } finally {
      await call('DELETE', `${faker}/_faults`);
    }
  });
});
