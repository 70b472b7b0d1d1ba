import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { compileMapping } from '@music/mapping';
import { signAccessToken, tokenIssuingFrom } from '@music/platform';
import { DEFAULT_JOB_OPTIONS } from '@music/queue';
import { Child } from '../children';
import { benchOrganization, oneOrganizationEnv, openScope, percentile, round, type BenchContext } from '../context';
import { nowMs } from '@music/testing';
import { RAW_DELIVER_QUEUE } from '../protocol';
import { BENCH_MAPPINGS, BENCH_TRANSFORMS, localItemData } from '../records';
import { pollBreakdown } from './ingest';

const SECRET = 'whsec_YmVuY2htYXJrLXNlY3JldC1rZXktMzItYnl0ZXMhIQ==';

function post(agent: Agent, url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Rates tried between the low rate and the steady one (changes/s), for the highest rate sustained with p99 under a second. */
const LADDER = [50, 100];

/**
 * The bare BullMQ worker of the delivery part's raw limit (same concurrency, same signed bodies),
 * fed `rate` jobs/s for `secs` s: its latency from each job's enqueue to the body's arrival.
 */
async function rawLatency(ctx: BenchContext, rate: number, secs: number): Promise<{ p50Ms: number; p99Ms: number; changes: number }> {
  const scope = await openScope(ctx, 'latencyraw');
  const tag = `latency-raw-${ctx.runId}`;
  const queue = new Queue(RAW_DELIVER_QUEUE, { connection: scope.redis, prefix: scope.prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
  let child: Child | undefined;
  try {
    ({ child } = await Child.start('raw-deliver', scope.childSettings({ extraEnv: { BENCH_CONCURRENCY: String(ctx.options.outputConcurrency), BENCH_DURABLE: '0' } })));
    const mapping = compileMapping(BENCH_MAPPINGS as never, BENCH_TRANSFORMS as never);
    const url = ctx.thirdParty.count(tag).url;
    const total = Math.max(1, Math.round(rate * secs));
    const added = new Map<string, number>();
    ctx.log(`latency: the bare worker at ${rate} jobs/s for ${secs} s`);
    const t0 = nowMs();
    for (let i = 0; i < total; i++) {
      await sleep(t0 + (i * 1000) / rate - nowMs());
      const externalId = `raw-${i}`;
      const body = JSON.stringify(mapping.toRecord({ externalId, data: localItemData(i) }));
      await queue.add('deliver', { url, id: externalId, body, secret: SECRET });
      added.set(externalId, nowMs());
    }
    await ctx.thirdParty.count(tag).waitFor(total, 60_000);
    const arrivals = ctx.thirdParty.count(tag).arrivals;
    const latencies = [...added].map(([id, at]) => (arrivals.get(id) ?? Infinity) - at).sort((a, b) => a - b);
    ctx.thirdParty.forgetCount(tag);
    return { p50Ms: round(percentile(latencies, 50), 1), p99Ms: round(percentile(latencies, 99), 1), changes: total };
  } finally {
    await child?.stop().catch(() => undefined);
    await queue.close();
    await scope.close();
  }
}

/**
 * Part 4: the inventory API (its own process) takes `rate` creates/s for `seconds` s, open loop
 * (each request leaves on schedule whatever the previous ones do); one integration worker process
 * delivers them. Latency: from the API's 201 reaching the client to the receiver getting the
 * delivery, per item.
 */
export async function runLatency(ctx: BenchContext): Promise<{ latency: Record<string, unknown>; details: Record<string, unknown> }> {
  const { latencyRate: rate, latencySeconds: seconds } = ctx.options;
  const scope = await openScope(ctx, 'latency');
  const tag = `latency-${ctx.runId}`;
  const children: Child[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  try {
    const userId = 'bench-user';
    await scope.store.models.users.create({ _id: userId, email: 'bench@bench.invalid', passwordHash: 'unused', createdAt: new Date() });
    const issuing = tokenIssuingFrom({ NODE_ENV: 'production', JWT_PRIVATE_KEY: ctx.keys.jwtPrivateKey, JWT_ISSUER: 'music-auth', JWT_AUDIENCE: 'music-sync', JWT_EXPIRES_IN_SECONDS: 3600 });
    const token = signAccessToken({ id: userId, email: 'bench@bench.invalid' }, issuing).token;
    const org = await benchOrganization(scope, userId, { deliverTo: ctx.thirdParty.count(tag).url, secret: SECRET });

    const [inventory, engine] = await Promise.all([Child.start('inventory', scope.childSettings()), Child.start('engine', scope.childSettings({ appEnv: oneOrganizationEnv(ctx) }))]);
    children.push(inventory.child, engine.child);
    const url = `http://127.0.0.1:${inventory.ready.port}/inventory`;
    const headers = { authorization: `Bearer ${token}`, 'x-organization-id': org.id };

    /** What one stage saw: 201 times by externalId, API response times, failures. */
    interface Sink {
      created: Map<string, number>;
      apiMs: number[];
      failures: number;
    }
    const newSink = (): Sink => ({ created: new Map(), apiMs: [], failures: 0 });
    const fire = async (sink: Sink, externalId: string, i: number): Promise<void> => {
      const sent = nowMs();
      try {
        const status = await post(agent, url, headers, JSON.stringify({ externalId, ...localItemData(i) }));
        const at = nowMs();
        if (status === 201) {
          sink.created.set(externalId, at);
          sink.apiMs.push(at - sent);
        } else sink.failures++;
      } catch {
        sink.failures++;
      }
    };

    // Warm-up (not measured): connections, JIT, the first documents of each collection.
    ctx.log('latency: warm-up');
    const warm = newSink();
    for (let i = 0; i < 50; i++) await fire(warm, `warm-${i}`, i);
    await ctx.thirdParty.count(tag).waitFor(warm.created.size, 60_000);

    const budgetMs = ctx.options.latencyDrainSec * 1000;
    /**
     * One open-loop stage: `rate` creates/s for `secs` s, then up to the drain budget for the 201s
     * and the deliveries. A change without both by then is censored: its latency is at least the
     * budget, and a percentile that falls on it is reported as that lower bound.
     */
    const stage = async (name: string, stageRate: number, secs: number) => {
      const sink = newSink();
      const total = Math.max(1, Math.round(stageRate * secs));
      const before = ctx.thirdParty.count(tag).distinct;
      ctx.log(`latency: ${stageRate} creates/s for ${secs} s through the inventory API (${name})`);
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const inflight: Array<Promise<void>> = [];
      const t0 = nowMs();
      for (let i = 0; i < total; i++) {
        await sleep(t0 + (i * 1000) / stageRate - nowMs());
        inflight.push(fire(sink, `${name}-${i}`, i));
      }
      const lastSent = nowMs();
      const sendSeconds = (lastSent - t0) / 1000;
      await Promise.race([Promise.all(inflight), sleep(lastSent + budgetMs - nowMs())]);
      const answered = sink.created.size + sink.failures;
      await ctx.thirdParty.count(tag).waitFor(before + sink.created.size, Math.max(1, lastSent + budgetMs - nowMs())).catch(() => undefined);
      loop.disable();
      const arrivals = ctx.thirdParty.count(tag).arrivals;
      const latencies: number[] = [];
      for (const [externalId, at201] of sink.created) {
        const arrived = arrivals.get(externalId);
        if (arrived !== undefined) latencies.push(arrived - at201);
      }
      latencies.sort((a, b) => a - b);
      const incomplete = total - latencies.length;
      const samples = [...latencies, ...new Array<number>(incomplete).fill(Infinity)];
      const lowerBounds: string[] = [];
      const at = (p: number, key: string): number => {
        const v = percentile(samples, p);
        if (Number.isFinite(v)) return round(v, 1);
        lowerBounds.push(key);
        return budgetMs;
      };
      sink.apiMs.sort((a, b) => a - b);
      const figures = {
        p50Ms: at(50, 'p50Ms'),
        p95Ms: at(95, 'p95Ms'),
        p99Ms: at(99, 'p99Ms'),
        ...(lowerBounds.length > 0 ? { lowerBounds } : {}),
        maxMs: incomplete > 0 ? budgetMs : round(latencies[latencies.length - 1] ?? NaN, 1),
        changes: total,
        incomplete,
        ratePerSec: round(total / sendSeconds, 1),
      };
      const shown = (key: 'p50Ms' | 'p95Ms' | 'p99Ms'): string => `${lowerBounds.includes(key) ? '>= ' : ''}${figures[key]}`;
      ctx.log(`latency (${name}): p50 ${shown('p50Ms')} ms, p95 ${shown('p95Ms')} ms, p99 ${shown('p99Ms')} ms${incomplete ? ` (${incomplete} of ${total} not delivered within ${budgetMs / 1000} s of the last send)` : ''}`);
      return {
        figures,
        details: {
          requested: total,
          answered201: sink.created.size,
          apiFailures: sink.failures,
          unansweredAtBudget: total - answered,
          api201Ms: { p50: round(percentile(sink.apiMs, 50), 1), p99: round(percentile(sink.apiMs, 99), 1) },
          // Lateness of this (measuring) process's own event loop: a bound on measurement error.
          benchEventLoopDelayMs: { p50: round(loop.percentile(50) / 1e6, 1), p99: round(loop.percentile(99) / 1e6, 1), max: round(loop.max / 1e6, 1) },
        },
      };
    };

    // The processes' profiles cover the measured stages only.
    for (const c of [inventory.child, engine.child]) c.send({ type: 'profile-reset' });
    await Promise.all([inventory.child.next('profile', 10_000), engine.child.next('profile', 10_000)]);
    // First at a rate this machine sustains with room to spare (the latency without queueing),
    // then the steady rate of the target, which may leave a backlog behind.
    const low = ctx.options.latencyLowRate > 0 ? await stage('low', ctx.options.latencyLowRate, Math.min(seconds, 10)) : null;
    // Rates between the two, while p99 stays under a second: the highest rate sustained so.
    const ladder: Array<{ ratePerSec: number; p99Ms: number; incomplete: number }> = [];
    if (low) ladder.push({ ratePerSec: ctx.options.latencyLowRate, p99Ms: low.figures.p99Ms, incomplete: low.figures.incomplete });
    for (const r of LADDER.filter((r) => r > ctx.options.latencyLowRate && r < rate)) {
      if (ladder.length > 0 && (ladder[ladder.length - 1] as { p99Ms: number }).p99Ms >= 1000) break;
      const step = await stage(`rate-${r}`, r, Math.min(seconds, 10));
      ladder.push({ ratePerSec: r, p99Ms: step.figures.p99Ms, incomplete: step.figures.incomplete });
    }
    const main = await stage('steady', rate, seconds);
    ladder.push({ ratePerSec: rate, p99Ms: main.figures.p99Ms, incomplete: main.figures.incomplete });
    const sustained = ladder.filter((l) => l.p99Ms < 1000 && l.incomplete === 0).reduce((best, l) => Math.max(best, l.ratePerSec), 0);
    const profile = await engine.child.stop();
    const apiProfile = await inventory.child.stop();
    children.length = 0;
    ctx.thirdParty.forgetCount(tag);
    // The bare worker's latency at the low rate, the same way: from the job's enqueue to its arrival.
    const raw = low ? await rawLatency(ctx, ctx.options.latencyLowRate, Math.min(seconds, 10)) : null;
    const result = {
      ...main.figures,
      ...(low ? { lowRate: low.figures } : {}),
      ...(raw && low ? { rawLowRateP99Ms: raw.p99Ms, lowRateP99VsRaw: round(low.figures.p99Ms / raw.p99Ms, 2) } : {}),
      sustainedRatePerSec: sustained,
    };
    return {
      latency: result,
      details: {
        ...main.details,
        ladder,
        ...(raw ? { rawLowRate: raw } : {}),
        ...(low ? { lowRate: low.details } : {}),
        ...(profile ? { worker: pollBreakdown(profile.profile) } : {}),
        ...(apiProfile ? { inventoryApi: pollBreakdown(apiProfile.profile) } : {}),
      },
    };
  } finally {
    agent.destroy();
    for (const c of children) await c.stop().catch(() => undefined);
    await scope.close();
  }
}
