import { eventually, looseOrganizationBody, testUrls, uniqueName } from '@music/testing';
import { startStack, type Stack } from './stack-processes';

// The original walkthrough, end to end: five apps as separate processes, its exact
// organization payload (with "webhook" and "required": "true"), the faker as the third party.

jest.setTimeout(180_000);

interface Json {
  [key: string]: unknown;
}

async function call(method: string, url: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json & Json[] }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json & Json[] };
}

describe('the walkthrough, all apps as processes', () => {
  let stack: Stack;
  const password = 'correct horse battery';

  beforeAll(async () => {
    const { mongoUrl, redisUrl } = testUrls();
    stack = await startStack({
      NODE_ENV: 'test',
      MONGO_URL: mongoUrl,
      MONGO_DB: uniqueName('e2e'),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: uniqueName('e2e'),
      OUTBOUND_ALLOW_LIST: '127.0.0.1,localhost,::1',
      LOG_LEVEL: 'warn',
      FAKER_SEED: '7',
      // Test-only: a polling "minute" of 2 s, so the scheduled path shows within the test.
      POLL_MINUTE_MS: '2000',
      SWEEP_INTERVAL_MS: '1000',
    });
  });
  afterAll(async () => stack?.stop());

  it('syncs both ways with no duplicates, no echoes and no leaks to another user', async () => {
    const auth = stack.url('music-auth');
    const config = stack.url('music-config');
    const inventory = stack.url('music-inventory');
    const faker = stack.url('music-faker');
    const integrationPort = stack.apps['music-integration'].port;
    const fakerPort = stack.apps['music-faker'].port;

    // 1. Create a user and sign in.
    const email = `${uniqueName('user')}@test.com`;
    expect((await call('POST', `${auth}/auth/sign-up`, { email, password })).status).toBe(201);
    const signIn = await call('POST', `${auth}/auth/sign-in`, { email, password });
    expect(signIn.status).toBe(200);
    const token = signIn.body['token'] as string;

    // 2. The walkthrough's organization payload as pasted, pointed at this run's faker.
    const created = await call(
      'POST',
      `${config}/organization`,
      looseOrganizationBody(fakerPort),
      token,
    );
    expect(created.status).toBe(201);
    const orgId = created.body['id'] as string;

    // 3. The faker calls the integration app's webhook when it deletes data.
    expect((await call('PUT', `${faker}/config`, { create: [], remove: [`http://localhost:${integrationPort}/sync?orgId=${orgId}`] })).status).toBe(200);

    // 4. Fake data, then a sync now.
    const generated = await call('POST', `${faker}/music/generate`, { count: 5 });
    expect(generated.status).toBe(201);
    const songs = generated.body as unknown as Array<{ id: string; name: string; artist: string; album: string }>;
    const sync = await call('POST', `${config}/organization/${orgId}/sync`, {}, token);
    expect(sync.status).toBe(202);

    const list = async (): Promise<Array<Record<string, unknown>>> =>
      ((await call('GET', `${inventory}/inventory/organization/${orgId}?limit=200`, undefined, token)).body['items'] as Array<Record<string, unknown>>) ?? [];
    const items = await eventually(async () => {
      const all = await list();
      return all.length === 5 ? all : undefined;
    }, 'five synced inventory items', 15000);
    const byExternalId = new Map(items.map((i) => [i['externalId'], i]));
    for (const s of songs) expect(byExternalId.get(s.id)).toMatchObject({ name: s.name, artist: s.artist, album: s.album });

    // Deleting one at the faker removes it from the inventory within 2 s (input webhook).
    const gone = songs[0] as { id: string };
    expect((await call('DELETE', `${faker}/music/${gone.id}`)).status).toBe(200);
    await eventually(async () => !(await list()).some((i) => i['externalId'] === gone.id), 'the inbound delete', 2000);

    // Creating an item through the API makes it appear at the faker within 2 s (output webhook).
    const mine = await call('POST', `${inventory}/inventory`, { externalId: 'local-e2e-1', name: 'Made Here', artist: 'Us', album: 'Local' }, token, { 'x-organization-id': orgId });
    expect(mine.status).toBe(201);
    await eventually(async () => (await call('GET', `${faker}/music/local-e2e-1`)).status === 200, 'the delivery at the faker', 2000);
    expect((await call('GET', `${faker}/music/local-e2e-1`)).body).toMatchObject({ id: 'local-e2e-1', name: 'Made Here', artist: 'Us', album: 'Local' });

    // The next poll brings our item back from the faker: no duplicate, no second delivery.
    const again = await call('POST', `${config}/organization/${orgId}/sync`, {}, token);
    const runIds = (again.body['runs'] as Array<{ id: string }>).map((r) => r.id);
    const integration = stack.url('music-integration');
    await eventually(async () => {
      const run = await call('GET', `${integration}/organization/${orgId}/sync-runs/${runIds[0]}`, undefined, token);
      return run.body['status'] === 'succeeded' ? run : undefined;
    }, 'the second manual poll', 15000);
    const after = await list();
    expect(after).toHaveLength(5);
    expect(new Set(after.map((i) => i['externalId'])).size).toBe(5);
    const received = (await call('GET', `${faker}/sync/received`)).body as unknown as { total: number; duplicates: number; deliveries: Array<{ webhookId: string | null; outcome: string }> };
    expect(received).toMatchObject({ total: 1, duplicates: 0 });
    expect(received.deliveries.map((d) => d.outcome)).toEqual(['applied']);

    // The scheduled path: new faker data arrives with no manual trigger (polling minute = 2 s here).
    await call('POST', `${faker}/music/generate`, { count: 2 });
    await eventually(async () => (await list()).length === 7, 'a scheduled poll to pick up new data', 15000);

    // A second user sees none of it.
    const other = `${uniqueName('other')}@test.com`;
    await call('POST', `${auth}/auth/sign-up`, { email: other, password });
    const otherToken = (await call('POST', `${auth}/auth/sign-in`, { email: other, password })).body['token'] as string;
    expect((await call('GET', `${config}/organization/${orgId}`, undefined, otherToken)).status).toBe(404);
    expect((await call('GET', `${inventory}/inventory/organization/${orgId}`, undefined, otherToken)).status).toBe(404);
    expect((await call('GET', `${inventory}/inventory`, undefined, otherToken)).body['items']).toEqual([]);
    expect((await call('GET', `${integration}/organization/${orgId}/sync-runs`, undefined, otherToken)).status).toBe(404);
  });
});
