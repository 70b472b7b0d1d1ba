import { generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { keyIdOf, listRoutes } from '@music/platform';
import { eventually } from '@music/testing';
import { InProcessSystem, type AppName, type User } from './in-process-system';
import { INTEGRATION } from '../../apps/music-integration/src/container';

// Tenant isolation, over every endpoint of every app: a second user (Mallory) with a valid token of
// her own, her own organization, item, runs and deliveries, attacks everything Alice owns - by
// id, through a wrong or her own x-organization-id, through her own organization's paths with
// Alice's run and delivery ids, and through /sync with a forged orgId while Alice's input webhooks
// have a secret. Every attempt must answer 401/404 without a byte of Alice's data, and afterwards
// Alice's organization, items, runs, deliveries, queued jobs and the third party are exactly as before.

const ALICE_INPUT_SECRET = 'whsec_' + randomBytes(24).toString('base64');
const MALLORY_INPUT_SECRET = 'whsec_' + randomBytes(24).toString('base64');

interface Probe {
  app: AppName;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The route pattern this probe exercises (checked against the apps' route tables). */
  route: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Who sends it: Mallory's token, none, or a token Mallory forged for Alice's id. */
  as: 'mallory' | 'anonymous' | 'forged';
  expected: number;
  why: string;
}

const song = (id: string, name = `Song ${id}`) => ({ id, name, artist: 'Artist', album: 'Album' });

describe('tenant isolation across every endpoint of every app', () => {
  let system: InProcessSystem;
  let alice: User;
  let mallory: User;
  let aliceOrg: string;
  let malloryOrg: string;
  let aliceItem: string;
  let aliceRun: string;
  let aliceDelivery: string;
  let aliceInputWebhook: string;
  let forgedToken: string;
  const aliceSecrets: string[] = [];

  /** Everything of Alice's that an attack could change, read straight from the store, the queues and the third party. */
  async function aliceState(): Promise<unknown> {
    const { models } = system.store;
    const byOrg = { organizationId: aliceOrg };
    const jobsOf = async (queue: import('bullmq').Queue) =>
      (await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']))
        .filter((j) => (j.data as { organizationId?: string }).organizationId === aliceOrg)
        .map((j) => j.id)
        .sort();
    const queues = system.use(INTEGRATION.queues);
    return {
      organization: await models.organizations.findById(aliceOrg).lean(),
      items: await models.inventoryItems.find(byOrg).sort({ _id: 1 }).lean(),
      runs: await models.syncRuns.find(byOrg).sort({ _id: 1 }).lean(),
      deliveries: await models.deliveries.find(byOrg).sort({ _id: 1 }).lean(),
      pollJobs: await jobsOf(queues.polling),
      outputJobs: await jobsOf(queues.output),
      inboundJobs: await jobsOf(queues.inbound),
      thirdParty: { items: system.faker.state.list(), counts: system.faker.state.deliveryCounts },
    };
  }

  beforeAll(async () => {
    // As production runs: input webhook calls without a signature or token are refused.
    system = await InProcessSystem.open({ env: { INBOUND_WEBHOOK_UNAUTHENTICATED: 'refuse' } });
    alice = await system.user('alice');
    mallory = await system.user('mallory');
    // Mallory signs a token for Alice's id with a key of her own, claiming every right claim.
    const hers = generateKeyPairSync('rsa', { modulusLength: 2048 });
    forgedToken = jwt.sign({ email: alice.email }, hers.privateKey, {
      algorithm: 'RS256',
      keyid: keyIdOf(hers.publicKey),
      subject: alice.id,
      issuer: 'music-auth',
      audience: 'music-sync',
      expiresIn: 600,
    });

    // Alice: an organization with secret-protected input webhooks (POST and DELETE, no PUT), an
    // item created through the API (delivered to the third party), one poll run.
    system.faker.state.generate(2);
    const org = await system.organization(alice, {
      webhooks: [
        { type: 'input', url: 'http://localhost:3003/sync', method: 'POST', secret: ALICE_INPUT_SECRET },
        { type: 'input', url: 'http://localhost:3003/sync', method: 'DELETE', secret: ALICE_INPUT_SECRET },
        { type: 'output', url: `${system.faker.baseUrl}/sync/create`, method: 'POST' },
      ],
    });
    aliceOrg = org.id;
    const input = (org['webhooks'] as Array<{ id: string; type: string; callUrlWithToken?: string }>).find((w) => w.type === 'input');
    aliceInputWebhook = input?.id as string;
    const aliceToken = new URL(input?.callUrlWithToken as string).searchParams.get('token') as string;
    aliceSecrets.push(ALICE_INPUT_SECRET, ALICE_INPUT_SECRET.slice(6, -4), aliceToken);
    const created = await request(system.apps['music-inventory'])
      .post('/inventory')
      .set('authorization', alice.auth)
      .set('x-organization-id', aliceOrg)
      .send({ externalId: 'alice-private-1', name: 'Alice Private Song', artist: 'Alice', album: 'Secret Album' });
    expect(created.status).toBe(201);
    aliceItem = created.body.id as string;
    const sync = await request(system.apps['music-config']).post(`/organization/${aliceOrg}/sync`).set('authorization', alice.auth);
    expect(sync.status).toBe(202);
    aliceRun = sync.body.runs[0].id as string;
    const integration = system.apps['music-integration'];
    await eventually(async () => {
      const run = await request(integration).get(`/organization/${aliceOrg}/sync-runs/${aliceRun}`).set('authorization', alice.auth);
      return run.body.status === 'succeeded';
    }, "Alice's poll");
    await system.drainOutput();
    const deliveries = await request(integration).get(`/organization/${aliceOrg}/deliveries`).set('authorization', alice.auth);
    aliceDelivery = deliveries.body.items[0].id as string;
    expect(deliveries.body.items[0].status).toBe('succeeded');

    // Mallory: her own organization (her own input secret), item, run and delivery.
    const own = await system.organization(mallory, {
      webhooks: [
        { type: 'input', url: 'http://localhost:3003/sync', method: 'POST', secret: MALLORY_INPUT_SECRET },
        { type: 'output', url: `${system.faker.baseUrl}/sync/create`, method: 'POST' },
      ],
      polling: [],
    });
    malloryOrg = own.id;
    const mine = await request(system.apps['music-inventory'])
      .post('/inventory')
      .set('authorization', mallory.auth)
      .set('x-organization-id', malloryOrg)
      .send({ externalId: 'mallory-1', name: 'Mine', artist: 'M', album: 'M' });
    expect(mine.status).toBe(201);
    await system.drainOutput();
  });

  afterAll(async () => system?.close());

  /** Every probe of the matrix; built once the ids exist. */
  function probes(): Probe[] {
    const item = { name: 'Hijacked', artist: 'Mallory', album: 'Stolen' };
    const orgBody = { synchronization: 'two-way', webhooks: [], polling: [], mappings: { externalId: { type: 'string', source: 'id', required: true } }, transforms: [] };
    const guarded: Array<Omit<Probe, 'as' | 'expected' | 'why'>> = [
      { app: 'music-auth', method: 'get', route: '/auth/me', path: '/auth/me' },
      { app: 'music-config', method: 'get', route: '/organization', path: '/organization' },
      { app: 'music-config', method: 'post', route: '/organization', path: '/organization', body: orgBody },
      { app: 'music-config', method: 'get', route: '/organization/:id', path: `/organization/${aliceOrg}` },
      { app: 'music-config', method: 'put', route: '/organization/:id', path: `/organization/${aliceOrg}`, body: orgBody },
      { app: 'music-config', method: 'patch', route: '/organization/:id', path: `/organization/${aliceOrg}`, body: { name: 'Hijacked' } },
      { app: 'music-config', method: 'delete', route: '/organization/:id', path: `/organization/${aliceOrg}` },
      { app: 'music-config', method: 'post', route: '/organization/:id/sync', path: `/organization/${aliceOrg}/sync` },
      { app: 'music-config', method: 'post', route: '/organization/:id/mapping-preview', path: `/organization/${aliceOrg}/mapping-preview`, body: {} },
      { app: 'music-config', method: 'post', route: '/organization/:id/webhooks/:webhookId/rotate-secret', path: `/organization/${aliceOrg}/webhooks/${aliceInputWebhook}/rotate-secret` },
      { app: 'music-inventory', method: 'post', route: '/inventory', path: '/inventory', headers: { 'x-organization-id': aliceOrg }, body: { externalId: 'planted', ...item } },
      { app: 'music-inventory', method: 'get', route: '/inventory', path: '/inventory' },
      { app: 'music-inventory', method: 'get', route: '/inventory/organization/:orgId', path: `/inventory/organization/${aliceOrg}` },
      { app: 'music-inventory', method: 'get', route: '/inventory/:id', path: `/inventory/${aliceItem}` },
      { app: 'music-inventory', method: 'put', route: '/inventory/:id', path: `/inventory/${aliceItem}`, body: item },
      { app: 'music-inventory', method: 'patch', route: '/inventory/:id', path: `/inventory/${aliceItem}`, body: { name: 'Hijacked' } },
      { app: 'music-inventory', method: 'delete', route: '/inventory/:id', path: `/inventory/${aliceItem}` },
      { app: 'music-integration', method: 'get', route: '/organization/:id/sync-runs', path: `/organization/${aliceOrg}/sync-runs` },
      { app: 'music-integration', method: 'get', route: '/organization/:id/sync-runs/:runId', path: `/organization/${aliceOrg}/sync-runs/${aliceRun}` },
      { app: 'music-integration', method: 'get', route: '/organization/:id/deliveries', path: `/organization/${aliceOrg}/deliveries` },
      { app: 'music-integration', method: 'get', route: '/organization/:id/deliveries/:deliveryId', path: `/organization/${aliceOrg}/deliveries/${aliceDelivery}` },
      { app: 'music-integration', method: 'post', route: '/organization/:id/deliveries/:deliveryId/replay', path: `/organization/${aliceOrg}/deliveries/${aliceDelivery}/replay` },
      { app: 'music-integration', method: 'get', route: '/organization/:id/divergences', path: `/organization/${aliceOrg}/divergences` },
      { app: 'music-integration', method: 'post', route: '/organization/:id/divergences/:externalId/replay', path: `/organization/${aliceOrg}/divergences/alice-private-1/replay` },
      { app: 'music-integration', method: 'post', route: '/organization/:id/divergences/:externalId/accept-remote', path: `/organization/${aliceOrg}/divergences/alice-private-1/accept-remote` },
      { app: 'music-integration', method: 'get', route: '/organization/:id/status', path: `/organization/${aliceOrg}/status` },
      { app: 'music-integration', method: 'post', route: '/organization/:id/pause', path: `/organization/${aliceOrg}/pause`, body: { reason: 'Mallory was here' } },
      { app: 'music-integration', method: 'post', route: '/organization/:id/resume', path: `/organization/${aliceOrg}/resume`, body: {} },
      { app: 'music-integration', method: 'post', route: '/organization/:id/webhooks/:webhookId/test', path: `/organization/${aliceOrg}/webhooks/${aliceInputWebhook}/test` },
      { app: 'music-integration', method: 'post', route: '/organization/:id/deliveries/replay', path: `/organization/${aliceOrg}/deliveries/replay`, body: {} },
    ];
    const out: Probe[] = [];
    // Without a token, and with a token Mallory signed herself for Alice's id: 401 everywhere.
    for (const p of guarded) {
      out.push({ ...p, as: 'anonymous', expected: 401, why: 'no token' });
      out.push({ ...p, as: 'forged', expected: 401, why: "a token for Alice's id signed with another key" });
    }
    // With her own valid token, on Alice's ids: 404, the answer for ids that do not exist.
    for (const p of guarded) {
      if (p.route === '/auth/me' || (p.route === '/organization' && p.method !== 'post') || (p.route === '/inventory' && p.method === 'get')) continue;
      if (p.route === '/organization' && p.method === 'post') continue; // creates her own organization: not an attack
      out.push({ ...p, as: 'mallory', expected: 404, why: "Alice's id with Mallory's token" });
    }
    const mal = (p: Omit<Probe, 'as'>): Probe => ({ ...p, as: 'mallory' });
    // The item through a wrong x-organization-id: Alice's (not Mallory's) and Mallory's own (not the item's).
    for (const orgHeader of [aliceOrg, malloryOrg]) {
      const headers = { 'x-organization-id': orgHeader };
      const which = orgHeader === aliceOrg ? "Alice's organization id" : "Mallory's own organization id";
      out.push(mal({ app: 'music-inventory', method: 'get', route: '/inventory/:id', path: `/inventory/${aliceItem}`, headers, expected: 404, why: `x-organization-id = ${which}` }));
      out.push(mal({ app: 'music-inventory', method: 'put', route: '/inventory/:id', path: `/inventory/${aliceItem}`, headers, body: item, expected: 404, why: `x-organization-id = ${which}` }));
      out.push(mal({ app: 'music-inventory', method: 'patch', route: '/inventory/:id', path: `/inventory/${aliceItem}`, headers, body: { name: 'x' }, expected: 404, why: `x-organization-id = ${which}` }));
      out.push(mal({ app: 'music-inventory', method: 'delete', route: '/inventory/:id', path: `/inventory/${aliceItem}`, headers, expected: 404, why: `x-organization-id = ${which}` }));
    }
    // Alice's run and delivery ids under Mallory's own organization's paths.
    const viaOwn = `/organization/${malloryOrg}`;
    out.push(mal({ app: 'music-integration', method: 'get', route: '/organization/:id/sync-runs/:runId', path: `${viaOwn}/sync-runs/${aliceRun}`, expected: 404, why: "Alice's run id under Mallory's organization" }));
    out.push(mal({ app: 'music-integration', method: 'get', route: '/organization/:id/deliveries/:deliveryId', path: `${viaOwn}/deliveries/${aliceDelivery}`, expected: 404, why: "Alice's delivery id under Mallory's organization" }));
    out.push(
      mal({ app: 'music-integration', method: 'post', route: '/organization/:id/deliveries/:deliveryId/replay', path: `${viaOwn}/deliveries/${aliceDelivery}/replay`, expected: 404, why: "replay of Alice's delivery under Mallory's organization" }),
    );
    out.push(
      mal({ app: 'music-integration', method: 'post', route: '/organization/:id/divergences/:externalId/accept-remote', path: `${viaOwn}/divergences/alice-private-1/accept-remote`, expected: 404, why: "Alice's externalId under Mallory's organization" }),
    );
    return out;
  }

  /** Signed like a real input webhook call, with `secret` (Mallory's own secret, not Alice's). */
  function signed(secret: string, body: string): Record<string, string> {
    const now = new Date();
    const id = `msg_${randomBytes(6).toString('hex')}`;
    return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, now, body) };
  }

  function send(p: Probe) {
    const agent = request(system.apps[p.app]);
    let req = agent[p.method](p.path);
    if (p.as === 'mallory') req = req.set('authorization', mallory.auth);
    if (p.as === 'forged') req = req.set('authorization', `Bearer ${forgedToken}`);
    for (const [k, v] of Object.entries(p.headers ?? {})) req = req.set(k, v);
    return p.body === undefined ? req : req.send(p.body as object);
  }

  it('covers every route of every app that holds tenant data (so a new endpoint cannot skip the matrix)', () => {
    const covered = new Set(probes().map((p) => `${p.app} ${p.method.toUpperCase()} ${p.route}`));
    // Public by design: sign-up/sign-in, the public key set, the /sync receiver (checked below), health, and the faker (a test double holding no tenant data).
    const publicRoute = (app: AppName, path: string) =>
      app === 'music-faker' || ['/', '/health/live', '/health/ready', '/metrics', '/openapi.json', '/auth/sign-up', '/auth/sign-in', '/.well-known/jwks.json', '/sync'].includes(path);
    const missing: string[] = [];
    for (const app of ['music-auth', 'music-config', 'music-inventory', 'music-integration'] as const) {
      const routes = listRoutes(system.apps[app]);
      expect(routes.length).toBeGreaterThan(0);
      for (const r of routes) if (!publicRoute(app, r.path) && !covered.has(`${app} ${r.method} ${r.path}`)) missing.push(`${app} ${r.method} ${r.path}`);
    }
    expect(missing).toEqual([]);
  });

  it('answers 401/404 to every attempt, leaking none of Alice\'s data, and changes nothing of hers', async () => {
    const before = await aliceState();
    const leaks = [aliceItem, aliceRun, aliceDelivery, 'alice-private-1', 'Alice Private Song', 'Secret Album', alice.email, ...aliceSecrets];
    const failures: string[] = [];
    for (const p of probes()) {
      const res = await send(p);
      const text = res.text ?? '';
      const leaked = leaks.filter((l) => text.includes(l));
      if (res.status !== p.expected || leaked.length > 0 || res.body?.error?.code === undefined) {
        failures.push(`${p.app} ${p.method.toUpperCase()} ${p.path} as ${p.as} (${p.why}): ${res.status} ${text.slice(0, 200)}${leaked.length ? ` LEAKED ${leaked.join(', ')}` : ''}`);
      }
    }
    expect(failures).toEqual([]);
    // Give anything an attack might have queued time to run, then compare.
    await new Promise((r) => setTimeout(r, 500));
    await system.drainOutput();
    expect(await aliceState()).toEqual(before);
  });

  it("lists only Mallory's own organizations and items to her, and /auth/me names her", async () => {
    const orgs = await request(system.apps['music-config']).get('/organization').set('authorization', mallory.auth);
    expect((orgs.body.organizations as Array<{ id: string }>).map((o) => o.id)).toEqual([malloryOrg]);
    const items = await request(system.apps['music-inventory']).get('/inventory?limit=200').set('authorization', mallory.auth);
    expect((items.body.items as Array<{ externalId: string }>).map((i) => i.externalId)).toEqual(['mallory-1']);
    expect(items.text).not.toContain('alice-private-1');
    const me = await request(system.apps['music-auth']).get('/auth/me').set('authorization', mallory.auth);
    expect(me.body).toEqual({ id: mallory.id, email: mallory.email });
  });

  it('a forged orgId on /sync cannot write into, or delete from, an organization whose input webhooks have a secret', async () => {
    const before = await aliceState();
    const integration = system.apps['music-integration'];
    const planted = JSON.stringify(song('planted-by-mallory'));
    const removal = JSON.stringify({ id: 'alice-private-1' });
    const unsigned = [
      await request(integration).post(`/sync?orgId=${aliceOrg}`).set('content-type', 'application/json').send(planted),
      await request(integration).delete(`/sync?orgId=${aliceOrg}`).set('content-type', 'application/json').send(removal),
      // A token that is not Alice's.
      await request(integration).delete(`/sync?orgId=${aliceOrg}&token=${randomBytes(32).toString('base64url')}`).set('content-type', 'application/json').send(removal),
    ];
    for (const res of unsigned) expect(res.body.error.code).toBe('UNAUTHORIZED');
    const attempts = [
      // Signed with Mallory's own (valid, configured) secret.
      await request(integration).post(`/sync?orgId=${aliceOrg}`).set(signed(MALLORY_INPUT_SECRET, planted)).send(planted),
      await request(integration).delete(`/sync?orgId=${aliceOrg}`).set(signed(MALLORY_INPUT_SECRET, removal)).send(removal),
      // Alice's real signature replayed over another body.
      await request(integration).post(`/sync?orgId=${aliceOrg}`).set(signed(ALICE_INPUT_SECRET, JSON.stringify(song('x')))).send(planted),
    ];
    for (const res of [...unsigned, ...attempts]) expect(res.status).toBe(401);
    for (const res of attempts) {
      expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Missing or invalid webhook signature' } });
    }
    // A method Alice has no input webhook for answers like an unknown organization.
    const put = await request(integration).put(`/sync?orgId=${aliceOrg}`).set(signed(MALLORY_INPUT_SECRET, planted)).send(planted);
    const unknown = await request(integration).put('/sync?orgId=no-such-organization').set(signed(MALLORY_INPUT_SECRET, planted)).send(planted);
    expect(put.status).toBe(404);
    expect(put.body).toEqual(unknown.body);

    // Mallory's signature works where it belongs: her own organization.
    const own = await request(integration).post(`/sync?orgId=${malloryOrg}`).set(signed(MALLORY_INPUT_SECRET, planted)).send(planted);
    expect(own.status).toBe(202);
    await eventually(async () => (await system.store.models.inventoryItems.countDocuments({ organizationId: malloryOrg, externalId: 'planted-by-mallory' })) === 1, 'her own webhook');

    await new Promise((r) => setTimeout(r, 300));
    expect(await aliceState()).toEqual(before);
  });
});
