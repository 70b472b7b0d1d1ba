import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { exampleOrganization } from '@music/domain';
import { testLogger } from '@music/testing';
import { createConsoleApp } from './app';
import { loadConsoleConfig } from './config';

/** A loopback port nothing listens on (bound, then released). */
async function freePortNumber(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One request an upstream got, as it arrived. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A stand-in for one of the four APIs on a loopback port: records what arrives, answers JSON. */
class Upstream {
  readonly seen: Seen[] = [];
  server!: Server;
  url = '';

  async start(name: string): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        if (req.url === '/health/live') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'x-upstream': name });
        res.end(JSON.stringify({ upstream: name, url: req.url }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('music-console: its pages and the four APIs on one origin', () => {
  const upstreams = { config: new Upstream(), auth: new Upstream(), inventory: new Upstream(), integration: new Upstream() };
  let app: Express;

  beforeAll(async () => {
    for (const [name, upstream] of Object.entries(upstreams)) await upstream.start(name);
    app = createConsoleApp({
      config: loadConsoleConfig({
        NODE_ENV: 'test',
        CONFIG_API_URL: upstreams.config.url,
        AUTH_API_URL: upstreams.auth.url,
        INVENTORY_API_URL: upstreams.inventory.url,
        INTEGRATION_API_URL: upstreams.integration.url,
      }),
      logger: testLogger(),
    });
  });
  afterAll(async () => {
    for (const upstream of Object.values(upstreams)) await upstream.close();
  });
  beforeEach(() => {
    for (const upstream of Object.values(upstreams)) upstream.seen.splice(0);
  });

  it('serves the console page at / with a strict content security policy (its own scripts and styles only)', async () => {
    const res = await request(app).get('/').set('accept', 'text/html');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('<script type="module" src="/js/app.js"></script>');
    expect(res.text).not.toMatch(/<script>(?!<\/script>)|style="/);
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    for (const asset of ['/js/app.js', '/js/api.js', '/js/pages/organization.js', '/console.css']) expect((await request(app).get(asset)).status).toBe(200);
    expect((await request(app).get('/example-organization.json')).body).toEqual(exampleOrganization());
  });

  it('forwards /api/<service>/... to that API unchanged: method, path, query, body bytes, and the request id', async () => {
    const body = '{"email":"a@b.c",   "password":"12345678"}';
    const res = await request(app).post('/api/auth/auth/sign-in?x=1').set('content-type', 'application/json').set('x-request-id', 'console-req-1').set('cookie', 'session=secret').send(body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ upstream: 'auth', url: '/auth/sign-in?x=1' });
    const [seen] = upstreams.auth.seen;
    expect(seen?.method).toBe('POST');
    expect(seen?.body.toString('utf8')).toBe(body);
    expect(seen?.headers['x-request-id']).toBe('console-req-1');
    expect(seen?.headers['cookie']).toBeUndefined();
    expect(seen?.headers['x-forwarded-for']).toBeDefined();
    expect(res.headers['x-request-id']).toBe('console-req-1');

    const routes: Array<[string, keyof typeof upstreams, string]> = [
      ['/api/config/organization/o1', 'config', '/organization/o1'],
      ['/api/config/organization', 'config', '/organization'],
      ['/api/inventory/inventory/organization/o1?limit=5', 'inventory', '/inventory/organization/o1?limit=5'],
      ['/api/integration/organization/o1/sync-runs?limit=30', 'integration', '/organization/o1/sync-runs?limit=30'],
      ['/api/integration/organization/o1/deliveries/d1/replay', 'integration', '/organization/o1/deliveries/d1/replay'],
    ];
    for (const [path, name, upstreamUrl] of routes) {
      const got = await request(app).get(path).set('authorization', 'Bearer t');
      expect([path, got.status, got.body]).toEqual([path, 200, { upstream: name, url: upstreamUrl }]);
      expect(upstreams[name].seen.at(-1)?.headers['authorization']).toBe('Bearer t');
    }
  });

  it('forwards only the user-facing API: operator endpoints, other paths and dot segments answer 404 without reaching an API', async () => {
    const refused = [
      '/api/integration/metrics',
      '/api/integration/admin/queues',
      '/api/config/docs/',
      '/api/config/openapi.json',
      '/api/auth/health/ready',
      '/api/integration/sync?orgId=o1',
      '/api/config/organization/../metrics',
      '/api/config/organization/%2e%2e/metrics',
      '/api/inventory/inventory%5c..%5cmetrics',
      '/api/elsewhere/organization',
    ];
    for (const path of refused) {
      const res = await request(app).get(path);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 404, 'NOT_FOUND']);
    }
    expect(Object.values(upstreams).flatMap((u) => u.seen)).toEqual([]);
  });

  it('answers 503 naming the API when it does not answer, and readiness names it too', async () => {
    const down = await freePortNumber();
    const lonely = createConsoleApp({
      config: loadConsoleConfig({ NODE_ENV: 'test', CONFIG_API_URL: `http://127.0.0.1:${down}`, AUTH_API_URL: upstreams.auth.url, INVENTORY_API_URL: upstreams.inventory.url, INTEGRATION_API_URL: upstreams.integration.url }),
      logger: testLogger(),
    });
    const res = await request(lonely).get('/api/config/organization').set('authorization', 'Bearer t');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'music-config is not answering; retry shortly' } });
    const ready = await request(lonely).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ 'music-config': expect.stringMatching(/^down: /), 'music-auth': 'up', 'music-inventory': 'up', 'music-integration': 'up' });
    expect((await request(app).get('/health/ready')).status).toBe(200);
  });

  it('sends no CORS headers: the pages call their own origin', async () => {
    const res = await request(app).get('/api/config/organization').set('origin', 'https://elsewhere.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(app).options('/api/config/organization').set('origin', 'https://elsewhere.example').set('access-control-request-method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});
