import 'reflect-metadata';
import { exitOnStartupError, openRuntime, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { loadInventoryConfig } from './config';
import { createInventoryApp } from './app';

async function main(): Promise<void> {
  const config = loadInventoryConfig(process.env);
  const runtime = await openRuntime('music-inventory', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  const app = createInventoryApp({ config, logger: runtime.logger, models, redis: runtime.redis, healthChecks: runtime.healthChecks });
  await serveRuntime(runtime, app, config.PORT);
}

main().catch((error: unknown) => exitOnStartupError('music-inventory', error));
