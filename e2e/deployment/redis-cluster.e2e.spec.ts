import { Redis } from 'ioredis';
import { eventually, startRedisCluster, testUrls, uniqueName, type LocalRedisCluster } from '@music/testing';
import { startStack, type Stack } from '../stack-processes';
import { call } from '../reliability/http-client';
import { EXAMPLE_MAPPINGS } from '@music/domain';

// docs/deployment.md's Redis Cluster: the five apps (the production build) on a real Redis Cluster
// of three masters on loopback, with the queue prefix in a hash tag (QUEUE_PREFIX={...},
// REDIS_CLUSTER=true). Every path that uses Redis runs: rate limits (sign-up/in), org-changed
// events and job schedulers, manual and scheduled polls with their leases, the item locks (several
// keys in one script), fan-out and deliveries, inbound webhooks.

jest.setTimeout(240_000);

describe('the apps on a Redis Cluster, queue prefix in a hash tag', () => {
  let cluster: LocalRedisCluster;
  let stack: Stack;
  const tag = uniqueName('e2e_cluster');
  const prefix = `{${tag}}`;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    const { mongoUrl } = testUrls();
    stack = await startStack(
      {
        NODE_ENV: 'test',
        MONGO_URL: mongoUrl,
        MONGO_DB: uniqueName('e2e_cluster'),
        REDIS_URL: cluster.url,
        REDIS_CLUSTER: 'true',
        QUEUE_PREFIX: prefix,
        AUTH_RATE_LIMIT_PREFIX: `${prefix}:rate-limit:auth`,
        OUTBOUND_ALLOW_LIST: '127.0.0.1,localhost,::1',
        LOG_LEVEL: 'warn',
        BCRYPT_COST: '4',
        FAKER_CONTROL_ENDPOINTS: 'true',
        // Test-only: a polling "minute" of 2 s, so a scheduled poll shows within the test.
        POLL_MINUTE_MS: '2000',
      },
      {},
      { runtime: 'built' },
    );
  });

  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
  });

  it('is a real cluster: keys in different slots cannot be used together', async () => {
    const node = new Redis(cluster.url.split(',')[0] as string);
    try {
      // Keys that hash to another node are redirected, and a script over two slots is refused.
      await expect(node.eval("return redis.call('mset', KEYS[1], 'a', KEYS[2], 'b')", 2, 'music:a', 'music:b')).rejects.toThrow(/CROSSSLOT|MOVED/);
    } finally {
      node.disconnect();
    }
  });

  /** The apps' last lines, for a failure to say what they were doing. */
  const appLogs = (): string =>
    Object.values(stack.apps)
      .map((app) => `--- ${app.name}\n${app.output.join('').split('\n').slice(-15).join('\n')}`)
      .join('\n');

  it('syncs both ways, polls on schedule, applies webhooks, with every queue key in one slot', async () => {
    try {
      await syncAcrossTheCluster();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${appLogs()}`, { cause: error });
    }
  });

  async function syncAcrossTheCluster(): Promise<void> {
    const auth = stack.url('music-auth');
    const config = stack.url('music-config');
    const inventory = stack.url('music-inventory');
    const integration = stack.url('music-integration');
    const faker = stack.url('music-faker');

    const email = `${uniqueName('cluster')}@test.dev`;
    const password = 'correct horse battery staple';
    expect((await call('POST', `${auth}/auth/sign-up`, { email, password })).status).toBe(201);
    const token = (await call('POST', `${auth}/auth/sign-in`, { email, password })).body.token as string;
    const headers = { authorization: `Bearer ${token}` };

    const created = await call(
      'POST',
      `${config}/organization`,
      {
        synchronization: 'two-way',
        webhooks: [
          { type: 'input', url: `${integration}/sync`, method: 'DELETE' },
          { type: 'output', url: `${faker}/sync/create`, method: 'POST' },
        ],
        polling: [{ endpoint: `${faker}/music`, interval: 1, type: 'minute' }],
        mappings: EXAMPLE_MAPPINGS,
        transforms: [],
      },
      headers,
    );
    expect(created.status).toBe(201);
    const orgId = created.body.id as string;
    const list = async (): Promise<Array<Record<string, unknown>>> => (await call('GET', `${inventory}/inventory/organization/${orgId}?limit=200`, undefined, headers)).body.items ?? [];

    // A manual poll brings the third party's songs in.
    const songs = (await call('POST', `${faker}/music/generate`, { count: 5 })).body as Array<{ id: string }>;
    expect((await call('POST', `${config}/organization/${orgId}/sync`, {}, headers)).status).toBe(202);
    await eventually(async () => (await list()).length === 5, 'five songs polled', 60_000, 250);

    // An input webhook (the faker's delete) removes one.
    expect((await call('PUT', `${faker}/config`, { create: [], remove: [`${integration}/sync?orgId=${orgId}`] })).status).toBe(200);
    expect((await call('DELETE', `${faker}/music/${songs[0]!.id}`)).status).toBe(200);
    await eventually(async () => !(await list()).some((i) => i['externalId'] === songs[0]!.id), 'the inbound delete applied', 60_000, 250);

    // A local create is delivered once.
    const mine = await call('POST', `${inventory}/inventory`, { externalId: 'cluster-1', name: 'Sharded', artist: 'Us', album: 'Slots' }, { ...headers, 'x-organization-id': orgId });
    expect(mine.status).toBe(201);
    await eventually(async () => (await call('GET', `${faker}/music/cluster-1`)).status === 200, 'the delivery at the faker', 60_000, 250);

    // The job scheduler fires on its own (a "minute" is 2 s here).
    await call('POST', `${faker}/music/generate`, { count: 2 });
    await eventually(async () => (await list()).length === 7, 'a scheduled poll', 60_000, 250);

    const received = (await call('GET', `${faker}/sync/received`)).body as { total: number; duplicates: number };
    expect(received).toMatchObject({ total: 1, duplicates: 0 });

    // Every key the apps wrote under the prefix sits on the one node that owns the tag's slot.
    const perNode = await Promise.all(
      cluster.ports.map(async (port) => {
        const node = new Redis({ host: '127.0.0.1', port });
        try {
          return (await node.keys(`${prefix}*`)).length;
        } finally {
          node.disconnect();
        }
      }),
    );
    expect(perNode.filter((n) => n > 0)).toHaveLength(1);
    expect(perNode.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  }
});
