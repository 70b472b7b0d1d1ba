import 'reflect-metadata';
import { createRedis, exitOnStartupError, openRuntime, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { loadInventoryConfig } from './config';
import { createInventoryApp } from './app';

async function main(): Promise<void> {
  const config = loadInventoryConfig(process.env);
  const runtime = await openRuntime('music-inventory', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);

  // Its own fail-fast connection (maxRetriesPerRequest 1, no offline queue): while Redis is down an
  // enqueue fails at once, the request still succeeds and the outbox sweeper delivers the event later.
  const queueRedis = createRedis(config, 'producer', runtime.logger);
  const outputQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: queueRedis, prefix: config.QUEUE_PREFIX });
  outputQueue.on('error', (error: Error) => runtime.logger.warn('output queue error', { err: error.message }));

  const app = createInventoryApp({ config, logger: runtime.logger, models, redis: runtime.redis, outputQueue, healthChecks: runtime.healthChecks, metrics: runtime.metrics });
  await serveRuntime(runtime, app, config.PORT, [
    { name: 'output-queue', close: () => outputQueue.close() },
    { name: 'queue-redis', close: () => queueRedis.quit() },
  ]);
}

main().catch((error: unknown) => exitOnStartupError('music-inventory', error));
