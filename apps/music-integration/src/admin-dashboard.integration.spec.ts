import request from 'supertest';
import { testProductionKeys } from '@music/testing';
import { loadIntegrationConfig } from './config';
import { IntegrationHarness } from './integration.test-harness';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('queue dashboard at /admin/queues (Bull Board; real Redis)', () => {
  let h: IntegrationHarness;
  afterEach(async () => h.stop());

  it('asks for the admin login (401 + WWW-Authenticate: Basic) and lists every queue with it', async () => {
    h = await new IntegrationHarness().start({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a-long-admin-password' });
    const anonymous = await request(h.app).get('/admin/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(anonymous.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect((await request(h.app).get('/admin/queues/api/queues').set('authorization', basic('ops', 'wrong-password'))).status).toBe(401);
    // A user's JWT is not the admin login.
    expect((await request(h.app).get('/admin/queues').set('authorization', `Bearer ${h.token()}`)).status).toBe(401);

    const page = await request(h.app).get('/admin/queues').set('authorization', basic('ops', 'a-long-admin-password'));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="root">');
    const api = await request(h.app).get('/admin/queues/api/queues').query({ activeQueue: 'polling', page: 1, jobsPerPage: 10 }).set('authorization', basic('ops', 'a-long-admin-password'));
    expect(api.status).toBe(200);
    const names = (api.body as { queues: Array<{ name: string }> }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['inbound', 'maintenance', 'notifications', 'org-events', 'output', 'polling']);
  });

  it('keeps the browser on this origin (no Google Fonts or other third party) and out of caches', async () => {
    h = await new IntegrationHarness().start({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a-long-admin-password' });
    const page = await request(h.app).get('/admin/queues').set('authorization', basic('ops', 'a-long-admin-password'));
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https:|googleapis/);
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('uses admin / admin outside production when no login is configured', async () => {
    h = await new IntegrationHarness().start({ NODE_ENV: 'development' });
    expect((await request(h.app).get('/admin/queues')).status).toBe(401);
    expect((await request(h.app).get('/admin/queues').set('authorization', basic('admin', 'admin'))).status).toBe(200);
  });

  it('is not served in production without a configured login (404), nor with half of one', async () => {
    h = await new IntegrationHarness().start({ NODE_ENV: 'production', ...testProductionKeys() });
    expect((await request(h.app).get('/admin/queues').set('authorization', basic('admin', 'admin'))).status).toBe(404);
    await h.stop();
    h = await new IntegrationHarness().start({ NODE_ENV: 'development', ADMIN_USER: 'ops' });
    expect((await request(h.app).get('/admin/queues').set('authorization', basic('ops', 'admin'))).status).toBe(404);
  });

  it('refuses a configured admin password shorter than 12 characters at start-up', async () => {
    h = await new IntegrationHarness().start();
    expect(() => loadIntegrationConfig({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD: must be at least 12 characters/);
  });
});
