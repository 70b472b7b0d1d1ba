import 'reflect-metadata';
import { exitOnStartupError, openRuntime, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { loadIntegrationConfig } from './config';
import { createIntegrationApp } from './app';

async function main(): Promise<void> {
  const config = loadIntegrationConfig(process.env);
  const runtime = await openRuntime('music-integration', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  const app = createIntegrationApp({ config, logger: runtime.logger, models, redis: runtime.redis, healthChecks: runtime.healthChecks });
  await serveRuntime(runtime, app, config.PORT);
}

main().catch((error: unknown) => exitOnStartupError('music-integration', error));
