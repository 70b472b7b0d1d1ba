import { createLogger, RedisLocks } from '@music/platform';
import { createSyncState } from '@music/sync-state';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { FanoutPublisher } from '../../apps/music-inventory/src/fanout-publisher';
import { Child } from '../children';
import { benchOrganization, openScope, percentile, round, type BenchContext } from '../context';
import { nowMs } from '@music/testing';
import { localItemData } from '../records';
import { pollBreakdown } from './ingest';

const SECRET = 'whsec_YmVuY2htYXJrLXNlY3JldC1rZXktMzItYnl0ZXMhIQ==';
/** The outbound timeout of the run, and how long organization A's third party takes to answer (just under it). */
const TIMEOUT_MS = 2000;
const SLOW_MS = 1800;
/** How long after A's backlog was written B's changes start (its sends under way, its waiting jobs in line). */
const SETTLE_MS = 5000;

const WARM_UP = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Runs `count` async tasks, `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

interface Stage {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  delivered: number;
  /** A's deliveries that arrived while B's were measured (with A only). */
  slowDelivered?: number;
  details: Record<string, unknown>;
}

/**
 * Organization B's changes, `rate`/s, through one integration worker process (default caps,
 * OUTPUT_CONCURRENCY as the other parts), latency from the change's write and fan-out enqueue to
 * its arrival at B's third party. Organization A writes `backlog` changes first: `slow`, its third
 * party answers each in SLOW_MS (the outbound timeout is TIMEOUT_MS) and they are still pending when
 * B's start; otherwise they are delivered (at once) before B's start.
 */
async function measureB(ctx: BenchContext, backlog: number, slow: boolean): Promise<Stage> {
  const part = slow ? 'fairnessa' : 'fairnessb';
  const scope = await openScope(ctx, part);
  const tagA = `fairness-a-${ctx.runId}`;
  const tagB = `fairness-b-${ctx.runId}-${slow ? 'beside' : 'alone'}`;
  const queue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: scope.redis, prefix: scope.prefix });
  let child: Child | undefined;
  try {
    const orgB = await benchOrganization(scope, 'owner-b', { deliverTo: ctx.thirdParty.count(tagB).url, secret: SECRET });
    const local = createSyncState({ models: scope.store.models, locks: new RedisLocks(scope.redis, { prefix: scope.prefix }) }).local;
    const publisher = new FanoutPublisher(queue, createLogger({ service: 'bench', level: 'warn', format: 'json' }));
    ({ child } = await Child.start('engine', scope.childSettings({ appEnv: { OUTPUT_CONCURRENCY: String(ctx.options.outputConcurrency), OUTBOUND_TIMEOUT_MS: String(TIMEOUT_MS) } })));
    // Warm-up of B's path (not measured): connections, JIT, the organization's cached copy.
    for (let i = 0; i < WARM_UP; i++) {
      const outcome = await local.create(orgB, { externalId: `warm-${i}`, data: localItemData(i) });
      if (outcome.kind !== 'created' || !(await publisher.publish(outcome.item))) throw new Error('warm-up write failed');
    }
    await ctx.thirdParty.count(tagB).waitFor(WARM_UP, 60_000);
    if (backlog > 0) {
      const orgA = await benchOrganization(scope, 'owner-a', { deliverTo: ctx.thirdParty.count(tagA).url, secret: SECRET });
      if (slow) ctx.thirdParty.pathDelaysMs.set(`/sync/${tagA}`, SLOW_MS);
      // Written as fast as the store takes them, with the worker running: the backlog builds up as
      // it would in service (each change's job queued as it is written).
      ctx.log(
        slow
          ? `fairness: ${backlog} changes pending for organization A (its third party answers in ${SLOW_MS} ms, timeout ${TIMEOUT_MS} ms)`
          : `fairness: ${backlog} changes of organization A, delivered at once (the store then holds what it holds beside A)`,
      );
      await pool(backlog, 16, async (i) => {
        const outcome = await local.create(orgA, { externalId: `a-${i}`, data: localItemData(i) });
        if (outcome.kind !== 'created') throw new Error(`createLocal: ${outcome.kind}`);
        if (!(await publisher.publish(outcome.item))) throw new Error('fanout enqueue failed');
      });
    }
    if (backlog > 0 && !slow) await ctx.thirdParty.count(tagA).waitFor(backlog, 300_000);
    if (backlog > 0) await sleep(SETTLE_MS);
    child.send({ type: 'profile-reset' });
    await child.next('profile', 10_000);

    const n = ctx.options.fairnessChanges;
    const rate = ctx.options.fairnessRate;
    ctx.log(`fairness: organization B, ${n} changes at ${rate}/s${slow ? ' beside A' : ' alone'}`);
    const written = new Map<string, number>();
    const slowBefore = ctx.thirdParty.count(tagA).distinct;
    const t0 = nowMs();
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < n; i++) {
      await sleep(t0 + (i * 1000) / rate - nowMs());
      writes.push(
        (async () => {
          const outcome = await local.create(orgB, { externalId: `b-${i}`, data: localItemData(i) });
          if (outcome.kind !== 'created') throw new Error(`createLocal: ${outcome.kind}`);
          if (!(await publisher.publish(outcome.item))) throw new Error('fanout enqueue failed');
          written.set(`b-${i}`, nowMs());
        })(),
      );
    }
    await Promise.all(writes);
    await ctx.thirdParty.count(tagB).waitFor(WARM_UP + n, 120_000);
    const slowDelivered = ctx.thirdParty.count(tagA).distinct - slowBefore;
    const arrivals = ctx.thirdParty.count(tagB).arrivals;
    const inOrder = [...written].sort((a, b) => a[1] - b[1]).map(([id, at]) => round((arrivals.get(id) ?? Infinity) - at, 0));
    const latencies = [...inOrder].sort((a, b) => a - b);
    const stopped = await child.stop();
    child = undefined;
    const { distinct, duplicates } = ctx.thirdParty.count(tagB);
    const received = { distinct: distinct - WARM_UP, duplicates };
    return {
      p50Ms: round(percentile(latencies, 50), 1),
      p99Ms: round(percentile(latencies, 99), 1),
      maxMs: round(latencies[latencies.length - 1] ?? NaN, 1),
      delivered: received.distinct,
      ...(slow ? { slowDelivered } : {}),
      details: { received, latenciesInOrderMs: inOrder, ...(stopped ? { process: pollBreakdown(stopped.profile) } : {}) },
    };
  } finally {
    await child?.stop().catch(() => undefined);
    ctx.thirdParty.pathDelaysMs.delete(`/sync/${tagA}`);
    ctx.thirdParty.forgetCount(tagA);
    ctx.thirdParty.forgetCount(tagB);
    await queue.close();
    await scope.close();
  }
}

/**
 * Part 7 (fairness): organization B's deliveries beside organization A, whose third party answers
 * just under the outbound timeout with a backlog of changes pending, against B alone. `ratio`: B's
 * p99 beside A over B's p99 alone (target <= 2).
 */
export async function runFairness(ctx: BenchContext): Promise<{ fairness: Record<string, unknown>; details: Record<string, unknown> }> {
  // B alone: no organization A at all. (On a store whose lookups scan the collection, A's 1,000 items
  // slow every lookup of B's by themselves; the details hold the store time per command of each stage.)
  const alone = await measureB(ctx, 0, false);
  const beside = await measureB(ctx, ctx.options.fairnessBacklog, true);
  ctx.log(`fairness: B p99 ${alone.p99Ms} ms alone, ${beside.p99Ms} ms beside A`);
  return {
    fairness: {
      ratio: round(beside.p99Ms / alone.p99Ms, 2),
      p99MsAlone: alone.p99Ms,
      p99MsBesideSlow: beside.p99Ms,
      p50MsAlone: alone.p50Ms,
      p50MsBesideSlow: beside.p50Ms,
      changes: ctx.options.fairnessChanges,
      ratePerSec: ctx.options.fairnessRate,
      slowBacklog: ctx.options.fairnessBacklog,
      slowAnswerMs: SLOW_MS,
      outboundTimeoutMs: TIMEOUT_MS,
      slowDeliveredMeanwhile: beside.slowDelivered ?? 0,
    },
    details: { alone: { ...alone.details, maxMs: alone.maxMs }, besideSlow: { ...beside.details, maxMs: beside.maxMs } },
  };
}
