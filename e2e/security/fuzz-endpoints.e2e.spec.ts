import fc from 'fast-check';
import request from 'supertest';
import { listRoutes, type RouteEntry } from '@music/platform';
import { fakerStateOf } from '../../apps/music-faker/src/app';
import { APP_NAMES, InProcessSystem, type AppName, type User } from './in-process-system';
import { bodyFor, hostileString, leafPaths, mutate, paramFor, queryFor } from './fuzz-arbitraries';
import { EXAMPLE_MAPPINGS } from '@music/domain';

// Property-based fuzzing of every route of every app (their own route tables, so a new route is
// fuzzed without anyone listing it): random and near-valid bodies, hostile path parameters, query
// strings, organization headers and tokens, sent with a real user's token to the apps built by
// their factories on the real store and Redis. No answer may be a 5xx, every error must be the
// JSON envelope, and the apps must still serve afterwards. Fixed seeds; FUZZ_RUNS per route.
//
// Workers are off here: fuzzed organizations point at random URLs, and nothing may call them.

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261124);

jest.setTimeout(240_000);

/** What a route needs to be reached: valid bodies to mutate, its query keys, the ids its parameters take. */
interface RouteShape {
  bodies?: unknown[];
  query?: string[];
}

const song = { externalId: 'song-1', name: 'Song', artist: 'Artist', album: 'Album' };
const record = { id: 'rec-1', name: 'Song', artist: 'Artist', album: 'Album' };

function organizationBody(fakerUrl: string): Record<string, unknown> {
  return {
    name: 'Fuzzed',
    synchronization: 'two-way',
    webhooks: [
      { type: 'input', url: 'http://localhost:3003/sync', method: 'POST', secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtMTIzNA==' },
      { type: 'output', url: `${fakerUrl}/sync/create`, method: 'POST' },
    ],
    polling: [{ endpoint: `${fakerUrl}/music`, interval: 1, type: 'minute', pagination: { type: 'cursor', limit: 50 }, itemsPath: 'items' }],
    mappings: { ...EXAMPLE_MAPPINGS, duration: { type: 'number', source: 'meta.duration', required: false }, tags: { type: 'array', source: 'tags', items: { type: 'string' } } },
    transforms: [
      { op: 'trim', field: 'name' },
      { op: 'replace', field: 'album', pattern: '^The ', replacement: '' },
    ],
  };
}

function shapes(fakerUrl: string): Record<string, RouteShape> {
  const org = organizationBody(fakerUrl);
  return {
    'POST /auth/sign-up': { bodies: [{ email: 'fuzz@example.com', password: 'long enough password' }] },
    'POST /auth/sign-in': { bodies: [{ email: 'fuzz@example.com', password: 'long enough password' }] },
    'POST /organization': { bodies: [org, { ...org, webhook: org['webhooks'], webhooks: undefined }] },
    'PUT /organization/:id': { bodies: [org] },
    'PATCH /organization/:id': { bodies: [{ name: 'Renamed' }, { polling: org['polling'] }, { mappings: org['mappings'] }] },
    'POST /inventory': { bodies: [{ ...song, duration: 120, tags: ['a'] }] },
    'PUT /inventory/:id': { bodies: [{ ...song, duration: 10 }] },
    'PATCH /inventory/:id': { bodies: [{ name: 'Patched' }, { duration: null }] },
    'POST /organization/:id/pause': { bodies: [{ reason: 'fuzzing' }, { entryId: 'no-such-entry', reason: 'x' }] },
    'POST /organization/:id/resume': { bodies: [{ entryId: 'no-such-entry' }] },
    'POST /organization/:id/deliveries/replay': { bodies: [{ status: 'dead_lettered', webhookId: 'w', externalId: 'e', since: '2026-01-01T00:00:00Z', until: '2026-12-31T00:00:00Z', limit: 10 }] },
    'GET /inventory': { query: ['limit', 'cursor'] },
    'GET /inventory/organization/:orgId': { query: ['limit', 'cursor'] },
    'GET /organization/:id/sync-runs': { query: ['limit', 'before', 'since', 'until', 'status'] },
    'GET /organization/:id/deliveries': { query: ['limit', 'before', 'since', 'until', 'status'] },
    'POST /sync': { bodies: [record, [record, { ...record, id: 'rec-2' }]], query: ['orgId'] },
    'PUT /sync': { bodies: [record], query: ['orgId'] },
    'DELETE /sync': { bodies: [{ id: 'rec-1' }], query: ['orgId'] },
    'POST /music/generate': { bodies: [{ count: 3 }] },
    'PUT /config': { bodies: [{ create: [], remove: ['http://127.0.0.1:1/sync'] }] },
    'PUT /music/config': { bodies: [{ create: ['http://127.0.0.1:1/sync'], remove: [] }] },
    'GET /music': { query: ['page', 'limit', 'offset', 'cursor'] },
    'POST /sync/create': { bodies: [{ id: 'x', name: 'n' }, [{ id: 'x' }]] },
    'PUT /sync/create': { bodies: [{ id: 'x', name: 'n' }] },
    'DELETE /sync/delete': { bodies: [{ id: 'x' }] },
    'DELETE /sync/create': { bodies: [{ id: 'x' }] },
    'PUT /_faults': { bodies: [{ failNext: 1, status: 503, target: 'sync' }] },
  };
}

const printable = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

describe('fuzzing every JSON endpoint of every app (fast-check, fixed seeds)', () => {
  let system: InProcessSystem;
  let owner: User;

  beforeAll(async () => {
    // Limits and quotas out of the way: every request must reach the route's code.
    system = await InProcessSystem.open({ workers: false, env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000000', AUTH_EMAIL_RATE_LIMIT_PER_MINUTE: '1000000', QUOTA_ORGANIZATIONS_PER_USER: '1000000', QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR: '1000000' } });
    owner = await system.user('fuzzer');
  });
  afterAll(async () => system?.close());

  /** A fresh organization with an item and a queued run, so a route's ids exist (earlier fuzzing may have changed or deleted the last ones). */
  async function fixtures(): Promise<{ orgId: string; itemId: string; runId: string }> {
    const org = await request(system.apps['music-config']).post('/organization').set('authorization', owner.auth).send({
      ...organizationBody(system.faker.baseUrl),
      webhooks: [
        { type: 'input', url: 'http://localhost:3003/sync', method: 'POST' },
        { type: 'input', url: 'http://localhost:3003/sync', method: 'PUT' },
        { type: 'input', url: 'http://localhost:3003/sync', method: 'DELETE' },
        { type: 'output', url: `${system.faker.baseUrl}/sync/create`, method: 'POST' },
      ],
    });
    const orgId = org.body.id as string;
    const item = await request(system.apps['music-inventory']).post('/inventory').set('authorization', owner.auth).set('x-organization-id', orgId).send(song);
    const sync = await request(system.apps['music-config']).post(`/organization/${orgId}/sync`).set('authorization', owner.auth);
    return { orgId, itemId: item.body.id as string, runId: sync.body.runs[0].id as string };
  }

  const routes: Array<{ app: AppName; route: RouteEntry }> = [];
  beforeAll(() => {
    for (const app of APP_NAMES) for (const route of listRoutes(system.apps[app])) routes.push({ app, route });
  });

  it('knows the routes it fuzzes (every app contributes)', () => {
    for (const app of APP_NAMES) expect(routes.filter((r) => r.app === app).length).toBeGreaterThan(0);
    expect(routes.length).toBeGreaterThan(30);
  });

  it(`answers every route's random requests without a 5xx, always with the error envelope (${RUNS} runs per route, seed ${SEED})`, async () => {
    const table = shapes(system.faker.baseUrl);
    const failures: string[] = [];
    let requests = 0;
    for (const [index, { app, route }] of routes.entries()) {
      const key = `${route.method} ${route.path}`;
      const shape = table[key] ?? {};
      const ids = await fixtures();
      const realFor = (name: string): string[] => {
        if (name === 'orgId' || name === 'id') return [ids.orgId, ids.itemId];
        if (name === 'runId') return [ids.runId];
        return ['no-such-id'];
      };
      const paramNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
      const params = fc.tuple(...paramNames.map((n) => paramFor(realFor(n))), fc.constant(''));
      const queryKeys = shape.query ?? ['limit'];
      const query = route.path === '/sync' ? fc.tuple(queryFor(queryKeys), fc.constantFrom(ids.orgId, ids.orgId, 'nope')).map(([q, org]) => `orgId=${org}&${q}`) : queryFor(queryKeys);
      const hasBody = ['POST', 'PUT', 'PATCH'].includes(route.method) || (route.method === 'DELETE' && route.path.startsWith('/sync'));
      const body = hasBody ? bodyFor(shape.bodies ?? [{}]) : fc.constant(undefined);
      const token = fc.oneof({ weight: 8, arbitrary: fc.constant(owner.auth) }, { weight: 1, arbitrary: fc.constant('') }, { weight: 1, arbitrary: hostileString.filter(printable).map((t) => `Bearer ${t}`) });
      const orgHeader = fc.oneof({ weight: 3, arbitrary: fc.constant(ids.orgId) }, { weight: 1, arbitrary: hostileString.filter(printable) });

      await fc.assert(
        fc.asyncProperty(params, query, body, token, orgHeader, async (values, q, b, auth, org) => {
          requests++;
          let path = route.path;
          paramNames.forEach((name, i) => (path = path.replace(`:${name}`, values[i] as string)));
          const url = q ? `${path}?${q}` : path;
          const agent = request(system.apps[app]);
          let req = agent[route.method.toLowerCase() as 'get'](url);
          if (auth) req = req.set('authorization', auth);
          req = req.set('x-organization-id', org);
          const res = b ? await req.set('content-type', b.contentType).send(b.raw) : await req;
          if (app === 'music-faker') {
            // Test-only routes of the fake third party: leave no fault or webhook URL behind for the next request.
            fakerStateOf(system.apps['music-faker']).clearFaults();
            fakerStateOf(system.apps['music-faker']).setWebhookConfig({ create: [], remove: [] });
          }
          const envelopeMissing = res.status >= 400 && typeof res.body?.error?.code !== 'string';
          if (res.status >= 500 || envelopeMissing) {
            throw new Error(`${app} ${route.method} ${url} -> ${res.status} ${res.text.slice(0, 300)} (body ${b?.raw.slice(0, 300)})`);
          }
        }),
        { seed: SEED + index, numRuns: RUNS, endOnFailure: false },
      ).catch((error: Error) => {
        // The shrunk counterexample's own error: what was sent and what came back.
        const lines = error.message.split('\n');
        const cause = (error as { cause?: unknown }).cause;
        const got = cause instanceof Error ? cause.message : (lines.find((l) => l.includes(' -> ')) ?? lines.slice(0, 3).join(' | '));
        const seed = lines.find((l) => l.includes('seed:')) ?? '';
        failures.push(`${key}: ${got.trim()} ${seed.trim()}`);
      });
    }
    process.stderr.write(`[fuzz] ${routes.length} routes of ${APP_NAMES.length} apps, ${requests} random requests (seed ${SEED}), ${failures.length} failing\n`);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(routes.length * RUNS);
  });

  it('answers every valid body with each part replaced by each hostile class without a 5xx (systematic, not random)', async () => {
    const table = shapes(system.faker.baseUrl);
    const hostile: unknown[] = ['a\u0000b', '\ud800', 'x'.repeat(20_000), 1e308, null, { $gt: '' }, ['a', ['nested']]];
    const failures: string[] = [];
    let requests = 0;
    for (const { app, route } of routes) {
      const bodies = table[`${route.method} ${route.path}`]?.bodies;
      if (!bodies) continue;
      const ids = await fixtures();
      const path = route.path.replace(/:[A-Za-z0-9_]+/g, (m) => (m === ':runId' ? ids.runId : m === ':id' && route.path.startsWith('/inventory') ? ids.itemId : ids.orgId));
      const url = route.path === '/sync' ? `${path}?orgId=${ids.orgId}` : path;
      for (const body of bodies) {
        const leaves = leafPaths(body);
        for (const [at] of leaves.entries()) {
          for (const value of hostile) {
            requests++;
            const sent = JSON.stringify(mutate(body, { op: 'replace', at: at + 1, key: '', value }));
            const res = await request(system.apps[app])[route.method.toLowerCase() as 'post'](url).set('authorization', owner.auth).set('x-organization-id', ids.orgId).set('content-type', 'application/json').send(sent);
            if (app === 'music-faker') {
              fakerStateOf(system.apps['music-faker']).clearFaults();
              fakerStateOf(system.apps['music-faker']).setWebhookConfig({ create: [], remove: [] });
            }
            if (res.status >= 500 || (res.status >= 400 && typeof res.body?.error?.code !== 'string')) failures.push(`${app} ${route.method} ${url} ${sent.slice(0, 200)} -> ${res.status} ${res.text.slice(0, 200)}`);
          }
        }
      }
    }
    process.stderr.write(`[fuzz] systematic: ${requests} requests, ${failures.length} failing\n`);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(500);
  });

  it('leaves every app serving afterwards', async () => {
    for (const app of APP_NAMES) expect((await request(system.apps[app]).get('/health/live')).status).toBe(200);
    expect((await request(system.apps['music-config']).get('/organization').set('authorization', owner.auth)).status).toBe(200);
  });
});
