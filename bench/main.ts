import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { buildBenchWorker } from './build-worker';
import { benchKeys, killAllChildren } from './children';
import { cleanupRun, newRunId, round, type BenchContext } from './context';
import { ThirdPartyStub } from '@music/testing';
import { parseOptions, PARTS, type PartName } from './options';
import { runDelivery, runScaleOut } from './parts/delivery';
import { runFairness } from './parts/fairness';
import { runIngest } from './parts/ingest';
import { runLatency } from './parts/latency';
import { runMemory } from './parts/memory';
import { runStore } from './parts/store';
import { table, verdicts, type Results } from './report';

// `npm run bench` (bench/run.sh starts Redis and a store, then runs this). Runs the parts asked for,
// prints the table, and writes the figures to bench/results.json (merged with the parts not run).

const ROOT = path.resolve(__dirname, '..');

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [ROOT] }), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function storeAndRedisVersions(mongoUrl: string, redisUrl: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const connection = await mongoose.createConnection(mongoUrl, { serverSelectionTimeoutMS: 5000, retryWrites: false }).asPromise();
  const info = (await connection.db?.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string } | undefined;
  out['store'] = info?.ferretdbVersion ? `FerretDB ${info.ferretdbVersion} (reports MongoDB ${info.version ?? '?'})` : `MongoDB ${info?.version ?? '?'}`;
  await connection.close();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  out['redis'] = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  redis.disconnect();
  return out;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const mongoUrl = process.env['BENCH_MONGO_URL'];
  const redisUrl = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  if (!mongoUrl) throw new Error('BENCH_MONGO_URL is not set: run the benchmark with `npm run bench` (bench/run.sh starts a store)');
  for (const url of [mongoUrl, redisUrl]) {
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`the benchmark only talks to loopback; refusing ${url}`);
  }

  const started = Date.now();
  const loadBefore = os.loadavg();
  const log = (message: string): void => console.log(`[bench ${round((Date.now() - started) / 1000, 0)}s] ${message}`);
  const cpuProfDir = options.cpuProf ? path.join(ROOT, 'bench', 'profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const workerScript = await buildBenchWorker();
  const thirdParty = await new ThirdPartyStub().start();
  const ctx: BenchContext = { options, mongoUrl, redisUrl, runId: newRunId(), thirdParty, keys: benchKeys(), cpuProfDir, workerScript, log };
  log(`${options.mode} run ${ctx.runId}: ${options.parts.join(', ')} (store ${mongoUrl}, redis ${redisUrl})`);
  // Ctrl-C: stop the child processes and drop what this run created, then leave.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the child processes and cleaning up`);
      killAllChildren();
      void cleanupRun(ctx)
        .catch(() => undefined)
        .finally(() => process.exit(130));
    });
  }

  const results: Results = {};
  const details: Record<string, unknown> = {};
  const timings: Record<string, number> = {};
  const runners: Record<PartName, () => Promise<void>> = {
    ingest: async () => {
      const r = await runIngest(ctx);
      results['ingest'] = r.ingest;
      results['repoll'] = r.repoll;
      details['ingest'] = r.details;
    },
    delivery: async () => {
      const r = await runDelivery(ctx);
      results['delivery'] = r.delivery;
      details['delivery'] = r.details;
    },
    latency: async () => {
      const r = await runLatency(ctx);
      results['latency'] = r.latency;
      details['latency'] = r.details;
    },
    memory: async () => {
      const r = await runMemory(ctx);
      results['memory'] = r.memory;
      details['memory'] = r.details;
    },
    store: async () => {
      results['store'] = (await runStore(ctx)).store;
    },
    scaleOut: async () => {
      const r = await runScaleOut(ctx);
      results['scaleOut'] = r.scaleOut;
      details['scaleOut'] = r.details;
    },
    fairness: async () => {
      const r = await runFairness(ctx);
      results['fairness'] = r.fairness;
      details['fairness'] = r.details;
    },
  };
  try {
    for (const part of options.parts) {
      const t = Date.now();
      try {
        await runners[part]();
      } catch (error) {
        const message = (error as Error).stack ?? String(error);
        log(`${part} FAILED: ${message}`);
        results[part] = { error: message };
        if (part === 'ingest') results['repoll'] = { error: message };
      }
      timings[part] = round((Date.now() - t) / 1000, 1);
    }
  } finally {
    killAllChildren();
    await thirdParty.close();
    // Each part drops its own database and queue keys; this catches what a failed part left.
    await cleanupRun(ctx).catch((e: Error) => log(`cleanup: ${e.message}`));
  }

  const meta = {
    mode: options.mode,
    date: new Date().toISOString(),
    durationSec: round((Date.now() - started) / 1000, 1),
    partSeconds: timings,
    sizes: {
      ingestRecords: options.ingestRecords,
      pageSize: options.pageSize,
      deliveries: options.deliveries,
      scaleOutDeliveries: options.scaleOutDeliveries,
      latencyRate: options.latencyRate,
      latencySeconds: options.latencySeconds,
      latencyLowRate: options.latencyLowRate,
      latencyDrainSec: options.latencyDrainSec,
      repollBudgetSec: options.repollBudgetSec,
      memoryRecords: options.memoryRecords,
      ...(options.memoryRepoll ? { memoryRepollPages: options.memoryRepollPages } : {}),
      outputConcurrency: options.outputConcurrency,
      fairnessBacklog: options.fairnessBacklog,
      fairnessChanges: options.fairnessChanges,
      fairnessRate: options.fairnessRate,
      ...(options.mode === 'quick' ? { note: 'quick mode: reduced sizes; the memory figure is for memoryRecords, not 1,000,000' } : {}),
    },
    versions: {
      node: process.version,
      bullmq: pkgVersion('bullmq'),
      mongoose: pkgVersion('mongoose'),
      mongodbDriver: pkgVersion('mongodb'),
      ...(await storeAndRedisVersions(mongoUrl, redisUrl).catch(() => ({}))),
      storeBackend: process.env['BENCH_STORE_BACKEND'] ?? 'as given by BENCH_MONGO_URL',
    },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      loadAverageBefore: loadBefore.map((l) => round(l, 2)),
      loadAverageAfter: os.loadavg().map((l) => round(l, 2)),
      noise:
        'a shared machine: the store, Redis, the benchmark and other work share its CPUs. Compare ratios measured within one run; absolute rates vary between runs.',
    },
    targetsMet: verdicts(results),
    details,
  };

  // Parts not run this time keep their previous figures (their own date is in meta.partDates).
  const outFile = path.resolve(ROOT, options.out);
  let previous: Results = {};
  if (existsSync(outFile) && !PARTS.every((p) => options.parts.includes(p))) {
    try {
      previous = JSON.parse(readFileSync(outFile, 'utf8')) as Results;
    } catch {
      previous = {};
    }
  }
  const partDates = { ...((previous.meta?.['partDates'] as Record<string, unknown> | undefined) ?? {}) };
  for (const key of Object.keys(results)) partDates[key] = { date: meta.date, mode: options.mode };
  const previousDetails = (previous.meta?.['details'] as Record<string, unknown> | undefined) ?? {};
  const merged: Results = { ...previous, ...results };
  merged.meta = { ...meta, partDates, details: { ...previousDetails, ...details }, targetsMet: verdicts(merged) };
  writeFileSync(outFile, `${JSON.stringify(merged, null, 2)}\n`);

  console.log(`\n${table(results)}\n`);
  log(`done in ${meta.durationSec} s; figures in ${path.relative(process.cwd(), outFile)}`);
  process.exitCode = Object.values(results).some((r) => r && typeof r === 'object' && 'error' in r) ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(2);
});
