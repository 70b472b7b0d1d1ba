import { createRedis, exitOnStartupError, openRuntime, RedisLocks, resolve, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes, OrganizationRepository } from '@music/persistence';
import { createSyncState } from '@music/sync-state';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { loadInventoryConfig } from './config';
import { INVENTORY, inventoryContainer } from './container';

async function main(): Promise<void> {
  const config = loadInventoryConfig(process.env);
  const runtime = await openRuntime('music-inventory', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  // Items written by an earlier version get their sync state before they are served (idempotent).
  const organizations = new OrganizationRepository(models);
  const locks = new RedisLocks(runtime.redis, { prefix: config.QUEUE_PREFIX });
  await createSyncState({ models, locks }).maintenance.migrateLegacyItems(async (id) => (await organizations.findById(id))?.polling.map((p) => p.id) ?? null);

  // Its own fail-fast connection (maxRetriesPerRequest 1, no offline queue): while Redis is down an
  // enqueue fails at once, the request still succeeds and the outbox sweeper delivers the event later.
  const queueRedis = createRedis(config, 'producer', runtime.logger);
  const outputQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: queueRedis, prefix: config.QUEUE_PREFIX });
  outputQueue.on('error', (error: Error) => runtime.logger.warn('output queue error', { err: error.message }));

  const container = inventoryContainer({ config, logger: runtime.logger, models, redis: runtime.redis, outputQueue, healthChecks: runtime.healthChecks, metrics: runtime.metrics });
  await serveRuntime(runtime, resolve(container, INVENTORY.app), config.PORT, [
    { name: 'output-queue', close: () => outputQueue.close() },
    { name: 'queue-redis', close: () => queueRedis.quit() },
  ]);
}

main().catch((error: unknown) => exitOnStartupError('music-inventory', error));
