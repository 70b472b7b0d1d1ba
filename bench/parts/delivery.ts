import { Queue } from 'bullmq';
import { inventoryItemId, type InventoryItem, type Organization } from '@music/domain';
import { compileMapping } from '@music/mapping';
import { createLogger, RedisLocks } from '@music/platform';
import { createSyncState } from '@music/sync-state';
import { DEFAULT_JOB_OPTIONS, openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { FanoutPublisher } from '../../apps/music-inventory/src/fanout-publisher';
import { Child } from '../children';
import { benchOrganization, oneOrganizationEnv, openScope, round, type BenchContext, type Scope } from '../context';
import { nowMs } from '@music/testing';
import { BENCH_MAPPINGS, BENCH_TRANSFORMS, localItemData } from '../records';
import { RAW_DELIVER_QUEUE } from '../protocol';
import { pollBreakdown } from './ingest';

const SECRET = 'whsec_YmVuY2htYXJrLXNlY3JldC1rZXktMzItYnl0ZXMhIQ==';

/** Runs `count` async tasks, `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/**
 * `total` local creates (`local-0`...) through the one writer, as the inventory API makes them,
 * 16 at a time; `then` runs on each created item (the engine's part enqueues its fanout job).
 */
async function createLocalItems(scope: Scope, org: Organization, total: number, then: (item: InventoryItem) => Promise<void> = async () => undefined): Promise<void> {
  const local = createSyncState({ models: scope.store.models, locks: new RedisLocks(scope.redis, { prefix: scope.prefix }) }).local;
  await pool(total, 16, async (i) => {
    const outcome = await local.create(org, { externalId: `local-${i}`, data: localItemData(i) });
    if (outcome.kind !== 'created') throw new Error(`createLocal: ${outcome.kind}`);
    await then(outcome.item);
  });
}

export interface EngineDelivery {
  /** Per delivered change, over the worker processes (driver command monitoring, ioredis commands, process CPU). */
  costs: { storeCommandsPerChange: number; redisCommandsPerChange: number; workerCpuMsPerChange: number };
  perSec: number;
  seconds: number;
  localWritesPerSec: number;
  duplicates: number;
  details: Record<string, unknown>;
}

/** How long to wait for a backlog of `m` deliveries at a pessimistic rate before calling it stuck. */
const drainTimeoutMs = (m: number): number => 120_000 + m * 200;

/**
 * Waits for the first `warmup` of the queued deliveries, then starts the figures: the processes'
 * profiles are reset and the clock starts, and the changes delivered from there to `total` are the
 * ones measured (their number is returned). No warm-up: the figures start at the queue's resume.
 */
async function startAfterWarmup(
  ctx: BenchContext,
  tag: string,
  children: Child[],
  queue: Pick<Queue, 'resume'>,
  warmup: number,
): Promise<{ t0: number; before: number }> {
  const reset = async (): Promise<void> => {
    for (const c of children) c.send({ type: 'profile-reset' });
    await Promise.all(children.map((c) => c.next('profile', 10_000)));
  };
  if (warmup === 0) {
    await reset();
    const t0 = nowMs();
    await queue.resume();
    return { t0, before: 0 };
  }
  await queue.resume();
  await ctx.thirdParty.count(tag).waitFor(warmup, drainTimeoutMs(warmup));
  await reset();
  return { t0: nowMs(), before: ctx.thirdParty.count(tag).distinct };
}

/**
 * M local changes (after the warm-up's) through the real path: the one writer's local create with
 * the outbox (two-way) and the fanout enqueue, exactly as the inventory API does, with the output
 * queue paused; then `workers` integration worker processes drain it (fanout, then deliver) into
 * the receiver. The clock runs from the end of the warm-up to the last delivery received, and the
 * costs are those of the changes delivered meanwhile.
 */
export async function measureEngineDelivery(ctx: BenchContext, workers: number, m: number, part: string): Promise<EngineDelivery> {
  const scope = await openScope(ctx, part);
  const tag = `${part}-${ctx.runId}`;
  const children: Child[] = [];
  const queue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: scope.redis, prefix: scope.prefix });
  try {
    const org = await benchOrganization(scope, 'bench-owner', { deliverTo: ctx.thirdParty.count(tag).url, secret: SECRET });
    await queue.pause();
    const publisher = new FanoutPublisher(queue, createLogger({ service: 'bench', level: 'warn', format: 'json' }));
    const warmup = ctx.options.deliveryWarmup;
    const total = warmup + m;
    ctx.log(`${part}: ${total} local creates with their fanout jobs (queue paused; the first ${warmup} warm the workers up)`);
    const writesStarted = performance.now();
    await createLocalItems(scope, org, total, async (item) => {
      if (!(await publisher.publish(item))) throw new Error('fanout enqueue failed');
    });
    const localWritesPerSec = total / ((performance.now() - writesStarted) / 1000);

    const started = await Promise.all(
      Array.from({ length: workers }, () => Child.start('engine', scope.childSettings({ appEnv: oneOrganizationEnv(ctx, workers) }))),
    );
    children.push(...started.map((s) => s.child));

    ctx.log(`${part}: draining with ${workers} integration worker process(es), OUTPUT_CONCURRENCY ${ctx.options.outputConcurrency}`);
    const { t0, before } = await startAfterWarmup(ctx, tag, children, queue, warmup);
    const last = await ctx.thirdParty.count(tag).waitFor(total, drainTimeoutMs(total));
    const seconds = (last - t0) / 1000;
    const measured = total - before;
    const profiles = [];
    let storeCommands = 0;
    let redisCommands = 0;
    let cpuMs = 0;
    for (const c of children.splice(0)) {
      const stopped = await c.stop();
      if (!stopped) continue;
      profiles.push({ ...pollBreakdown(stopped.profile), redisCommands: stopped.profile.redisCommands });
      storeCommands += Object.values(stopped.profile.commands).reduce((sum, v) => sum + v.count, 0);
      redisCommands += Object.values(stopped.profile.redisCommands).reduce((sum, n) => sum + n, 0);
      cpuMs += stopped.profile.cpuMs;
    }
    const costs = { storeCommandsPerChange: round(storeCommands / measured, 2), redisCommandsPerChange: round(redisCommands / measured, 1), workerCpuMsPerChange: round(cpuMs / measured, 2) };
    const delivered = await scope.store.models.deliveries.countDocuments({ organizationId: org.id, status: 'succeeded' });
    const { distinct, duplicates } = ctx.thirdParty.count(tag);
    const received = { distinct, duplicates };
    ctx.thirdParty.forgetCount(tag);
    ctx.log(`${part}: ${round(measured / seconds, 0)} deliveries/s (${measured} in ${round(seconds, 1)} s after the warm-up)`);
    return {
      costs,
      perSec: round(measured / seconds, 1),
      seconds: round(seconds, 2),
      localWritesPerSec: round(localWritesPerSec, 0),
      duplicates: received.duplicates,
      details: { workers, warmup, measured, deliveriesSucceeded: delivered, received, localWritesPerSec: round(localWritesPerSec, 0), costs, processes: profiles },
    };
  } finally {
    for (const c of children) await c.stop().catch(() => undefined);
    await queue.close();
    await scope.close();
  }
}

/** Which bare worker: POST only; POST and one settling update; the engine's four store commands around the POST. */
export type RawDeliveryKind = 'bare' | 'durable' | 'four-commands';
const RAW_DURABLE_ENV: Record<RawDeliveryKind, string> = { bare: '0', durable: '1', 'four-commands': '4' };
const RAW_DESCRIPTION: Record<RawDeliveryKind, string> = {
  bare: 'raw limit, a bare BullMQ worker',
  durable: 'durable raw limit, a bare BullMQ worker settling one document per change',
  'four-commands': 'four-command raw limit, a bare BullMQ worker making the store commands of the engine\'s design per change',
};

/**
 * The raw limit: a bare BullMQ worker, same concurrency, POSTing the same bodies (signed alike).
 * `durable`: it also settles one document per change in the store (an update by _id of the item,
 * created beforehand as the engine's part creates its items, as many): the one write a delivery that
 * must survive a crash cannot do without. `four-commands`: the store commands of the engine's design
 * around the POST, on the same documents.
 */
export async function measureRawDelivery(ctx: BenchContext, m: number, kind: RawDeliveryKind = 'bare'): Promise<{ perSec: number; seconds: number; cpuMsPerChange: number }> {
  const durable = kind !== 'bare';
  const scope = await openScope(ctx, `delivery${kind.replace('-', '')}`);
  const tag = `${kind}-${ctx.runId}`;
  const queue = new Queue(RAW_DELIVER_QUEUE, { connection: scope.redis, prefix: scope.prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
  let child: Child | undefined;
  try {
    const mapping = compileMapping(BENCH_MAPPINGS as never, BENCH_TRANSFORMS as never);
    await queue.pause();
    const url = ctx.thirdParty.count(tag).url;
    const total = ctx.options.deliveryWarmup + m;
    // The durable workers settle the engine's own documents: an organization and items created as
    // the engine's part creates them (the one writer's local create, with its pending event), so
    // each of their commands costs the store what the engine's does (on a store whose lookups
    // scan, a smaller stand-in document would make every command cheaper than the engine's).
    const org = durable ? await benchOrganization(scope, 'bench-owner', { deliverTo: url, secret: SECRET }) : null;
    const organizationId = org?.id ?? 'bench-org';
    if (org) await createLocalItems(scope, org, total);
    for (let from = 0; from < total; from += 1000) {
      const jobs = [];
      for (let i = from; i < Math.min(total, from + 1000); i++) {
        const body = JSON.stringify(mapping.toRecord({ externalId: `local-${i}`, data: localItemData(i) }));
        const itemId = inventoryItemId(organizationId, `local-${i}`);
        jobs.push({ name: 'deliver', data: { url, id: `raw-${i}`, body, secret: SECRET, ...(durable ? { itemId, organizationId } : {}) } });
      }
      await queue.addBulk(jobs);
    }
    ({ child } = await Child.start('raw-deliver', scope.childSettings({ extraEnv: { BENCH_CONCURRENCY: String(ctx.options.outputConcurrency), BENCH_DURABLE: RAW_DURABLE_ENV[kind] } })));
    ctx.log(`delivery: ${RAW_DESCRIPTION[kind]} (concurrency ${ctx.options.outputConcurrency}) posting ${total} bodies, the first ${ctx.options.deliveryWarmup} to warm up`);
    const { t0, before } = await startAfterWarmup(ctx, tag, [child], queue, ctx.options.deliveryWarmup);
    const last = await ctx.thirdParty.count(tag).waitFor(total, drainTimeoutMs(total));
    const seconds = (last - t0) / 1000;
    const measured = total - before;
    ctx.thirdParty.forgetCount(tag);
    ctx.log(`delivery: ${kind} raw ${round(measured / seconds, 0)} deliveries/s`);
    const stopped = await child.stop();
    child = undefined;
    // The same measure as the engine's workerCpuMsPerChange: the process's CPU from the end of the warm-up to its stop.
    const cpuMsPerChange = stopped ? round(stopped.profile.cpuMs / measured, 2) : NaN;
    return { perSec: round(measured / seconds, 1), seconds: round(seconds, 2), cpuMsPerChange };
  } finally {
    await child?.stop().catch(() => undefined);
    await queue.close();
    await scope.close();
  }
}

/** Part 3: deliveries/s through one integration worker process against the raw limit. */
export async function runDelivery(ctx: BenchContext): Promise<{ delivery: Record<string, number>; details: Record<string, unknown> }> {
  const m = ctx.options.deliveries;
  const raw = await measureRawDelivery(ctx, m);
  const durable = await measureRawDelivery(ctx, m, 'durable');
  const four = await measureRawDelivery(ctx, m, 'four-commands');
  const engine = await measureEngineDelivery(ctx, 1, m, 'delivery');
  return {
    delivery: {
      perSec: engine.perSec,
      rawPerSec: raw.perSec,
      ratio: round(engine.perSec / raw.perSec, 3),
      durableRawPerSec: durable.perSec,
      durableRatio: round(engine.perSec / durable.perSec, 3),
      fourCommandRawPerSec: four.perSec,
      fourCommandRatio: round(engine.perSec / four.perSec, 3),
      ...engine.costs,
      rawCpuMsPerChange: raw.cpuMsPerChange,
      durableRawCpuMsPerChange: durable.cpuMsPerChange,
      fourCommandRawCpuMsPerChange: four.cpuMsPerChange,
      deliveries: m,
      warmup: ctx.options.deliveryWarmup,
      seconds: engine.seconds,
      rawSeconds: raw.seconds,
      duplicates: engine.duplicates,
    },
    details: engine.details,
  };
}

/** Part 6: the delivery figure with two integration worker processes against one. */
export async function runScaleOut(ctx: BenchContext): Promise<{ scaleOut: Record<string, number>; details: Record<string, unknown> }> {
  const m = ctx.options.scaleOutDeliveries;
  const one = await measureEngineDelivery(ctx, 1, m, 'scaleone');
  const two = await measureEngineDelivery(ctx, 2, m, 'scaletwo');
  return {
    scaleOut: { ratio: round(two.perSec / one.perSec, 3), onePerSec: one.perSec, twoPerSec: two.perSec, deliveries: m },
    details: { one: one.details, two: two.details },
  };
}
