import request from 'supertest';
import { mongoHealthCheck, provideValue, redisHealthCheck, resolve } from '@music/platform';
import { CONFIG } from './container';
import { openConfigTestEnv, type ConfigTestEnv } from './config.test-helper';

describe('music-config health', () => {
  let env: ConfigTestEnv;

  beforeAll(async () => {
    env = await openConfigTestEnv('config', { purges: true });
  });
  afterAll(() => env.close());

  it('reports ready when the real store and Redis answer', async () => {
    const container = env.containerWith();
    provideValue(container, CONFIG.healthChecks, [mongoHealthCheck(env.store.connection), redisHealthCheck(env.redis)]);
    const app = resolve(container, CONFIG.app);
    const live = await request(app).get('/health/live');
    expect(live.status).toBe(200);
    const ready = await request(app).get('/health/ready');
    expect(ready.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });
    expect(ready.status).toBe(200);
  });
});
