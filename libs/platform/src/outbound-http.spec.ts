import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LookupFunction } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { baseEnvSchema, listSetting, parseConfig } from './config';
import { createOutboundClient, type OutboundPolicy, type OutboundResult } from './outbound-http';

// The guard on every request to an organization-configured URL (polling endpoints, output
// webhooks). Only loopback servers are ever reached: every refused destination below is refused
// before a socket connects, which is what these tests check.

interface Hit {
  path: string;
  host: string | undefined;
}

/** A loopback server (dual stack, so 127.0.0.x, ::1 and IPv4-mapped forms all reach it) recording every request. */
class LocalServer {
  readonly hits: Hit[] = [];
  private server: Server | null = null;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(0, '::', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  hitsOn(path: string): number {
    return this.hits.filter((h) => h.path === path).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://local');
    this.hits.push({ path: url.pathname, host: req.headers.host });
    switch (url.pathname) {
      case '/ok':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      case '/redirect':
        return void res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/' }).end();
      case '/trickle': {
        // One byte every 100 ms for 3 s: never idle long enough for a socket idle timeout.
        res.writeHead(200, { 'content-type': 'text/plain' });
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed || ++sent > 30) {
            clearInterval(timer);
            return void res.end();
          }
          res.write('x');
        }, 100);
        return;
      }
      case '/never':
        return; // headers never come
      case '/big':
        return void res.writeHead(200, { 'content-length': 2 * 1024 * 1024 }).end(Buffer.alloc(2 * 1024 * 1024, 0x61));
      case '/chunked': {
        res.writeHead(200);
        for (let i = 0; i < 40; i++) res.write(Buffer.alloc(64 * 1024, 0x62));
        return void res.end();
      }
      case '/echo': {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const echo = { method: req.method, query: url.search, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
          res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"', 'set-cookie': ['a=1', 'b=2'] }).end(JSON.stringify(echo));
        });
        return;
      }
      case '/encoded': {
        const text = '{"encoded":true}';
        const as = url.searchParams.get('as') ?? 'gzip';
        const body = as === 'gzip' ? gzipSync(text) : as === 'deflate' ? deflateSync(text) : as === 'deflate-raw' ? deflateRawSync(text) : brotliCompressSync(text);
        return void res.writeHead(200, { 'content-encoding': as === 'deflate-raw' ? 'deflate' : as, 'content-length': body.length }).end(body);
      }
      case '/bom':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('\ufeff{"bom":true}');
      case '/not-modified':
        // A 304 may state the length of the body it does not send.
        return void res.writeHead(304, { etag: '"v1"', 'content-length': 5 * 1024 * 1024 }).end();
      case '/cut': {
        // Promises more than it sends, then drops the connection.
        res.writeHead(200, { 'content-length': 1000 });
        res.write('{"partial":');
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      case '/bomb': {
        const body = bomb();
        return void res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length }).end(body);
      }
      default:
        res.writeHead(404).end();
    }
  }
}

/** A resolver answering every name with `address` (what a rebinding DNS server would answer), counting calls. */
function resolvingTo(address: string): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const family = address.includes(':') ? 6 : 4;
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    calls.push(hostname);
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction & { calls: string[] };
  lookup.calls = calls;
  return lookup;
}

// 8 MB of 'a' gzipped to a few KB (the cap must apply to what it inflates to); compressed once.
let bombBody: Buffer | undefined;
const bomb = (): Buffer => (bombBody ??= gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x61)));

const policy = (overrides: Partial<OutboundPolicy> = {}): OutboundPolicy => ({ allowList: [], timeoutMs: 1000, maxBytes: 1024 * 1024, ...overrides });

// Tenants are told only this; where the name resolved and which rule refused it is for operators.
function expectBlocked(result: OutboundResult): void {
  expect(result).toMatchObject({ ok: false, kind: 'blocked', message: 'blocked by the outbound policy' });
}

describe('createOutboundClient: the SSRF guard', () => {
  const local = new LocalServer();
  beforeAll(async () => void (await local.start()));
  afterAll(async () => local.close());
  beforeEach(() => void local.hits.splice(0));

  describe('without an allow list (production)', () => {
    const client = createOutboundClient(policy());

    it.each([
      ['loopback 127.0.0.1', (p: number) => `http://127.0.0.1:${p}/ok`],
      ['loopback 127.1.2.3', (p: number) => `http://127.1.2.3:${p}/ok`],
      ['loopback by name (localhost)', (p: number) => `http://localhost:${p}/ok`],
      ['loopback IPv6 ::1', (p: number) => `http://[::1]:${p}/ok`],
      ['IPv4-mapped loopback ::ffff:127.0.0.1', (p: number) => `http://[::ffff:127.0.0.1]:${p}/ok`],
      ['loopback written in decimal (2130706433)', (p: number) => `http://2130706433:${p}/ok`],
      ['loopback written in hex (0x7f.1)', (p: number) => `http://0x7f.1:${p}/ok`],
      ['the unspecified address 0.0.0.0 (reaches local services on Linux)', (p: number) => `http://0.0.0.0:${p}/ok`],
      ['the unspecified address ::', (p: number) => `http://[::]:${p}/ok`],
    ])('refuses %s before connecting', async (_what, url) => {
      expectBlocked(await client.send({ method: 'GET', url: url(local.port) }));
      expect(local.hits).toHaveLength(0);
    });

    it.each([
      ['the cloud metadata address 169.254.169.254', 'http://169.254.169.254/latest/meta-data/'],
      ['link-local IPv4 169.254.1.1', 'http://169.254.1.1/'],
      ['link-local IPv6 fe80::1', 'http://[fe80::1]/'],
      ['unique-local IPv6 fc00::1', 'http://[fc00::1]/'],
      ['unique-local IPv6 fd12:3456::1', 'http://[fd12:3456::1]/'],
      ['private 10.0.0.1', 'http://10.0.0.1/'],
      ['private 172.16.0.1', 'http://172.16.0.1/'],
      ['private 192.168.1.1', 'https://192.168.1.1/'],
      ['shared address space 100.64.0.1', 'http://100.64.0.1/'],
      ['IPv4-mapped metadata ::ffff:169.254.169.254', 'http://[::ffff:169.254.169.254]/'],
      // Finding: the IPv4-compatible form passed the address check.
      ['IPv4-compatible metadata ::169.254.169.254', 'http://[::169.254.169.254]/'],
      ['IPv4-compatible loopback ::127.0.0.1', 'http://[::127.0.0.1]/'],
      ['IPv4-compatible private ::10.0.0.1', 'http://[::10.0.0.1]/'],
      ['NAT64 metadata 64:ff9b::169.254.169.254', 'http://[64:ff9b::a9fe:a9fe]/'],
      ['6to4 2002:a9fe:a9fe::1', 'http://[2002:a9fe:a9fe::1]/'],
      ['site-local IPv6 fec0::1', 'http://[fec0::1]/'],
      ['discard-only IPv6 100::1', 'http://[100::1]/'],
      ['benchmarking 198.18.0.1', 'http://198.18.0.1/'],
      ['documentation 203.0.113.7', 'http://203.0.113.7/'],
      ['reserved 240.0.0.1', 'http://240.0.0.1/'],
      ['multicast 224.0.0.1', 'http://224.0.0.1/'],
      ['broadcast 255.255.255.255', 'http://255.255.255.255/'],
    ])('refuses %s', async (_what, url) => {
      expectBlocked(await client.send({ method: 'POST', url, body: '{}' }));
    });

    it('tells the operators, not the caller, where a refused destination resolved', async () => {
      const details: Array<{ url: string; reason: string }> = [];
      const logged = createOutboundClient(policy({ lookup: resolvingTo('10.1.2.3'), onBlocked: (d) => void details.push(d) }));
      const result = await logged.send({ method: 'GET', url: 'http://third-party.example.com/music' });
      expectBlocked(result);
      expect(JSON.stringify(result)).not.toContain('10.1.2.3');
      expect(details).toEqual([{ url: 'http://third-party.example.com/music', reason: expect.stringContaining('10.1.2.3') }]);
      await logged.send({ method: 'GET', url: 'http://[::169.254.169.254]/' });
      expect(details[1]?.reason).toContain('::a9fe:a9fe');
    });

    it('is what production gets: OUTBOUND_ALLOW_LIST defaults to empty', async () => {
      const config = parseConfig(baseEnvSchema, { NODE_ENV: 'production' });
      expect(config.OUTBOUND_ALLOW_LIST).toBe('');
      const production = createOutboundClient(policy({ allowList: listSetting(config.OUTBOUND_ALLOW_LIST) }));
      expectBlocked(await production.send({ method: 'GET', url: `http://localhost:${local.port}/ok` }));
      expect(local.hits).toHaveLength(0);
    });
  });

  describe('checks the address it connects to, after DNS (DNS rebinding)', () => {
    it('refuses a public-looking name that resolves to loopback, using the answer of the lookup it connects with', async () => {
      const lookup = resolvingTo('127.0.0.1');
      const client = createOutboundClient(policy({ lookup }));
      expectBlocked(await client.send({ method: 'GET', url: `http://music.example.com:${local.port}/ok` }));
      expect(lookup.calls).toContain('music.example.com');
      expect(local.hits).toHaveLength(0);
    });

    it('connects to the very address it checked: with 127.0.0.1 allow-listed the same name reaches the local server', async () => {
      const lookup = resolvingTo('127.0.0.1');
      const client = createOutboundClient(policy({ lookup, allowList: ['127.0.0.1'] }));
      const result = await client.send({ method: 'GET', url: `http://music.example.com:${local.port}/ok` });
      expect(result).toMatchObject({ ok: true, status: 200 });
      expect(local.hits).toEqual([{ path: '/ok', host: `music.example.com:${local.port}` }]);
    });

    it.each(['169.254.169.254', '::ffff:169.254.169.254', '::169.254.169.254', 'fec0::1', 'fc00::1', 'fe80::1', '10.1.2.3', '0.0.0.0', '::1'])('refuses a name resolving to %s', async (address) => {
      const client = createOutboundClient(policy({ lookup: resolvingTo(address) }));
      expectBlocked(await client.send({ method: 'GET', url: 'http://third-party.example.com/music' }));
    });
  });

  describe('the allow list (local stack and tests)', () => {
    it('an address entry lets exactly that address through', async () => {
      const client = createOutboundClient(policy({ allowList: ['127.0.0.1'] }));
      expect(await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/ok` })).toMatchObject({ ok: true, status: 200, text: '{"ok":true}' });
      expectBlocked(await client.send({ method: 'GET', url: `http://127.0.0.2:${local.port}/ok` }));
      expectBlocked(await client.send({ method: 'GET', url: `http://[::1]:${local.port}/ok` }));
      expect(local.hits).toHaveLength(1);
    });

    it('a CIDR entry lets the range through', async () => {
      const client = createOutboundClient(policy({ allowList: ['127.0.0.0/8'] }));
      expect(await client.send({ method: 'GET', url: `http://127.0.0.2:${local.port}/ok` })).toMatchObject({ ok: true, status: 200 });
    });

    it('a host-name entry lets that name through, not the address it resolves to', async () => {
      const client = createOutboundClient(policy({ allowList: ['localhost'] }));
      expect(await client.send({ method: 'GET', url: `http://localhost:${local.port}/ok` })).toMatchObject({ ok: true, status: 200 });
      expectBlocked(await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/ok` }));
      expect(local.hits).toHaveLength(1);
    });

    it.each(['169.254.169.254', '::ffff:169.254.169.254', '::169.254.169.254', 'fe80::1', '0.0.0.0'])(
      'an allow-listed host name resolving to %s (metadata, link-local, IPv4-compatible, unspecified) is still refused',
      async (address) => {
        const client = createOutboundClient(policy({ allowList: ['music-faker'], lookup: resolvingTo(address) }));
        expectBlocked(await client.send({ method: 'GET', url: 'http://music-faker:5000/music' }));
      },
    );

    it('an allow-listed host name resolving to a private address (a compose network) is let through', async () => {
      const client = createOutboundClient(policy({ allowList: ['music-faker'], lookup: resolvingTo('127.0.0.1') }));
      expect(await client.send({ method: 'GET', url: `http://music-faker:${local.port}/ok` })).toMatchObject({ ok: true, status: 200 });
    });
  });

  describe('redirects are never followed', () => {
    const client = createOutboundClient(policy({ allowList: ['127.0.0.1'] }));

    it.each([301, 302, 303, 307, 308])('returns a %i as is, without requesting its target (even an allowed one)', async (status) => {
      const to = `http://127.0.0.1:${local.port}/ok`;
      const result = await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/redirect?status=${status}&to=${encodeURIComponent(to)}` });
      expect(result).toMatchObject({ ok: true, status, headers: { location: to } });
      expect(local.hitsOn('/ok')).toBe(0);
    });

    it('does not follow a redirect to the metadata address', async () => {
      const to = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
      const result = await client.send({ method: 'POST', url: `http://127.0.0.1:${local.port}/redirect?to=${encodeURIComponent(to)}`, body: '{}' });
      expect(result).toMatchObject({ ok: true, status: 302, headers: { location: to } });
    });
  });

  describe('time and size caps', () => {
    const client = createOutboundClient(policy({ allowList: ['127.0.0.1'], timeoutMs: 1000, maxBytes: 1024 * 1024 }));

    it('bounds the whole exchange: a response trickled a byte at a time times out', async () => {
      const result = await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/trickle` });
      expect(result).toMatchObject({ ok: false, kind: 'timeout' });
    });

    it('times out a server that never answers', async () => {
      expect(await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/never` })).toMatchObject({ ok: false, kind: 'timeout' });
    });

    it.each(['/big', '/chunked', '/bomb'])('refuses a response over the size cap (%s)', async (path) => {
      // A deadline far beyond the transfer, so the size cap is what stops it even on a loaded machine.
      const roomy = createOutboundClient(policy({ allowList: ['127.0.0.1'], timeoutMs: 20000, maxBytes: 1024 * 1024 }));
      expect(await roomy.send({ method: 'GET', url: `http://127.0.0.1:${local.port}${path}` })).toMatchObject({ ok: false, kind: 'too-large' });
    });

    it('reports a refused connection as a network failure', async () => {
      const closed = await new LocalServer().start();
      const port = closed.port;
      await closed.close();
      expect(await client.send({ method: 'GET', url: `http://127.0.0.1:${port}/ok` })).toMatchObject({ ok: false, kind: 'network' });
    });
  });

  describe('the exchange itself', () => {
    const client = createOutboundClient(policy({ allowList: ['127.0.0.1'] }));

    it('sends the method, headers and body as given, and appends params to the query', async () => {
      const result = await client.send({
        method: 'POST',
        url: `http://127.0.0.1:${local.port}/echo?fixed=1`,
        headers: { 'Content-Type': 'application/json', 'webhook-id': 'msg_1' },
        body: '{"title":"Été"}',
        params: { page: 2, updatedSince: '2026-11-30T05:00:00.000Z', q: 'a b' },
      });
      expect(result.ok).toBe(true);
      const echo = JSON.parse(result.ok ? result.text : '{}') as { method: string; query: string; headers: Record<string, string>; body: string };
      expect(echo.method).toBe('POST');
      expect(echo.body).toBe('{"title":"Été"}');
      expect(echo.headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'msg_1', 'content-length': String(Buffer.byteLength('{"title":"Été"}')) });
      // The URL's own query as written, then the params encoded as the third party saw them before (axios).
      expect(echo.query).toBe('?fixed=1&page=2&updatedSince=2026-11-30T05:00:00.000Z&q=a+b');
    });

    it('keeps a query written in the URL as it is (encoding, flags) when it appends params', async () => {
      const result = await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/echo?q=a%20b&flag&s=x~y:z`, params: { page: 1 } });
      expect(JSON.parse(result.ok ? result.text : '{}')).toMatchObject({ query: '?q=a%20b&flag&s=x~y:z&page=1' });
    });

    it('returns a failure, not an exception, for a header value it cannot send', async () => {
      const result = await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/echo`, headers: { authorization: 'Bearer abc\n' } });
      expect(result).toMatchObject({ ok: false, kind: 'network' });
      expect(local.hitsOn('/echo')).toBe(0);
    });

    it('drops a byte-order mark before the body', async () => {
      expect(await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/bom` })).toMatchObject({ ok: true, text: '{"bom":true}' });
    });

    it('answers a 304 whatever length it states', async () => {
      expect(await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/not-modified` })).toMatchObject({ ok: true, status: 304, text: '', headers: { etag: '"v1"' } });
    });

    it('answers with the status, the single-valued headers in lower case, and the body as text', async () => {
      const result = await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/echo` });
      expect(result).toMatchObject({ ok: true, status: 200, headers: { 'content-type': 'application/json', etag: '"v1"' } });
      expect(result.ok && result.headers['set-cookie']).toBeUndefined();
    });

    it.each(['gzip', 'deflate', 'deflate-raw', 'br'])('decodes a %s body (and says it is no longer encoded)', async (as) => {
      const result = await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/encoded?as=${as}` });
      expect(result).toMatchObject({ ok: true, status: 200, text: '{"encoded":true}' });
      expect(result.ok && result.headers['content-encoding']).toBeUndefined();
    });

    it('reports a response cut off before its end as a network failure, not as a shorter body', async () => {
      expect(await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/cut` })).toMatchObject({ ok: false, kind: 'network' });
    });

    it('refuses to send a body over the size cap', async () => {
      const small = createOutboundClient(policy({ allowList: ['127.0.0.1'], maxBytes: 1000 }));
      expect(await small.send({ method: 'POST', url: `http://127.0.0.1:${local.port}/echo`, body: 'x'.repeat(1001) })).toMatchObject({ ok: false, kind: 'too-large' });
      expect(local.hitsOn('/echo')).toBe(0);
    });
  });

  describe('only http(s) URLs', () => {
    const client = createOutboundClient(policy({ allowList: ['127.0.0.1', 'localhost'] }));
    it.each(['file:///etc/passwd', 'ftp://127.0.0.1/x', 'gopher://127.0.0.1:70/_x', 'data:text/plain,hi', 'javascript:alert(1)', 'not a url', '//127.0.0.1/ok'])(
      'refuses %s',
      async (url) => {
        expect(await client.send({ method: 'GET', url })).toMatchObject({ ok: false, kind: 'invalid-url' });
      },
    );
  });

  describe('proxies from the environment', () => {
    let saved: Record<string, string | undefined>;
    const proxy = new LocalServer();
    beforeAll(async () => {
      await proxy.start();
      saved = { HTTP_PROXY: process.env['HTTP_PROXY'], http_proxy: process.env['http_proxy'] };
      process.env['HTTP_PROXY'] = `http://127.0.0.1:${proxy.port}`;
      process.env['http_proxy'] = `http://127.0.0.1:${proxy.port}`;
    });
    afterAll(async () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await proxy.close();
    });

    it('are ignored: a proxy would connect on our behalf, past the address check', async () => {
      const client = createOutboundClient(policy({ allowList: ['127.0.0.1'] }));
      expect(await client.send({ method: 'GET', url: `http://127.0.0.1:${local.port}/ok` })).toMatchObject({ ok: true, status: 200 });
      expect(proxy.hits).toHaveLength(0);
      expect(local.hits).toHaveLength(1);
    });
  });
});
