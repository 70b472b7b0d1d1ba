import type { AppName } from '../stack-processes';
import { call } from './http-client';
import { eventually, PrivateServer } from '@music/testing';
import { FAST_RECOVERY, StackWorld } from './stack-world';

// Redis and the store each SIGKILLed and restarted under traffic, with the five apps as processes
// pointed at a Redis and a FerretDB of this test's own. Redis has no persistence (like the local
// stack's): it comes back empty, without a queued job, a job scheduler, a lease or a counter. The
// apps must reconnect by themselves, readiness must report each outage and the recovery, and every
// change the API accepted (201) must end at the third party exactly once, with every song the
// third party got meanwhile polled in: both sides agree, nothing lost.

jest.setTimeout(150_000);

const READY_APPS: AppName[] = ['music-config', 'music-auth', 'music-inventory', 'music-integration'];

/** One client creating items one after another, and the faker getting new songs now and then. */
class Traffic {
  readonly accepted: string[] = [];
  refused = 0;
  /** How refused writes were answered (0: no answer before the client's timeout). */
  readonly refusedStatuses: number[] = [];
  generated = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  constructor(private readonly world: StackWorld) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      for (let n = 0; this.running; n++) {
        const id = `traffic-${n}`;
        const res = await call('POST', `${this.world.url('music-inventory')}/inventory`, { externalId: id, name: `Song ${n}`, artist: 'Traffic', album: 'Load' }, { ...this.world.auth, 'x-organization-id': this.world.orgId }, 8000);
        if (res.status === 201) this.accepted.push(id);
        else {
          this.refused++;
          this.refusedStatuses.push(res.status);
        }
        if (n % 10 === 0) {
          const generated = await call('POST', `${this.world.url('music-faker')}/music/generate`, { count: 2 });
          if (generated.status === 201) this.generated += 2;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

async function readiness(world: StackWorld): Promise<Record<string, { status: number; checks: Record<string, string> }>> {
  const out: Record<string, { status: number; checks: Record<string, string> }> = {};
  for (const app of READY_APPS) {
    const res = await call('GET', `${world.url(app)}/health/ready`, undefined, {}, 5000);
    out[app] = { status: res.status, checks: res.body.checks ?? {} };
  }
  return out;
}

/** Waits until every app's readiness says `status`, with `check` down (503) or everything up (200). */
async function waitReadiness(world: StackWorld, status: 200 | 503, check?: 'redis' | 'mongo'): Promise<void> {
  await eventually(
    async () => {
      const all = await readiness(world);
      return Object.values(all).every((r) => r.status === status && (status === 200 ? Object.values(r.checks).every((c) => c === 'up') : r.checks[check as string]?.startsWith('down')));
    },
    `readiness ${status}${check ? ` with ${check} down` : ''} on every app`,
    30_000,
    250,
  );
}

describe('Redis and the store restarted during traffic', () => {
  let redis: PrivateServer;
  let store: PrivateServer;
  let world: StackWorld;

  beforeAll(async () => {
    redis = await PrivateServer.redis();
    store = await PrivateServer.ferretdb();
    world = await StackWorld.open({
      env: {
        ...FAST_RECOVERY,
        REDIS_URL: redis.url,
        MONGO_URL: store.url,
        MONGO_DB: 'restarts',
        QUEUE_PREFIX: 'restarts',
        AUTH_RATE_LIMIT_PREFIX: 'restarts:rate-limit',
        // A polling "minute" of 2 s; quick sweeps and retries.
        POLL_MINUTE_MS: '2000',
        SWEEP_INTERVAL_MS: '1000',
        OUTBOX_GRACE_MS: '1500',
        RECONCILE_INTERVAL_MS: '5000',
        DELIVERY_BACKOFF_BASE_MS: '200',
        DELIVERY_BACKOFF_MAX_MS: '2000',
        DELIVERY_ATTEMPTS: '30',
        OUTBOUND_TIMEOUT_MS: '3000',
      },
    });
    await world.signIn();
    await world.createOrganization({ interval: 1, type: 'minute' });
  });

  afterAll(async () => {
    await world?.close();
    await redis?.stop();
    await store?.stop();
  });

  it('the apps reconnect by themselves, readiness reports each outage, and every accepted change is delivered', async () => {
    await waitReadiness(world, 200);
    const traffic = new Traffic(world);
    let duringRedisOutage: number;
    traffic.start();
    try {
      await eventually(async () => traffic.accepted.length >= 5, 'traffic before the outages');

      // Redis: killed, then back empty.
      await redis.kill();
      const beforeRedisBack = traffic.accepted.length;
      await waitReadiness(world, 503, 'redis');
      // Local changes are still accepted (the outbox keeps them; the enqueue fails fast).
      await eventually(async () => traffic.accepted.length >= beforeRedisBack + 3, 'changes accepted while Redis is down', 20_000);
      await redis.start();
      duringRedisOutage = traffic.accepted.length - beforeRedisBack;
      await waitReadiness(world, 200);
      await eventually(async () => traffic.accepted.length >= beforeRedisBack + 6, 'traffic after Redis came back', 20_000);

      // The store: killed, then back with its data.
      const refusedBeforeStoreKill = traffic.refusedStatuses.length;
      await store.kill();
      await waitReadiness(world, 503, 'mongo');
      // Down long enough that writes fail (answered 5xx, or not before the client's 3 s timeout).
      const refusedBefore = traffic.refused;
      await eventually(async () => traffic.refused > refusedBefore, 'a write refused while the store is down', 20_000);
      // Refused as an outage (503, retry later), not as a bug (500).
      const unexpected = traffic.refusedStatuses.slice(refusedBeforeStoreKill).filter((s) => s !== 503 && s !== 0);
      if (unexpected.length > 0) {
        const errors = Object.values(world.stack.apps).flatMap((a) => a.output.join('').split('\n').filter((l) => l.includes('unhandled error')));
        throw new Error(`writes answered ${unexpected.join(', ')} while the store was down:\n${errors.join('\n')}`);
      }
      await store.start();
      await waitReadiness(world, 200);
      const afterStore = traffic.accepted.length;
      await eventually(async () => traffic.accepted.length >= afterStore + 3, 'traffic after the store came back', 20_000);
    } finally {
      await traffic.stop();
    }

    const songs = await world.waitAgreed('every accepted change at the third party and every new song polled in', 60_000);
    const unhandled = Object.values(world.stack.apps).flatMap((a) => a.output.join('').split('\n').filter((l) => l.includes('unhandled error')));
    if (unhandled.length > 0) process.stderr.write(`[restarts] unhandled errors outside the store outage:\n${unhandled.join('\n')}\n`);
    process.stderr.write(`[restarts] ${traffic.accepted.length} changes accepted (${duringRedisOutage} while Redis was down), ${traffic.refused} refused or timed out (statuses ${traffic.refusedStatuses.join(',')}), ${traffic.generated} songs generated at the third party; lost: 0\n`);
    // Nothing accepted was lost, and the third party's new songs all arrived.
    for (const id of traffic.accepted) expect(songs.has(id)).toBe(true);
    const fromFaker = [...songs.keys()].filter((id) => !id.startsWith('traffic-'));
    expect(fromFaker).toHaveLength(traffic.generated);
    // Exactly once in effect at the third party: one applied delivery per local item.
    const local = [...songs.keys()].filter((id) => id.startsWith('traffic-'));
    const applied = (await world.received()).deliveries.filter((d) => d.outcome === 'applied');
    expect(new Set(applied.map((d) => d.webhookId)).size).toBe(local.length);
    expect(applied).toHaveLength(local.length);
    expect(await world.deliveries('failed')).toHaveLength(0);
  });
});
