import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { eventually, freePort, testProductionKeys, testUrls, uniqueName } from '@music/testing';
import { startStack, type Stack } from '../stack-processes';

// What a stranger on the internet can do to a tenant, tried against the five apps as processes in
// production mode (NODE_ENV=production, production keys, BCRYPT_COST at its default 12):
// - write to or delete from an organization's inventory knowing only its id (its /sync URL);
// - freeze the shared integration worker with one regex transform and one long value.
// Both worked before: an unsigned DELETE /sync?orgId=<victim> answered 202 and removed the victim's
// song; one record of 3,000 `a`s under `a*a*b` kept /health/live waiting 10.6 s. And where the
// apps listen: every interface in production (behind its ingress), loopback only in development.

jest.setTimeout(240_000);

type Json = Record<string, any>;

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, ...(text === undefined ? {} : { body: text }) });
  const answer = await res.text();
  return { status: res.status, body: (answer ? JSON.parse(answer) : {}) as Json };
}

/** Standard Webhooks headers for `body`, made by the official library with `secret`. */
function signed(secret: string, body: string): Record<string, string> {
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  const at = new Date();
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
}

describe('a stranger against the apps in production mode', () => {
  let stack: Stack;
  let bearer: Record<string, string>;

  beforeAll(async () => {
    const { mongoUrl, redisUrl } = testUrls();
    stack = await startStack({
      NODE_ENV: 'production',
      ...testProductionKeys(),
      MONGO_URL: mongoUrl,
      MONGO_DB: uniqueName('e2e_stranger'),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: uniqueName('e2e_stranger'),
      AUTH_RATE_LIMIT_PREFIX: uniqueName('e2e_stranger_rl'),
      LOG_LEVEL: 'warn',
    });
    const auth = stack.url('music-auth');
    const credentials = { email: `${uniqueName('victim')}@test.com`, password: 'the victim’s password' };
    expect((await call('POST', `${auth}/auth/sign-up`, credentials)).status).toBe(201);
    const signIn = await call('POST', `${auth}/auth/sign-in`, credentials);
    expect(signIn.status).toBe(200);
    bearer = { authorization: `Bearer ${signIn.body['token']}` };
  });
  afterAll(async () => stack?.stop());

  const organization = async (extra: Json = {}): Promise<Json> => {
    const created = await call(
      'POST',
      `${stack.url('music-config')}/organization`,
      {
        synchronization: 'one-way',
        webhooks: [
          { type: 'input', url: 'https://victim.example/docs/inbound', method: 'POST' },
          { type: 'input', url: 'https://victim.example/docs/inbound', method: 'DELETE' },
        ],
        polling: [],
        mappings: {
          externalId: { type: 'string', source: 'id', required: true },
          name: { type: 'string', source: 'name', required: true },
        },
        transforms: [],
        ...extra,
      },
      bearer,
    );
    expect(created.status).toBe(201);
    return created.body;
  };
  const songs = async (orgId: string): Promise<Json[]> =>
    ((await call('GET', `${stack.url('music-inventory')}/inventory/organization/${orgId}?limit=200`, undefined, bearer)).body['items'] as Json[]) ?? [];

  it('a stranger who knows the organization id cannot write to or delete from its inventory; its third party, signing or with its token, can', async () => {
    const org = await organization();
    const orgId = org['id'] as string;
    // The victim's song, created through the inventory API.
    const mine = await call('POST', `${stack.url('music-inventory')}/inventory`, { externalId: 'song-1', name: 'Mine' }, { ...bearer, 'x-organization-id': orgId });
    expect(mine.status).toBe(201);

    const sync = `${stack.url('music-integration')}/sync?orgId=${orgId}`;
    const removal = await call('DELETE', sync, { id: 'song-1' });
    const planted = await call('POST', sync, { id: 'planted', name: 'Planted by a stranger' });
    const guessedToken = await call('DELETE', `${sync}&token=${'x'.repeat(43)}`, { id: 'song-1' });
    for (const attempt of [removal, planted, guessedToken]) {
      expect(attempt.status).toBe(401);
      expect(attempt.body['error']['code']).toBe('UNAUTHORIZED');
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect((await songs(orgId)).map((s) => s['externalId'])).toEqual(['song-1']);

    const [postHook, deleteHook] = org['webhooks'] as [Json, Json];
    expect(postHook).toMatchObject({ verification: 'signature-or-token', secret: expect.stringMatching(/^whsec_/), callUrlWithToken: expect.any(String) });
    // The victim's third party: a signed POST, then a DELETE through the call URL with the token.
    const body = JSON.stringify({ id: 'remote-1', name: 'From the third party' });
    expect((await call('POST', sync, body, signed(postHook['secret'] as string, body))).status).toBe(202);
    const withToken = (deleteHook['callUrlWithToken'] as string).replace(/^https?:\/\/[^/]+/, stack.url('music-integration'));
    expect((await call('DELETE', withToken, { id: 'song-1' })).status).toBe(202);
    await eventually(async () => {
      const ids = (await songs(orgId)).map((s) => s['externalId']).sort();
      return ids.length === 1 && ids[0] === 'remote-1';
    }, 'the third party’s authenticated calls to apply', 20_000);
  });

  it('one regex transform and one long value cannot stall the integration worker: the record is mapped and /health/live keeps answering', async () => {
    const org = await organization({
      webhooks: [{ type: 'input', url: 'https://victim.example/docs/inbound', method: 'POST' }],
      // Accepted by the pattern guard before, and cubic in V8's backtracking engine.
      transforms: [{ field: 'name', op: 'replace', pattern: 'a*a*b', replacement: 'x', regex: true, flags: 'g' }],
    });
    const [hook] = org['webhooks'] as Json[];
    const url = (hook?.['callUrlWithToken'] as string).replace(/^https?:\/\/[^/]+/, stack.url('music-integration'));
    const longest = 10_000; // the longest value a regex runs on
    const records = [
      { id: 'stall-1', name: 'a'.repeat(longest) },
      { id: 'stall-2', name: `${'a'.repeat(longest - 1)}b` },
    ];
    expect((await call('POST', url, records)).status).toBe(202);

    // Probe liveness while the worker maps the records; each probe must answer within 2 s.
    const health = `${stack.url('music-integration')}/health/live`;
    let probing = true;
    const slowest: number[] = [];
    const probes = (async () => {
      while (probing) {
        const started = Date.now();
        const res = await fetch(health, { signal: AbortSignal.timeout(2000) });
        expect(res.status).toBe(200);
        slowest.push(Date.now() - started);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const mapped = await eventually(async () => {
        const stored = await songs(org['id'] as string);
        return stored.length === 2 ? stored : undefined;
      }, 'both records to be mapped and stored', 30_000);
      const byId = new Map(mapped.map((s) => [s['externalId'], s['name']]));
      expect(byId.get('stall-1')).toBe('a'.repeat(longest));
      expect(byId.get('stall-2')).toBe('x');
    } finally {
      probing = false;
      await probes;
    }
    expect(slowest.length).toBeGreaterThan(0);
  });

  // Finding: development services listened on every interface.
  it('listens on every interface in production, and on 127.0.0.1 only outside production', async () => {
    const address = externalAddress();
    expect(address).toBeDefined();
    const port = stack.apps['music-auth'].port;
    expect((await fetch(`http://${address}:${port}/health/live`)).status).toBe(200);
    const dev = await startOne('music-auth', { NODE_ENV: 'development', MONGO_URL: testUrls().mongoUrl, MONGO_DB: uniqueName('e2e_bind'), REDIS_URL: testUrls().redisUrl });
    try {
      expect((await fetch(`http://127.0.0.1:${dev.port}/health/live`)).status).toBe(200);
      await expect(fetch(`http://${address}:${dev.port}/health/live`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    } finally {
      await dev.stop();
    }
  });
});

/** A non-loopback IPv4 address of this machine. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
}

/** One app as a process, as users start it; resolves once it answers /health/live. */
async function startOne(app: string, env: Record<string, string>): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', `apps/${app}/src/main.ts`], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => null))?.status === 200, `${app} to start`, 60_000, 200);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}
