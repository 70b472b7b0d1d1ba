import { writeFileSync } from 'node:fs';
import { call } from '../reliability/http-client';
import { StackWorld } from '../reliability/stack-world';

// Load on loopback, bounded in count and time: LOAD_CLIENTS concurrent clients each create
// LOAD_ITEMS_PER_CLIENT items through the inventory API while the faker generates
// LOAD_FAKER_BATCHES x LOAD_FAKER_BATCH songs and scheduled polls run every LOAD_POLL_MINUTE_MS
// (paged, LOAD_PAGE_SIZE a page). Afterwards the inventory and the faker must hold exactly the same
// songs, every create must have been accepted, and every local item delivered exactly once in
// effect. The default size runs in `npm test`; scripts/load-test.sh runs a bigger one and keeps
// the report (LOAD_REPORT).

const env = process.env;
const num = (name: string, fallback: number): number => Number(env[name] ?? fallback);
const CLIENTS = num('LOAD_CLIENTS', 6);
const ITEMS_PER_CLIENT = num('LOAD_ITEMS_PER_CLIENT', 15);
const FAKER_BATCHES = num('LOAD_FAKER_BATCHES', 6);
const FAKER_BATCH = num('LOAD_FAKER_BATCH', 15);
const POLL_MINUTE_MS = num('LOAD_POLL_MINUTE_MS', 1000);
const PAGE_SIZE = num('LOAD_PAGE_SIZE', 50);
const CONVERGE_TIMEOUT_MS = num('LOAD_CONVERGE_TIMEOUT_MS', 60_000);
const REPORT = env['LOAD_REPORT'];

jest.setTimeout(CONVERGE_TIMEOUT_MS + 10 * 60_000);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

describe('load: concurrent clients and a busy third party, polls running', () => {
  let world: StackWorld;
  beforeAll(async () => {
    world = await StackWorld.open({ env: { POLL_MINUTE_MS: String(POLL_MINUTE_MS), SWEEP_INTERVAL_MS: '2000', OUTBOX_GRACE_MS: '5000', LOG_LEVEL: 'error' } });
    await world.signIn();
    await world.createOrganization({ interval: 1, type: 'minute', pagination: { type: 'page', limit: PAGE_SIZE } });
  });
  afterAll(async () => world?.close());

  it(`${CLIENTS} clients x ${ITEMS_PER_CLIENT} items and ${FAKER_BATCHES} x ${FAKER_BATCH} faker songs: both sides agree exactly, nothing lost`, async () => {
    const latencies: number[] = [];
    const failures: string[] = [];
    const started = Date.now();

    const client = async (c: number): Promise<void> => {
      for (let i = 0; i < ITEMS_PER_CLIENT; i++) {
        const t = Date.now();
        const res = await world.createItem(`load-${c}-${i}`);
        latencies.push(Date.now() - t);
        if (res.status !== 201) failures.push(`load-${c}-${i}: ${res.status} ${res.text.slice(0, 120)}`);
      }
    };
    const faker = async (): Promise<void> => {
      for (let b = 0; b < FAKER_BATCHES; b++) {
        const res = await call('POST', `${world.url('music-faker')}/music/generate`, { count: FAKER_BATCH });
        if (res.status !== 201) failures.push(`faker batch ${b}: ${res.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await Promise.all([...Array.from({ length: CLIENTS }, (_, c) => client(c)), faker()]);
    const loadMs = Date.now() - started;

    const songs = await world.waitAgreed('the inventory and the faker to agree exactly', CONVERGE_TIMEOUT_MS);
    const convergedMs = Date.now() - started;
    const received = await world.received();
    const applied = received.deliveries.filter((d) => d.outcome === 'applied');
    const creates = CLIENTS * ITEMS_PER_CLIENT;
    const generated = FAKER_BATCHES * FAKER_BATCH;
    const local = [...songs.keys()].filter((id) => id.startsWith('load-'));
    const sorted = [...latencies].sort((a, b) => a - b);
    const report = {
      clients: CLIENTS,
      creates,
      fakerSongs: generated,
      pageSize: PAGE_SIZE,
      pollEveryMs: POLL_MINUTE_MS,
      loadSeconds: loadMs / 1000,
      createsPerSecond: Math.round((creates / loadMs) * 1000 * 10) / 10,
      createLatencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] ?? 0 },
      convergedSeconds: convergedMs / 1000,
      songsOnBothSides: songs.size,
      deliveriesApplied: applied.length,
      deliveriesReceived: received.total,
      duplicatesIgnored: received.duplicates,
      failures: failures.length,
      lost: creates + generated - songs.size,
    };
    process.stderr.write(`[load] ${JSON.stringify(report)}\n`);
    if (REPORT) writeFileSync(REPORT, JSON.stringify(report, null, 2));

    expect(failures).toEqual([]);
    expect(songs.size).toBe(creates + generated);
    expect(local).toHaveLength(creates);
    expect(new Set(applied.map((d) => d.webhookId)).size).toBe(creates);
    expect(applied).toHaveLength(creates);
    expect(report.lost).toBe(0);
  });
});
