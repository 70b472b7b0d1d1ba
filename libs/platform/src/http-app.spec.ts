import mongoose from 'mongoose';
import request from 'supertest';
import { Result } from '@sapphire/result';
import { AppError } from './errors';
import { createHttpApp, sendResult, serviceAppOptions, type HttpAppOptions } from './http-app';
import { createLogger, type Logger } from './logger';
import { createApiDocument } from './openapi';
import { captureJsonLog } from '@music/testing';

/** A JSON logger whose lines land in `lines` instead of the console. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const logger = createLogger({ service: 'http-app-spec', level: 'debug', format: 'json' });
  return { logger, lines: captureJsonLog(logger) };
}

function appWith(overrides: Partial<HttpAppOptions> = {}) {
  const { logger, lines } = capturingLogger();
  const app = createHttpApp({
    logger,
    routes: (a) => {
      a.post('/echo', (req, res) => void res.json({ body: req.body as unknown }));
      a.post('/no-body', (req, res) => void res.json({ body: req.body ?? null }));
      a.get('/things/:id', (req, res) => void res.json({ id: req.params['id'] }));
      a.get('/boom', () => {
        throw new Error('database password is hunter2 at /srv/app.ts:12');
      });
      a.get('/async-boom', async () => {
        await Promise.resolve();
        throw new TypeError('cannot read properties of undefined');
      });
      a.get('/teapot', (_req, res) => sendResult(res, Result.err(new AppError('RATE_LIMITED', 'slow down', undefined, 7))));
      a.get('/created', (_req, res) => sendResult(res, Result.ok({ id: 'x1', secret: 's' }), 201, (v) => ({ id: v.id })));
    },
    ...overrides,
  });
  return { app, lines };
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('createHttpApp', () => {
  it('answers an unknown route with a JSON 404 envelope', async () => {
    const { app } = appWith();
    const res = await request(app).get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'No route for GET /nowhere' } });
  });

  it('answers malformed JSON with 400 VALIDATION_FAILED', async () => {
    const { app } = appWith();
    const res = await request(app).post('/echo').set('content-type', 'application/json').send('{"email": "a@b.c",');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'Malformed JSON body' } });
  });

  it('parses JSON bodies, including application/*+json', async () => {
    const { app } = appWith();
    const res = await request(app).post('/echo').set('content-type', 'application/merge-patch+json').send('{"name":"Song"}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ body: { name: 'Song' } });
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const { app } = appWith({ bodyLimit: '1kb' });
    const res = await request(app)
      .post('/echo')
      .send({ name: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' } });

    const small = await request(app).post('/echo').send({ name: 'x'.repeat(100) });
    expect(small.status).toBe(200);
  });

  it('refuses JSON nested deeper than the depth limit with 400, and accepts it at the limit', async () => {
    const { app } = appWith({ maxJsonDepth: 5 });
    const deep = await request(app).post('/echo').send(nested(6) as object);
    expect(deep.status).toBe(400);
    expect(deep.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'JSON nested deeper than 5 levels' } });

    const atLimit = await request(app).post('/echo').send(nested(5) as object);
    expect(atLimit.status).toBe(200);
  });

  it('applies the default depth limit of 32', async () => {
    const { app } = appWith();
    expect((await request(app).post('/echo').send(nested(33) as object)).status).toBe(400);
    expect((await request(app).post('/echo').send(nested(32) as object)).status).toBe(200);
  });

  it('echoes a well-formed x-request-id and puts it on the request log line', async () => {
    const { app, lines } = appWith();
    const res = await request(app).get('/health/live').set('x-request-id', 'req-123.abc');
    expect(res.headers['x-request-id']).toBe('req-123.abc');
    expect(lines).toContainEqual(expect.objectContaining({ message: 'request', requestId: 'req-123.abc', status: 200, path: '/health/live' }));
  });

  it('generates an x-request-id when none or a malformed one is sent', async () => {
    const { app } = appWith();
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const none = await request(app).get('/health/live');
    expect(none.headers['x-request-id']).toMatch(uuid);
    const bad = await request(app).get('/health/live').set('x-request-id', 'has spaces <script>');
    expect(bad.headers['x-request-id']).toMatch(uuid);
    const other = await request(app).get('/health/live');
    expect(other.headers['x-request-id']).not.toBe(none.headers['x-request-id']);
  });

  it.each(['/boom', '/async-boom'])('answers an unknown error thrown by %s with 500, an errorId and no stack', async (path) => {
    const { app, lines } = appWith();
    const res = await request(app).get(path);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error', errorId: expect.any(String) } });
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/hunter2|cannot read|\.ts:|at /);
    // The same errorId is in the log line, with the detail kept server-side.
    const logged = lines.find((l) => l['message'] === 'unhandled error');
    expect(logged).toMatchObject({ level: 'error', errorId: (res.body as { error: { errorId: string } }).error.errorId });
  });

  it('sets helmet security headers and drops x-powered-by', async () => {
    const { app } = appWith();
    const res = await request(app).get('/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sends no CORS headers by default, even to a browser origin or a preflight', async () => {
    const { app } = appWith();
    const res = await request(app).get('/health/live').set('origin', 'https://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(app).options('/echo').set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('allows exactly the configured CORS origins', async () => {
    const { app } = appWith({ corsOrigins: ['https://app.example'] });
    const allowed = await request(app).get('/health/live').set('origin', 'https://app.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await request(app).get('/health/live').set('origin', 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(app).options('/echo').set('origin', 'https://app.example').set('access-control-request-method', 'POST');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-methods']).toBe('GET,POST,PUT,PATCH,DELETE');
    expect(preflight.headers['access-control-allow-headers']).toBe('authorization,content-type,x-organization-id,x-request-id');
    const refused = await request(app).options('/echo').set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves /health/live and /health/ready (no checks: ready)', async () => {
    const { app } = appWith();
    expect((await request(app).get('/health/live')).body).toEqual({ status: 'ok' });
    const ready = await request(app).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: {} });
  });

  it('answers 503 on /health/ready when a check fails, naming it', async () => {
    const { app } = appWith({
      healthChecks: [
        { name: 'mongo', check: () => Promise.reject(new Error('connection refused')) },
        { name: 'redis', check: () => Promise.resolve('PONG') },
      ],
    });
    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'unavailable', checks: { mongo: 'down: connection refused', redis: 'up' } });
  });
});

describe('createHttpApp: first-hour mistakes get clear answers', () => {
  it.each(['/things/%ZZ', '/things/abc%', '/things/%E0%A4%A'])('answers a malformed percent-escape (%s) with 400 naming it, logged as a warning, not an error', async (path) => {
    const { app, lines } = appWith();
    const res = await request(app).get(path);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/malformed percent-escape/), details: [{ path: '(url)', message: 'malformed percent-escape' }] },
    });
    expect(lines.find((l) => l['message'] === 'malformed URL')).toMatchObject({ level: 'warn' });
    expect(lines.filter((l) => l['level'] === 'error')).toEqual([]);
    // A well-formed escape still decodes.
    expect((await request(app).get('/things/a%20b')).body).toEqual({ id: 'a b' });
  });

  it('answers a JSON body sent without content-type with 415 naming the header', async () => {
    const { app } = appWith();
    const res = await request(app).post('/echo').set('content-type', '').send(Buffer.from('{"name":"Song"}'));
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', details: [{ path: '(header) content-type', message: 'must be application/json' }] });
    expect(res.body.error.message).toMatch(/no content-type header.*content-type: application\/json/);
  });

  it('answers a body of another type with 415 naming the type it got', async () => {
    const { app } = appWith();
    const res = await request(app).post('/echo').set('content-type', 'text/plain').send('{"name":"Song"}');
    expect(res.status).toBe(415);
    expect(res.body.error.message).toMatch(/Unsupported content-type "text\/plain"/);
  });

  it('lets a request without a body through, whatever its headers', async () => {
    const { app } = appWith();
    expect((await request(app).post('/no-body')).body).toEqual({ body: null });
    expect((await request(app).post('/no-body').set('content-type', 'text/plain').set('content-length', '0')).status).toBe(200);
  });

  it('serves the service index at GET /: HTML to a browser, JSON to anything else', async () => {
    const index = { service: 'music-test', description: 'A <test> service', links: [{ href: '/docs', label: 'API docs' }] };
    const { app } = appWith({ index });
    const json = await request(app).get('/');
    expect(json.status).toBe(200);
    expect(json.body).toEqual(index);
    const html = await request(app).get('/').set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.text).toContain('<h1>music-test</h1>');
    expect(html.text).toContain('A &lt;test&gt; service');
    expect(html.text).toContain('<a href="/docs">API docs</a>');
    // Without an index, / is an ordinary 404.
    expect((await request(appWith().app).get('/')).status).toBe(404);
  });
});

describe('serviceAppOptions', () => {
  const service = {
    service: 'music-example',
    description: 'An example.',
    apiDocument: (options: { metrics: boolean }) => createApiDocument({ title: 'music-example', description: 'An example.', paths: {}, metrics: options.metrics }),
    metrics: (): never => {
      throw new Error('the registry is resolved only when METRICS_ENABLED');
    },
  };

  it('allows the CORS_ORIGINS of the settings, and links the service’s own pages after the standard ones', () => {
    const options = serviceAppOptions(
      { HTTP_BODY_LIMIT: '2mb', CORS_ORIGINS: 'https://a.example, https://b.example', METRICS_ENABLED: false },
      { ...service, links: [{ href: '/admin', label: 'Admin' }] },
    );
    expect(options.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(options.bodyLimit).toBe('2mb');
    expect(options.metrics).toBeUndefined();
    expect(options.index?.links.map((l) => l.href)).toEqual(['/docs', '/openapi.json', '/health/ready', '/health/live', '/admin']);
  });
});

describe('sendResult', () => {
  it('writes an Err as the envelope with its status and retry-after', async () => {
    const { app } = appWith();
    const res = await request(app).get('/teapot');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'slow down' } });
  });

  it('writes an Ok through the mapper with the given status', async () => {
    const { app } = appWith();
    const res = await request(app).get('/created');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 'x1' });
  });
});

describe('errorMiddleware: the store unreachable', () => {
  it('answers 503 SERVICE_UNAVAILABLE with Retry-After and one warning, not a 500 with an errorId', async () => {
    const { logger, lines } = capturingLogger();
    const app = createHttpApp({
      logger,
      routes: (a) => {
        a.get('/down', async () => {
          throw new mongoose.mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017');
        });
      },
    });
    const res = await request(app).get('/down');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable; retry shortly' } });
    expect(lines.find((l) => l['message'] === 'store unavailable')).toMatchObject({ level: 'warn', path: '/down' });
    expect(lines.find((l) => l['message'] === 'unhandled error')).toBeUndefined();
  });
});
