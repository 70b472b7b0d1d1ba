import 'reflect-metadata';
import { createRedis, exitOnStartupError, openRuntime, resolve, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { loadIntegrationConfig } from './config';
import { INTEGRATION, integrationContainer } from './container';
import { startIntegrationIn } from './integration-runtime';

async function main(): Promise<void> {
  const config = loadIntegrationConfig(process.env);
  const runtime = await openRuntime('music-integration', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  // BullMQ workers block on Redis and must wait for it through outages.
  const bullConnection = createRedis(config, 'worker', runtime.logger);
  const container = integrationContainer({ config, logger: runtime.logger, models, redis: bullConnection, bullConnection, healthChecks: runtime.healthChecks, metrics: runtime.metrics });
  const integration = await startIntegrationIn(container);
  await serveRuntime(runtime, resolve(container, INTEGRATION.app), config.PORT, [
    { name: 'workers and queues', close: () => integration.close() },
    { name: 'bullmq redis', close: () => bullConnection.quit() },
  ]);
}

main().catch((error: unknown) => exitOnStartupError('music-integration', error));
