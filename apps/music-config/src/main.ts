import { createRedis, exitOnStartupError, openRuntime, resolve, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { openQueue, QUEUE_NAMES, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import { loadConfigServiceSettings } from './config';
import { CONFIG, configContainer } from './container';

async function main(): Promise<void> {
  const config = loadConfigServiceSettings(process.env);
  const runtime = await openRuntime('music-config', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);

  // A dedicated fail-fast connection for the producers: with Redis down, an enqueue fails (and is
  // bounded by QUEUE_ENQUEUE_TIMEOUT_MS) instead of piling commands up in memory.
  const queueRedis = createRedis(config, 'producer', runtime.logger);
  const settings = { connection: queueRedis, prefix: config.QUEUE_PREFIX };
  const queues = {
    orgEvents: openQueue<OrgChangedJob>(QUEUE_NAMES.orgEvents, settings),
    polling: openQueue<PollJob>(QUEUE_NAMES.polling, settings),
    maintenance: openQueue<PurgeOrganizationJob>(QUEUE_NAMES.maintenance, settings),
  };
  // Connection errors are already logged once by createRedis; an unheard 'error' would crash the process.
  for (const queue of Object.values(queues)) queue.on('error', () => undefined);

  const container = configContainer({ config, logger: runtime.logger, models, redis: runtime.redis, healthChecks: runtime.healthChecks, queues, metrics: runtime.metrics });
  await serveRuntime(runtime, resolve(container, CONFIG.app), config.PORT, [
    { name: 'queues', close: () => Promise.all(Object.values(queues).map((q) => q.close())) },
    { name: 'queue-redis', close: () => queueRedis.quit() },
  ]);
}

main().catch((error: unknown) => exitOnStartupError('music-config', error));
