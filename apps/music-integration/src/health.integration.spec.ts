import request from 'supertest';
import { mongoHealthCheck, redisHealthCheck } from '@music/platform';
import { testLogger } from '@music/testing';
import { integrationApp } from './app';
import { INTEGRATION } from './container';
import { IntegrationHarness } from './integration.test-harness';

describe('music-integration HTTP app: health and CORS', () => {
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

  it('allows the browser origins in CORS_ORIGINS, as the other APIs do, and sends no CORS headers without it', async () => {
    const appWith = (CORS_ORIGINS: string) => integrationApp({ config: { ...h.config, CORS_ORIGINS }, logger: testLogger(), routes: h.use(INTEGRATION.routes), healthChecks: [] });
    const configured = appWith('https://console.example');
    const allowed = await request(configured).get('/health/live').set('origin', 'https://console.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example');
    const preflight = await request(configured).options('/organization/some-org/status').set('origin', 'https://console.example').set('access-control-request-method', 'GET');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://console.example');
    const other = await request(configured).get('/health/live').set('origin', 'https://elsewhere.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const unset = await request(appWith('')).get('/health/live').set('origin', 'https://console.example');
    expect(unset.headers['access-control-allow-origin']).toBeUndefined();
  });
});
