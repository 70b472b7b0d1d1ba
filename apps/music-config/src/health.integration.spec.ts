import request from 'supertest';
import type { Queue } from 'bullmq';
import { clearPrefix, openTestRedis, openTestStore, testLogger, uniqueName, type TestStore } from '@music/testing';
import { mongoHealthCheck, redisHealthCheck } from '@music/platform';
import { openQueue, QUEUE_NAMES, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import type { Redis } from 'ioredis';
import { loadConfigServiceSettings } from './config';
import { createConfigApp } from './app';

describe('music-config health', () => {
  let store: TestStore;
  let redis: Redis;
  let prefix: string;
  let queues: { orgEvents: Queue<OrgChangedJob>; polling: Queue<PollJob>; maintenance: Queue<PurgeOrganizationJob> };

  beforeAll(async () => {
    store = await openTestStore('config');
    redis = openTestRedis();
    prefix = uniqueName('cfg');
    queues = {
      orgEvents: openQueue<OrgChangedJob>(QUEUE_NAMES.orgEvents, { connection: redis, prefix }),
      polling: openQueue<PollJob>(QUEUE_NAMES.polling, { connection: redis, prefix }),
      maintenance: openQueue<PurgeOrganizationJob>(QUEUE_NAMES.maintenance, { connection: redis, prefix }),
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(queues).map((q) => q.close()));
    await clearPrefix(redis, prefix);
    await store.close();
    redis.disconnect();
  });

  it('reports ready when the real store and Redis answer', async () => {
    const config = loadConfigServiceSettings({ NODE_ENV: 'test', QUEUE_PREFIX: prefix });
    const app = createConfigApp({
      config,
      logger: testLogger(),
      models: store.models,
      redis,
      healthChecks: [mongoHealthCheck(store.connection), redisHealthCheck(redis)],
      queues,
    });
    const live = await request(app).get('/health/live');
    expect(live.status).toBe(200);
    const ready = await request(app).get('/health/ready');
    expect(ready.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });
    expect(ready.status).toBe(200);
  });
});
