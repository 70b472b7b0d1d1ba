import { connect } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { closeServer, listen } from '@music/platform';
import { APP_NAMES, InProcessSystem, type AppName } from './in-process-system';

// The request limits every app gets from createHttpApp, checked on each app as its own factory
// builds it: security headers, no CORS unless configured, body size and JSON depth caps, NUL
// refused, JSON envelopes for unknown routes and bad bodies, and a server that drops a client
// sending its request too slowly (slowloris) once the request timeout passes.

/** A POST route of each app that parses a JSON body. */
const JSON_ROUTE: Record<AppName, string> = {
  'music-auth': '/auth/sign-in',
  'music-config': '/organization',
  'music-inventory': '/inventory',
  'music-integration': '/sync?orgId=x',
  'music-faker': '/music/generate',
};

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/**
 * Sends `head`, then `body` one byte every `everyMs`, and resolves with what the server answered
 * (or '' when it closed without a word) and how many body bytes it let us send first.
 */
function slowRequest(port: number, head: string, body: string, everyMs: number): Promise<{ answer: string; sent: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearInterval(timer);
      socket.destroy();
      resolve({ answer, sent });
    };
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('close', done);
    socket.on('error', done);
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent >= body.length) return clearInterval(timer);
        socket.write(body[sent++] as string);
      }, everyMs);
    });
  });
}

describe('HTTP limits on every app', () => {
  let system: InProcessSystem;
  beforeAll(async () => {
    system = await InProcessSystem.open({ workers: false });
  });
  afterAll(async () => system?.close());

  describe.each(APP_NAMES)('%s', (name) => {
    const app = () => system.apps[name];

    it('sends helmet security headers and no x-powered-by', async () => {
      const res = await request(app()).get('/health/live');
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringContaining('max-age='),
        'content-security-policy': expect.stringContaining("default-src 'self'"),
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('sends no CORS headers by default, to a browser request or a preflight', async () => {
      const res = await request(app()).get('/health/live').set('origin', 'https://evil.example');
      const preflight = await request(app()).options(JSON_ROUTE[name]).set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
      for (const r of [res, preflight]) {
        expect(r.headers['access-control-allow-origin']).toBeUndefined();
        expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      }
    });

    it('refuses a body over the size limit (1 MB) with 413 before any route runs', async () => {
      const res = await request(app()).post(JSON_ROUTE[name]).set('content-type', 'application/json').send(JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }));
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' } });
    });

    it('refuses JSON nested deeper than 32 levels, malformed JSON and NUL, with 400 envelopes', async () => {
      const deep = await request(app()).post(JSON_ROUTE[name]).send(nested(33) as object);
      expect(deep.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'JSON nested deeper than 32 levels' } });
      const malformed = await request(app()).post(JSON_ROUTE[name]).set('content-type', 'application/json').send('{"a": ');
      expect(malformed.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'Malformed JSON body' } });
      const nul = await request(app()).post(JSON_ROUTE[name]).send({ a: { b: 'x\u0000' } });
      expect(nul.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'a.b' }] } });
      const nulUrl = await request(app()).get('/anything%00/x');
      expect(nulUrl.status).toBe(400);
      for (const r of [deep, malformed, nul]) expect(r.status).toBe(400);
    });

    it('answers an unknown route with a JSON 404 envelope, naming no internals', async () => {
      const res = await request(app()).get('/no/such/route');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'No route for GET /no/such/route' } });
    });

    it('drops a client that sends its request too slowly once the request timeout passes (slowloris)', async () => {
      // HTTP_REQUEST_TIMEOUT_MS of 1 s; the client would need 12 s to send its 60 bytes.
      const server: Server = await listen(system.apps[name], 0, '127.0.0.1', 1000);
      try {
        const port = (server.address() as { port: number }).port;
        const body = JSON.stringify({ pad: 'x'.repeat(50) });
        const head = `POST ${JSON_ROUTE[name]} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
        const slowBody = await slowRequest(port, head, body, 200);
        expect(slowBody.answer).toMatch(/^HTTP\/1\.1 408 /);
        expect(slowBody.sent).toBeLessThan(body.length);
        // Headers trickled in the same way.
        const headers = `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Pad: yyyyyyyyyy\r\n'.repeat(3)}\r\n`;
        const slowHeaders = await slowRequest(port, '', headers, 200);
        expect(slowHeaders.answer).toMatch(/^HTTP\/1\.1 408 /);
        expect(slowHeaders.sent).toBeLessThan(headers.length);
      } finally {
        server.closeAllConnections();
        await closeServer(server);
      }
    });
  });
});
