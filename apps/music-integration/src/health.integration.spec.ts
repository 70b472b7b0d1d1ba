import request from 'supertest';
import { mongoHealthCheck, redisHealthCheck } from '@music/platform';
import { testLogger } from '@music/testing';
import { integrationApp } from './app';
import { INTEGRATION } from './container';
import { IntegrationHarness } from './integration.test-harness';

describe('music-integration health', () => {
  let h: IntegrationHarness;
  beforeAll(async () => {
    h = await new IntegrationHarness().start();
  });
  afterAll(async () => h.stop());

  it('reports ready when the real store and Redis answer', async () => {
    const app = integrationApp({
      config: h.config,
      logger: testLogger(),
      routes: h.use(INTEGRATION.routes),
      healthChecks: [mongoHealthCheck(h.store.connection), redisHealthCheck(h.redis)],
    });
    expect((await request(app).get('/health/live')).status).toBe(200);
    const ready = await request(app).get('/health/ready');
    expect(ready.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });
    expect(ready.status).toBe(200);
  });
});
