import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { organizationInputSchema, type Organization } from '@music/domain';
import { OrganizationRepository, withEntryIds } from '@music/persistence';
import { secretBoxFrom } from '@music/platform';
import type { BenchKeys, ChildSettings } from './children';
import type { ThirdPartyStub } from '@music/testing';
import type { BenchOptions } from './options';
import { BENCH_MAPPINGS, BENCH_TRANSFORMS } from './records';
import { openBenchStore, type BenchStore } from './store';

/** What every part shares: where the store and Redis are, the third party, the options. */
export interface BenchContext {
  options: BenchOptions;
  mongoUrl: string;
  redisUrl: string;
  /** Short id of this invocation; every database and queue prefix starts with `bench_<runId>`. */
  runId: string;
  thirdParty: ThirdPartyStub;
  keys: BenchKeys;
  cpuProfDir: string | undefined;
  /** The built child process every part starts (bench/build-worker.ts). */
  workerScript: string;
  log: (message: string) => void;
}

/** One part's own database and queue prefix, dropped and cleared by `close`. */
export interface Scope {
  dbName: string;
  prefix: string;
  store: BenchStore;
  redis: Redis;
  organizations: OrganizationRepository;
  childSettings: (extra?: Partial<ChildSettings>) => ChildSettings;
  close: () => Promise<void>;
}

export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

/** Deletes every key that starts with `prefix` (a BullMQ prefix's keys are `<prefix>:...`). */
async function clearPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Drops every database and queue key of a run (`bench_<runId>_*`): what a crash or Ctrl-C left. */
export async function cleanupRun(ctx: Pick<BenchContext, 'mongoUrl' | 'redisUrl' | 'runId'>): Promise<void> {
  const prefix = `bench_${ctx.runId}_`;
  const connection = await mongoose.createConnection(ctx.mongoUrl, { serverSelectionTimeoutMS: 5000, retryWrites: false }).asPromise();
  try {
    const { databases } = await (connection.db as NonNullable<typeof connection.db>).admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) if (name.startsWith(prefix)) await connection.useDb(name).dropDatabase();
  } finally {
    await connection.close();
  }
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await clearPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

export async function openScope(ctx: BenchContext, part: string): Promise<Scope> {
  const name = `bench_${ctx.runId}_${part}`;
  const store = await openBenchStore(ctx.mongoUrl, name);
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  return {
    dbName: name,
    prefix: name,
    store,
    redis,
    organizations: new OrganizationRepository(store.models, secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: ctx.keys.secretsKeys })),
    childSettings: (extra = {}) => ({
      mongoUrl: ctx.mongoUrl,
      dbName: name,
      redisUrl: ctx.redisUrl,
      prefix: name,
      keys: ctx.keys,
      ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}),
      workerScript: ctx.workerScript,
      ...extra,
    }),
    close: async () => {
      await clearPrefix(redis, `${name}:`).catch(() => undefined);
      redis.disconnect();
      await store.drop();
      await store.close();
    },
  };
}

/** An organization with the benchmark mappings, polling a data set or delivering to a receiver. */
export async function benchOrganization(
  scope: Scope,
  ownerId: string,
  opts: { pollEndpoint?: string; pageSize?: number; deliverTo?: string; secret?: string },
): Promise<Organization> {
  const input = organizationInputSchema.parse({
    name: 'Benchmark org',
    synchronization: opts.deliverTo ? 'two-way' : 'one-way',
    webhooks: opts.deliverTo ? [{ type: 'output', url: opts.deliverTo, method: 'POST', ...(opts.secret ? { secret: opts.secret } : {}) }] : [],
    polling: opts.pollEndpoint
      ? [{ endpoint: opts.pollEndpoint, interval: 1, type: 'day', pagination: { type: 'page', limit: opts.pageSize ?? 1000, maxPages: 100_000 } }]
      : [],
    mappings: BENCH_MAPPINGS,
    transforms: BENCH_TRANSFORMS,
  });
  return scope.organizations.create(ownerId, withEntryIds(input));
}

/** The p-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const round = (n: number, digits = 1): number => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

/**
 * App settings of a part that measures one organization's throughput or latency against a raw
 * worker of the same concurrency: the organization may use every delivery slot (its cap,
 * ORG_MAX_INFLIGHT_DELIVERIES, is set to OUTPUT_CONCURRENCY times the worker processes; by default it would hold half of them,
 * leaving the rest to other organizations, which these parts do not have).
 */
export function oneOrganizationEnv(ctx: Pick<BenchContext, 'options'>, workers = 1): Record<string, string> {
  const concurrency = ctx.options.outputConcurrency;
  // The organization's cap counts across every worker process: with several, it is their sum, so
  // the part measures the workers, not the cap (which would hold one organization at 16 in flight).
  return { OUTPUT_CONCURRENCY: String(concurrency), ORG_MAX_INFLIGHT_DELIVERIES: String(concurrency * workers) };
}
