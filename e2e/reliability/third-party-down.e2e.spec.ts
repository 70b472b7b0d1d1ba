import type { Server } from 'node:http';
import request from 'supertest';
import { closeServer, createLogger, listen } from '@music/platform';
import { eventually } from '@music/testing';
import { createFakerApp, loadFakerConfig } from '../../apps/music-faker/src/app';
import { InProcessSystem, type User } from '../security/in-process-system';

// The third party down for a while, three ways: its port refusing connections, answering 500, and
// answering slower than OUTBOUND_TIMEOUT_MS. Meanwhile local changes are made and the third party
// gets new songs. Deliveries must retry on their backoff schedule and land once it is back; the
// scheduled polls during the outage must fail cleanly (a failed run saying why, nothing written or
// deleted) and the next scheduled poll after it must succeed; then both sides hold the same songs.

jest.setTimeout(120_000);

const BACKOFF_BASE_MS = 300;
const OUTAGE_MS = 3000;

type Outage = 'connection refused' | 'HTTP 500' | 'slower than the timeout';
const CAUSE: Record<Outage, RegExp> = {
  'connection refused': /ECONNREFUSED/,
  'HTTP 500': /500/,
  'slower than the timeout': /timeout/,
};

describe('the third party down for a while', () => {
  let system: InProcessSystem;
  let owner: User;
  let orgId: string;
  let fakerServer: Server;
  let port: number;

  beforeAll(async () => {
    system = await InProcessSystem.open({
      env: {
        // A polling "minute" of 1.5 s; each poll and delivery attempt gives up after 1 s.
        POLL_MINUTE_MS: '1500',
        OUTBOUND_TIMEOUT_MS: '1000',
        DELIVERY_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS),
        DELIVERY_ATTEMPTS: '12',
        POLL_ATTEMPTS: '1',
      },
    });
    fakerServer = system.faker.server;
    port = (fakerServer.address() as { port: number }).port;
    owner = await system.user('outage');
    system.faker.state.generate(3);
    const org = await system.organization(owner, { polling: [{ endpoint: `${system.faker.baseUrl}/music`, interval: 1, type: 'minute' }] });
    orgId = org.id;
    await eventually(async () => agreed(), 'the first scheduled polls', 20_000, 200);
  });
  afterAll(async () => {
    // The faker server reopened after the refused-connection outage is ours to close.
    if (fakerServer && fakerServer !== system?.faker.server) {
      fakerServer.closeAllConnections();
      await closeServer(fakerServer);
    }
    await system?.close();
  });

  /** Inventory and third party hold the same songs, nothing pending. */
  async function agreed(): Promise<boolean> {
    const res = await request(system.apps['music-inventory']).get(`/inventory/organization/${orgId}?limit=200`).set('authorization', owner.auth);
    const ours = (res.body.items as Array<Record<string, unknown>>).map((i) => `${String(i['externalId'])}|${String(i['name'])}|${String(i['artist'])}|${String(i['album'])}`).sort();
    const theirs = system.faker.state.list().map((s) => `${s.id}|${s['name']}|${s['artist']}|${s['album']}`).sort();
    const pending = (res.body.items as Array<{ sync: { pending: boolean } }>).some((i) => i.sync.pending);
    return !pending && JSON.stringify(ours) === JSON.stringify(theirs);
  }

  async function runs(): Promise<Array<Record<string, any>>> {
    return (await request(system.apps['music-integration']).get(`/organization/${orgId}/sync-runs?limit=200`).set('authorization', owner.auth)).body.items;
  }

  async function startOutage(kind: Outage): Promise<void> {
    if (kind === 'connection refused') {
      fakerServer.closeAllConnections();
      await closeServer(fakerServer);
    } else if (kind === 'HTTP 500') {
      system.faker.state.setFaults({ target: 'all', remaining: null, status: 500, delayMs: 0, retryAfterSeconds: null });
    } else {
      system.faker.state.setFaults({ target: 'all', remaining: null, status: null, delayMs: 1500, retryAfterSeconds: null });
    }
  }

  async function endOutage(kind: Outage): Promise<void> {
    if (kind === 'connection refused') {
      fakerServer = await listen(createFakerApp({ config: loadFakerConfig({ NODE_ENV: 'test' }), logger: createLogger({ service: 'faker', silent: true }), state: system.faker.state }), port, '127.0.0.1');
    } else {
      system.faker.state.clearFaults();
    }
  }

  it.each<Outage>(['connection refused', 'HTTP 500', 'slower than the timeout'])('%s: deliveries retry on schedule and land, polls fail cleanly and the next scheduled one succeeds', async (kind) => {
    const itemsBefore = (await request(system.apps['music-inventory']).get(`/inventory/organization/${orgId}?limit=200`).set('authorization', owner.auth)).body.items.length as number;
    const outageStarted = new Date();
    await startOutage(kind);

    // During the outage: local changes, and new songs at the third party.
    const tag = kind.split(' ')[0] as string;
    const local = [`${tag}-a`, `${tag}-b`, `${tag}-c`];
    for (const id of local) {
      const res = await request(system.apps['music-inventory']).post('/inventory').set('authorization', owner.auth).set('x-organization-id', orgId).send({ externalId: id, name: `Made during ${kind}`, artist: 'Us', album: 'Outage' });
      expect(res.status).toBe(201);
    }
    system.faker.state.generate(2);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));

    // Polls during the outage failed cleanly, saying why, and wrote and deleted nothing.
    const failedRuns = (await runs()).filter((r) => new Date(r.queuedAt) >= outageStarted && r.status === 'failed');
    expect(failedRuns.length).toBeGreaterThanOrEqual(1);
    for (const run of failedRuns) {
      expect(run.trigger).toBe('schedule');
      expect(run.message).toMatch(CAUSE[kind]);
      expect(run.counts).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    }
    const during = (await request(system.apps['music-inventory']).get(`/inventory/organization/${orgId}?limit=200`).set('authorization', owner.auth)).body.items.length as number;
    expect(during).toBe(itemsBefore + local.length);

    const recovered = new Date();
    await endOutage(kind);
    await eventually(async () => agreed(), 'both sides to agree after the outage', 30_000, 200);

    // The next scheduled poll after the outage succeeded.
    const after = (await runs()).filter((r) => new Date(r.queuedAt) >= recovered);
    expect(after.some((r) => r.trigger === 'schedule' && r.status === 'succeeded')).toBe(true);
    // Each delivery failed while the third party was down, then landed; its attempts were spaced
    // at least as the backoff says (base doubling each time, -20% jitter at most).
    const deliveries = (await request(system.apps['music-integration']).get(`/organization/${orgId}/deliveries?limit=200`).set('authorization', owner.auth)).body.items as Array<Record<string, any>>;
    const ours = deliveries.filter((d) => local.includes(d.externalId));
    expect(ours).toHaveLength(local.length);
    for (const d of ours) {
      expect(d.status).toBe('succeeded');
      expect(d.attempts).toBeGreaterThanOrEqual(3);
      const attempts = d.lastAttempts as Array<{ at: string; statusCode: number | null; error: string | null }>;
      expect(attempts[attempts.length - 1]?.statusCode).toBe(200);
      for (const failed of attempts.slice(0, -1)) expect(`${failed.statusCode ?? ''} ${failed.error ?? ''}`).toMatch(CAUSE[kind]);
      for (let k = 1; k < attempts.length; k++) {
        const gap = Date.parse((attempts[k] as { at: string }).at) - Date.parse((attempts[k - 1] as { at: string }).at);
        expect(gap).toBeGreaterThanOrEqual(Math.floor(0.8 * BACKOFF_BASE_MS * 2 ** (k - 1)));
      }
    }
    // Exactly once in effect at the third party.
    const applied = system.faker.state.received.filter((r) => r.outcome === 'applied' && local.some((id) => JSON.stringify(r.body).includes(`"${id}"`)));
    expect(new Set(applied.map((r) => r.webhookId)).size).toBe(local.length);
    expect(applied).toHaveLength(local.length);
  });
});
