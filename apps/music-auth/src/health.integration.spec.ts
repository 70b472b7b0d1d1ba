import request from 'supertest';
import { openTestRedis, openTestStore, testLogger, type TestStore } from '@music/testing';
import { mongoHealthCheck, redisHealthCheck } from '@music/platform';
import type { Redis } from 'ioredis';
import { loadAuthConfig } from './config';
import { createAuthApp } from './app';

describe('music-auth health', () => {
  let store: TestStore;
  let redis: Redis;

  beforeAll(async () => {
    store = await openTestStore('auth');
    redis = openTestRedis();
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  it('reports ready when the real store and Redis answer', async () => {
    const config = loadAuthConfig({ NODE_ENV: 'test' });
    const app = createAuthApp({
      config,
      logger: testLogger(),
      models: store.models,
      redis,
      healthChecks: [mongoHealthCheck(store.connection), redisHealthCheck(redis)],
    });
    const live = await request(app).get('/health/live');
    expect(live.status).toBe(200);
    const ready = await request(app).get('/health/ready');
    expect(ready.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });
    expect(ready.status).toBe(200);
  });
});
