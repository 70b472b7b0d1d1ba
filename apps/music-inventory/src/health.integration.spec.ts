import request from 'supertest';
import type { Queue } from 'bullmq';
import { clearPrefix, openTestRedis, openTestStore, testLogger, uniqueName, type TestStore } from '@music/testing';
import { mongoHealthCheck, redisHealthCheck } from '@music/platform';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import type { Redis } from 'ioredis';
import { loadInventoryConfig } from './config';
import { createInventoryApp } from './app';

describe('music-inventory health', () => {
  let store: TestStore;
  let redis: Redis;
  let outputQueue: Queue<FanoutJob>;
  const prefix = uniqueName('inv_health');

  beforeAll(async () => {
    store = await openTestStore('inventory');
    redis = openTestRedis();
    outputQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: redis, prefix });
  });
  afterAll(async () => {
    await outputQueue.close();
    await clearPrefix(redis, prefix);
    await store.close();
    redis.disconnect();
  });

  it('reports ready when the real store and Redis answer', async () => {
    const config = loadInventoryConfig({ NODE_ENV: 'test', QUEUE_PREFIX: prefix });
    const app = createInventoryApp({
      config,
      logger: testLogger(),
      models: store.models,
      redis,
      outputQueue,
      healthChecks: [mongoHealthCheck(store.connection), redisHealthCheck(redis)],
    });
    const live = await request(app).get('/health/live');
    expect(live.status).toBe(200);
    const ready = await request(app).get('/health/ready');
    expect(ready.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });
    expect(ready.status).toBe(200);
  });
});
