import request from 'supertest';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import { eventually, PrivateServer, testLogger, testUrls, uniqueName } from '@music/testing';
import { createHttpApp } from './http-app';
import { connectMongo, mongoHealthCheck } from './mongo';
import { createRedis, redisHealthCheck, type RedisClient } from './redis';

// Readiness must follow the store through an outage and back, without rebuilding the app: this
// test runs a FerretDB of its own (the shared test store must not be killed).

describe('readiness through a store outage', () => {
  let store: PrivateServer | undefined;
  let mongo: Connection | undefined;
  let redis: RedisClient | undefined;
  let app: Express;

  beforeAll(async () => {
    store = await PrivateServer.ferretdb();
    const logger = testLogger('readiness');
    mongo = await connectMongo({ url: store.url, dbName: uniqueName('readiness'), logger });
    redis = createRedis(testUrls().redisUrl, 'producer', logger);
    app = createHttpApp({ logger, healthChecks: [mongoHealthCheck(mongo), redisHealthCheck(redis)], routes: () => undefined });
    // A fail-fast client refuses commands until its first connection is up (readiness says so too).
    const client = redis;
    await eventually(async () => client.status === 'ready', 'the Redis client to connect');
  });

  afterAll(async () => {
    await mongo?.close(true).catch(() => undefined);
    redis?.disconnect();
    await store?.stop();
  });

  it('is ready, answers 503 while the store is down, and is ready again once it is back', async () => {
    const before = await request(app).get('/health/ready');
    expect(before.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });
    expect(before.status).toBe(200);

    await store!.kill();
    const down = await eventually(async () => {
      const res = await request(app).get('/health/ready');
      return res.status === 503 ? res : undefined;
    }, '/health/ready to answer 503 after the store died', 10000, 200);
    expect(down.body).toMatchObject({ status: 'unavailable', checks: { mongo: expect.stringMatching(/^down: /), redis: 'up' } });
    // Liveness is about the process, not its stores: a load balancer must not restart it for this.
    expect((await request(app).get('/health/live')).status).toBe(200);

    await store!.start();
    const back = await eventually(async () => {
      const res = await request(app).get('/health/ready');
      return res.status === 200 ? res : undefined;
    }, '/health/ready to answer 200 once the store is back', 20000, 200);
    expect(back.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });

    // Not only the ping: the same connection reads and writes again.
    const items = mongo!.collection('readiness_probe');
    await items.insertOne({ _id: 'after-outage' } as never);
    expect(await items.countDocuments({ _id: 'after-outage' } as never)).toBe(1);
  });
});
