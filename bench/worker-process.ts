import 'reflect-metadata';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { contentHash, inventoryItemId } from '@music/domain';
import { compileMapping } from '@music/mapping';
import type { InventoryItemDoc } from '@music/persistence';
import { createLogger, createOutboundClient, createRedis, listen, listSetting, resolve, signedHeaders, type OutboundClient } from '@music/platform';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { RAW_DELIVER_QUEUE, type ChildRole, type FromChild, type ProcessProfile, type ToChild } from './protocol';
import { BENCH_MAPPINGS, BENCH_TRANSFORMS, recordsPage } from './records';
import { openBenchStore } from './store';

// One child process of the benchmark: an integration worker (the engine with its queue workers, or
// just the engine for a poll), the inventory API, or a raw baseline. Wired like the apps' main.ts,
// plus command monitoring and a timed HTTP client so the parent can say where the time went.

const role = process.argv[2] as ChildRole;
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

function send(message: FromChild): void {
  process.send?.(message);
}

/** The app settings for this run: production mode, JSON logs at info (as deployed), loopback allowed. */
function appEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'info',
    LOG_FORMAT: 'json',
    MONGO_URL: env('BENCH_MONGO_URL'),
    MONGO_DB: env('BENCH_DB'),
    REDIS_URL: env('BENCH_REDIS_URL'),
    QUEUE_PREFIX: env('BENCH_PREFIX'),
    JWT_PUBLIC_KEYS: env('BENCH_JWT_PUBLIC_KEYS'),
    SECRETS_KEYS: env('BENCH_SECRETS_KEYS'),
    OUTBOUND_ALLOW_LIST: '127.0.0.1',
    // The benchmark measures throughput, one owner for every organization: quotas out of the way.
    QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE: '1000000000',
    QUOTA_PAGES_PER_RUN: '100000',
    METRICS_ENABLED: 'false',
    ...(JSON.parse(process.env['BENCH_APP_ENV'] ?? '{}') as Record<string, string>),
  };
}

/** The guarded outbound client the engine would build, timed. */
function timedClient(client: OutboundClient, stats: ProcessProfile['http']): OutboundClient {
  return {
    async send(req) {
      const started = performance.now();
      const result = await client.send(req);
      stats.count++;
      stats.ms += performance.now() - started;
      if (result.ok) stats.bytes += result.text.length;
      return result;
    },
  };
}

/** Redis commands this process sent (every ioredis client: BullMQ's, the locks', the quotas'), by command name. */
const redisCommands: Record<string, number> = {};
{
  const proto = Redis.prototype as unknown as { sendCommand: (command: { name: string }, ...rest: unknown[]) => unknown };
  const original = proto.sendCommand;
  proto.sendCommand = function (this: unknown, command: { name: string }, ...rest: unknown[]) {
    redisCommands[command.name] = (redisCommands[command.name] ?? 0) + 1;
    return original.call(this, command, ...rest);
  };
}

async function main(): Promise<void> {
  const store = await openBenchStore(env('BENCH_MONGO_URL'), env('BENCH_DB'), true);
  const http = { count: 0, ms: 0, bytes: 0 };
  let since = { wall: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
  const profile = (): ProcessProfile => ({
    wallMs: performance.now() - since.wall,
    cpuMs: (() => {
      const d = process.cpuUsage(since.cpu);
      return (d.user + d.system) / 1000;
    })(),
    eventLoopUtilization: performance.eventLoopUtilization(since.elu).utilization,
    http: { ...http },
    commands: structuredClone(store.profile()),
    redisCommands: { ...redisCommands },
  });
  const resetProfile = (): void => {
    since = { wall: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
    Object.assign(http, { count: 0, ms: 0, bytes: 0 });
    for (const key of Object.keys(redisCommands)) delete redisCommands[key];
    store.resetProfile();
  };
  const closers: Array<() => Promise<unknown>> = [];
  const handlers: Partial<Record<ToChild['type'], (m: ToChild) => Promise<void>>> = {};

  // Each role loads only its own app, as that app's main.ts does (an integration worker never holds
  // the inventory API in memory: the memory part measures the worker's own RSS).
  if (role === 'engine' || role === 'poll') {
    const { loadIntegrationConfig } = await import('../apps/music-integration/src/config');
    const { startIntegration } = await import('../apps/music-integration/src/integration-runtime');
    const { INTEGRATION } = await import('../apps/music-integration/src/container');
    const config = loadIntegrationConfig({ ...appEnv(), RUN_WORKERS: role === 'engine' ? 'true' : 'false' });
    const logger = createLogger({ service: 'music-integration', level: config.LOG_LEVEL, format: 'json' });
    const bull = createRedis(config.REDIS_URL, 'worker', logger);
    const client = createOutboundClient({ allowList: listSetting(config.OUTBOUND_ALLOW_LIST), timeoutMs: config.OUTBOUND_TIMEOUT_MS, maxBytes: config.OUTBOUND_MAX_BYTES });
    const runtime = await startIntegration({ config, logger, models: store.models, redis: bull, bullConnection: bull, http: timedClient(client, http) });
    closers.push(() => runtime.close(), () => bull.quit());
    handlers.poll = async (m) => {
      if (m.type !== 'poll') return;
      resetProfile();
      const outcome = await resolve(runtime.container, INTEGRATION.pollRun).execute({ version: 1, organizationId: m.organizationId, pollingId: m.pollingId, trigger: 'manual' }, async () => undefined);
      if (outcome.kind !== 'done') throw new Error(`poll ended ${outcome.kind}: ${JSON.stringify(outcome)}`);
      send({ type: 'polled', status: outcome.status, counts: outcome.counts, profile: profile() });
    };
  }

  if (role === 'raw-ingest') {
    // The raw limit of ingest: the documents a poll stores, written with the driver's bulkWrite by _id.
    const mapping = compileMapping(BENCH_MAPPINGS as never, BENCH_TRANSFORMS as never);
    const collection = store.models.inventoryItems.collection;
    handlers['raw-ingest'] = async (m) => {
      if (m.type !== 'raw-ingest') return;
      const wallStarted = performance.now();
      let writeMs = 0;
      let documents = 0;
      for (let page = 1; (page - 1) * m.batch < m.total; page++) {
        const now = new Date();
        const docs: InventoryItemDoc[] = [];
        for (const record of recordsPage(m.total, page, m.batch)) {
          const mapped = mapping.toItem(record);
          if (!mapped.ok) throw new Error('a bench record failed mapping');
          docs.push({
            _id: inventoryItemId(m.organizationId, mapped.externalId),
            organizationId: m.organizationId,
            externalId: mapped.externalId,
            data: mapped.data,
            origin: 'remote',
            hash: contentHash(mapped.externalId, mapped.data),
            version: 0,
            state: 'synced',
            deleted: false,
            pendingEvent: null,
            awaiting: [],
            gaveUp: [],
            acked: false,
            fenceAt: null,
            held: null,
            remoteKnown: true,
            seenBy: [],
            missedBy: [],
            rev: 0,
            createdAt: now,
            updatedAt: now,
          });
        }
        const started = performance.now();
        // The driver's own types want ObjectId _ids; ours are strings, as on every item.
        await collection.bulkWrite(docs.map((document) => ({ insertOne: { document } })) as unknown as Parameters<typeof collection.bulkWrite>[0], { ordered: false });
        writeMs += performance.now() - started;
        documents += docs.length;
      }
      send({ type: 'raw-ingested', writeMs, wallMs: performance.now() - wallStarted, documents });
    };
  }

  if (role === 'raw-deliver') {
    // The raw limit of delivery: a bare BullMQ worker POSTing each job's body, nothing else. Durable
    // (BENCH_DURABLE=1): it also settles the change's document in the store once the POST is
    // answered (one update by _id), the one write a delivery that survives a crash cannot skip.
    // Four commands (BENCH_DURABLE=4): the store commands the engine's design makes per delivered
    // change, through the driver with nothing else (read the organization and the item before the
    // send; after it, insert the delivery's record and update the item on the condition it was not
    // written meanwhile): what those commands alone cost on this store.
    const concurrency = Number(env('BENCH_CONCURRENCY'));
    const durable = process.env['BENCH_DURABLE'] === '1' || process.env['BENCH_DURABLE'] === '4';
    const fourCommands = process.env['BENCH_DURABLE'] === '4';
    const items = store.models.inventoryItems.collection;
    const organizations = store.models.organizations.collection;
    const deliveries = store.models.deliveries.collection;
    const logger = createLogger({ service: 'raw-deliver', level: 'warn', format: 'json' });
    const bull = createRedis(env('BENCH_REDIS_URL'), 'worker', logger);
    const agent = new Agent({ keepAlive: true });
    const post = (url: string, headers: Record<string, string>, body: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    const worker = new Worker<{ url: string; id: string; body: string; secret: string; itemId?: string; organizationId?: string }>(
      RAW_DELIVER_QUEUE,
      async (job) => {
        const { url, id, body, secret, itemId, organizationId } = job.data;
        // As the engine: the organization's revision and the item, read together; after the send,
        // the delivery's record (the engine's fields) and the item settled on its revision.
        const before = fourCommands && itemId && organizationId
          ? await Promise.all([organizations.findOne({ _id: organizationId, deletedAt: null } as never, { projection: { _id: 0, revision: 1 } }), items.findOne({ _id: itemId } as never)])
          : null;
        const status = await post(url, { 'content-type': 'application/json', ...signedHeaders(secret, id, body) }, body);
        if (status < 200 || status >= 300) throw new Error(`HTTP ${status}`);
        if (before && itemId) {
          const item = before[1] as { rev?: number; externalId?: string; pendingEvent?: { id: string; op: string; version: number } | null } | null;
          const event = item?.pendingEvent;
          const now = new Date();
          const attempt = { at: now, statusCode: status, error: null, ms: 1 };
          await deliveries.insertOne({
            _id: id, organizationId, itemId, externalId: item?.externalId, eventId: event?.id, webhookId: 'bench', url, method: 'POST', op: event?.op, version: event?.version, body,
            status: 'succeeded', attempts: 1, lastAttempts: [attempt], lastError: null, deadLettered: false, createdAt: now, updatedAt: now, deliveredAt: now,
          } as never);
          await items.findOneAndUpdate(
            { _id: itemId, rev: item?.rev } as never,
            { $inc: { rev: 1 }, $set: { state: 'synced', pendingEvent: null, acked: true }, $currentDate: { updatedAt: true, fenceAt: true } },
            { returnDocument: 'after' },
          );
        } else if (durable && itemId) {
          // The driver's own types want ObjectId _ids; ours are strings, as on every item.
          await items.updateOne({ _id: itemId } as never, { $set: { state: 'synced', pendingEvent: null }, $currentDate: { updatedAt: true, fenceAt: true } });
        }
      },
      { connection: bull, prefix: env('BENCH_PREFIX'), concurrency },
    );
    closers.push(() => worker.close(), () => bull.quit());
  }

  if (role === 'inventory') {
    const { loadInventoryConfig } = await import('../apps/music-inventory/src/config');
    const { createInventoryApp } = await import('../apps/music-inventory/src/app');
    const config = loadInventoryConfig(appEnv());
    const logger = createLogger({ service: 'music-inventory', level: config.LOG_LEVEL, format: 'json' });
    const producer = createRedis(config.REDIS_URL, 'producer', logger);
    // As main.ts: a fail-fast client for the item locks, and another for the queue.
    const locksRedis = createRedis(config.REDIS_URL, 'producer', logger);
    const outputQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: producer, prefix: config.QUEUE_PREFIX });
    const app = createInventoryApp({ config, logger, models: store.models, redis: locksRedis, outputQueue, healthChecks: [] });
    const server = await listen(app, 0, '127.0.0.1', config.HTTP_REQUEST_TIMEOUT_MS);
    server.keepAliveTimeout = 60_000;
    closers.push(
      () => new Promise((resolve) => server.close(resolve)),
      () => outputQueue.close(),
      () => producer.quit(),
      () => locksRedis.quit(),
    );
    send({ type: 'ready', port: (server.address() as AddressInfo).port });
  } else {
    send({ type: 'ready' });
  }

  // The parent is gone (killed, crashed): nobody will ever stop this process.
  let stopping = false;
  process.on('disconnect', () => {
    if (!stopping) process.exit(1);
  });
  process.on('message', (message: ToChild) => {
    void (async () => {
      try {
        if (message.type === 'stop') {
          stopping = true;
          const final = profile();
          for (const close of closers) await close().catch(() => undefined);
          await store.close().catch(() => undefined);
          send({ type: 'stopped', profile: final });
          process.disconnect?.();
          setTimeout(() => process.exit(0), 100).unref();
          return;
        }
        if (message.type === 'profile') {
          send({ type: 'profile', profile: profile() });
          return;
        }
        if (message.type === 'profile-reset') {
          resetProfile();
          send({ type: 'profile', profile: profile() });
          return;
        }
        const handler = handlers[message.type];
        if (!handler) throw new Error(`role ${role} does not handle ${message.type}`);
        await handler(message);
      } catch (error) {
        send({ type: 'error', message: (error as Error).stack ?? String(error) });
      }
    })();
  });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: (error as Error).stack ?? String(error) });
  setTimeout(() => process.exit(1), 100);
});
