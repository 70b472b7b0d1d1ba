import request from 'supertest';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { organizationInputSchema } from '@music/domain';
import { OrganizationRepository, withEntryIds } from '@music/persistence';
import { createLogger, type Logger } from '@music/platform';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { captureJsonLog, clearPrefix, eventually, openTestRedis, openTestStore, testAccessToken, testSecretBox, ThirdPartyStub, uniqueName, type TestStore } from '@music/testing';
import { createInventoryApp } from '../../apps/music-inventory/src/app';
import { loadInventoryConfig } from '../../apps/music-inventory/src/config';
import { loadIntegrationConfig } from '../../apps/music-integration/src/config';
import { startIntegration, type IntegrationRuntime } from '../../apps/music-integration/src/integration-runtime';

// README, "Logs": one search follows a record from the request that changed it to its delivery, at
// the default level. The inventory app and the integration workers in-process, logging JSON at
// `info` (the default) into memory; the third party a stub on loopback.

function capturing(service: string, lines: Array<Record<string, unknown>>): Logger {
  const logger = createLogger({ service, level: 'info', format: 'json' });
  captureJsonLog(logger, lines);
  return logger;
}

describe('one search follows a record to its delivery (default log level)', () => {
  const lines: Array<Record<string, unknown>> = [];
  const prefix = uniqueName('trace');
  const thirdParty = new ThirdPartyStub();
  let store: TestStore;
  let redis: Redis;
  let output: Queue<FanoutJob>;
  let integration: IntegrationRuntime;

  beforeAll(async () => {
    store = await openTestStore('trace');
    redis = openTestRedis();
    await thirdParty.start();
    output = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: redis, prefix });
    const env = { NODE_ENV: 'test', QUEUE_PREFIX: prefix, OUTBOUND_ALLOW_LIST: '127.0.0.1', DELIVERY_BACKOFF_BASE_MS: '50', SWEEP_INTERVAL_MS: '500' };
    integration = await startIntegration({ config: loadIntegrationConfig(env), logger: capturing('music-integration', lines), models: store.models, redis, bullConnection: redis });
  });

  afterAll(async () => {
    await integration?.close();
    await output?.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await thirdParty.close();
    await store.close();
  });

  it('the fan-out and every delivery attempt carry the externalId and the requestId of the write', async () => {
    const organizations = new OrganizationRepository(store.models, testSecretBox());
    const org = await organizations.create(
      'user-trace',
      withEntryIds(
        organizationInputSchema.parse({
          synchronization: 'two-way',
          webhooks: [{ type: 'output', url: `${thirdParty.baseUrl}/sync/create`, method: 'POST' }],
          mappings: { externalId: { type: 'string', source: 'id', required: true }, name: { type: 'string', source: 'name', required: true } },
        }),
      ),
    );
    const inventory = createInventoryApp({
      config: loadInventoryConfig({ NODE_ENV: 'test', QUEUE_PREFIX: prefix }),
      logger: capturing('music-inventory', lines),
      models: store.models,
      redis,
      outputQueue: output,
      healthChecks: [],
    });
    const token = testAccessToken({ id: 'user-trace', email: 'trace@test.dev' });
    // The first two attempts fail (the fan-out's own, then its deliver job's): a retried delivery's every attempt must be found too.
    thirdParty.failures.sync = { count: 2, status: 503 };
    const res = await request(inventory)
      .post('/inventory')
      .set('authorization', `Bearer ${token}`)
      .set('x-organization-id', org.id)
      .set('x-request-id', 'trace-req-1')
      .send({ externalId: 'song-42', name: 'Traced' });
    expect(res.status).toBe(201);
    await eventually(async () => lines.some((l) => l['message'] === 'delivered'), 'the delivery');

    // The fan-out of a change with one output webhook makes its first attempt: its line is that attempt's.
    const attempts = ['delivery attempt failed', 'delivery attempt failed', 'job failed', 'delivered'];
    const byRequest = lines.filter((l) => l['requestId'] === 'trace-req-1').map((l) => l['message']);
    expect(byRequest.filter((m) => attempts.includes(String(m)))).toEqual(attempts);
    const byRecord = lines.filter((l) => l['externalId'] === 'song-42').map((l) => l['message']);
    expect(byRecord.filter((m) => attempts.includes(String(m)))).toEqual(attempts);
    expect(lines.find((l) => l['message'] === 'delivery attempt failed')).toMatchObject({ eventId: expect.any(String), deliveryId: expect.any(String) });
    for (const line of lines.filter((l) => ['change fanned out', 'delivered', 'delivery attempt failed'].includes(String(l['message'])))) {
      expect(line).toMatchObject({ level: expect.stringMatching(/info|warn/), orgId: org.id, externalId: 'song-42', requestId: 'trace-req-1' });
    }
  });
});
