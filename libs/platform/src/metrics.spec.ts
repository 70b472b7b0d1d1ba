import express, { Router } from 'express';
import request from 'supertest';
import { createHttpApp } from './http-app';
import { createLogger } from './logger';
import { AppError } from './errors';
import { createMetrics, UNMATCHED_ROUTE, type Metrics } from './metrics';
import { listRoutes, routePatternMatcher, toOpenApiPath } from './route-table';

const silent = createLogger({ service: 'metrics-spec', silent: true });

/** An app shaped like ours: a root route, a router mounted under a path behind a guard, a 404. */
function appWith(metrics: Metrics) {
  const orgs = Router();
  orgs.get('/', (_req, res) => void res.json([]));
  orgs.get('/:id', (req, res) => void res.json({ id: req.params['id'] }));
  orgs.post('/:id/sync', (_req, res) => void res.status(202).json({}));
  return createHttpApp({
    logger: silent,
    metrics,
    routes: (app) => {
      app.get(['/music/config', '/config'], (_req, res) => void res.json({}));
      app.use('/organization', (req, _res, next) => next(req.header('authorization') ? undefined : new AppError('UNAUTHORIZED', 'no token')));
      app.use('/organization', orgs);
    },
  });
}

/** The value of one histogram count series in the exposition text, or undefined. */
function countOf(text: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith('http_request_duration_seconds_count{') && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('HTTP metrics', () => {
  it('labels requests by route pattern and status, never by the raw URL', async () => {
    const app = appWith(createMetrics({ service: 'spec' }));
    for (const id of ['a1', 'b2', 'c3']) await request(app).get(`/organization/${id}`).set('authorization', 'Bearer x');
    await request(app).post('/organization/a1/sync').set('authorization', 'Bearer x');
    const text = (await request(app).get('/metrics')).text;
    expect(countOf(text, { route: '/organization/:id', status: '200', method: 'GET' })).toBe(3);
    expect(countOf(text, { route: '/organization/:id/sync', status: '202', method: 'POST' })).toBe(1);
    expect(text).not.toMatch(/a1|b2|c3/);
  });

  it('gives a request a guard refused (401) the pattern of the route it was going to', async () => {
    const app = appWith(createMetrics({ service: 'spec' }));
    await request(app).get('/organization/zz9');
    const text = (await request(app).get('/metrics')).text;
    expect(countOf(text, { route: '/organization/:id', status: '401' })).toBe(1);
  });

  it('puts every path that matches no route in one (unmatched) series', async () => {
    const app = appWith(createMetrics({ service: 'spec' }));
    for (const path of ['/nope', '/wp-admin.php', '/x/y/z']) expect((await request(app).get(path)).status).toBe(404);
    const text = (await request(app).get('/metrics')).text;
    expect(countOf(text, { route: UNMATCHED_ROUTE, status: '404' })).toBe(3);
    expect(text).not.toMatch(/wp-admin/);
  });

  it('labels requests to a mounted sub-app by its mount path, whatever lies below it', async () => {
    const metrics = createMetrics({ service: 'spec' });
    const sub = express();
    sub.get('/api/queues', (_req, res) => void res.json([]));
    const app = createHttpApp({ logger: silent, metrics, routes: (a) => a.use('/admin/queues', sub) });
    await request(app).get('/admin/queues/api/queues');
    await request(app).get('/admin/queues/static/js/main.1234.js');
    const text = (await request(app).get('/metrics')).text;
    expect(countOf(text, { route: '/admin/queues/*', status: '200' })).toBe(1);
    expect(countOf(text, { route: '/admin/queues/*', status: '404' })).toBe(1);
    expect(text).not.toMatch(/main\.1234/);
  });

  it('stamps the service label and serves the Prometheus text format', async () => {
    const app = appWith(createMetrics({ service: 'music-spec' }));
    await request(app).get('/config');
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^# HELP http_request_duration_seconds /m);
    expect(countOf(res.text, { service: 'music-spec', route: '/config', status: '200' })).toBe(1);
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{le="0\.005",service="music-spec",method="GET",route="\/config",status="200"\}/);
  });

  it('keeps one registry per app: two apps in one process do not count each other', async () => {
    const first = appWith(createMetrics({ service: 'spec' }));
    const second = appWith(createMetrics({ service: 'spec' }));
    await request(first).get('/config');
    await request(first).get('/config');
    await request(second).get('/config');
    expect(countOf((await request(first).get('/metrics')).text, { route: '/config' })).toBe(2);
    expect(countOf((await request(second).get('/metrics')).text, { route: '/config' })).toBe(1);
  });

  it('adds Node process metrics only when asked', async () => {
    const plain = await createMetrics({ service: 'spec' }).registry.metrics();
    const withProcess = await createMetrics({ service: 'spec', processMetrics: true }).registry.metrics();
    expect(plain).not.toMatch(/process_cpu_user_seconds_total/);
    expect(withProcess).toMatch(/process_cpu_user_seconds_total/);
    expect(withProcess).toMatch(/nodejs_eventloop_lag_seconds/);
  });

  it('serves no /metrics when the app has no metrics', async () => {
    const app = createHttpApp({ logger: silent, routes: () => undefined });
    expect((await request(app).get('/metrics')).status).toBe(404);
  });
});

describe('route table', () => {
  it('lists every route with its full path, mounted routers and path arrays included', () => {
    const app = appWith(createMetrics({ service: 'spec' }));
    const routes = listRoutes(app).map((r) => `${r.method} ${r.path}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /metrics',
        'GET /health/live',
        'GET /health/ready',
        'GET /music/config',
        'GET /config',
        'GET /organization',
        'GET /organization/:id',
        'POST /organization/:id/sync',
      ]),
    );
    expect(routes).toHaveLength(8);
  });

  it('matches a path to the first route pattern that serves it, as Express would', () => {
    const patternOf = routePatternMatcher(appWith(createMetrics({ service: 'spec' })));
    expect(patternOf('GET', '/organization/123')).toBe('/organization/:id');
    expect(patternOf('HEAD', '/organization/123/')).toBe('/organization/:id');
    expect(patternOf('POST', '/organization/1/sync')).toBe('/organization/:id/sync');
    expect(patternOf('DELETE', '/organization/1/sync')).toBe('/organization/:id/sync');
    // Below the guard's mount but no route: the mount, not the URL.
    expect(patternOf('GET', '/organization/1/2/3')).toBe('/organization/*');
    expect(patternOf('GET', '/nope/1')).toBeNull();
  });

  it('writes Express paths in OpenAPI syntax', () => {
    expect(toOpenApiPath('/organization/:id/deliveries/:deliveryId/replay')).toBe('/organization/{id}/deliveries/{deliveryId}/replay');
  });
});
