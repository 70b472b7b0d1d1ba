import 'reflect-metadata';
import { createRedis, exitOnStartupError, openRuntime, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { loadIntegrationConfig } from './config';
import { createIntegrationApp } from './app';
import { startIntegration } from './integration-runtime';

async function main(): Promise<void> {
  const config = loadIntegrationConfig(process.env);
  const runtime = await openRuntime('music-integration', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  // BullMQ workers block on Redis and must wait for it through outages.
  const bullConnection = createRedis(config, 'worker', runtime.logger);
  const integration = await startIntegration({ config, logger: runtime.logger, models, redis: bullConnection, bullConnection, metrics: runtime.metrics });
  const app = createIntegrationApp({ config, logger: runtime.logger, engine: integration.engine, healthChecks: runtime.healthChecks, metrics: runtime.metrics });
  await serveRuntime(runtime, app, config.PORT, [
    { name: 'workers and queues', close: () => integration.close() },
    { name: 'bullmq redis', close: () => bullConnection.quit() },
  ]);
}

main().catch((error: unknown) => exitOnStartupError('music-integration', error));
