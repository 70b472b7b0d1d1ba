import 'reflect-metadata';
import { exitOnStartupError, openRuntime, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { loadConfigConfig } from './config';
import { createConfigApp } from './app';

async function main(): Promise<void> {
  const config = loadConfigConfig(process.env);
  const runtime = await openRuntime('music-config', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  const app = createConfigApp({ config, logger: runtime.logger, models, redis: runtime.redis, healthChecks: runtime.healthChecks });
  await serveRuntime(runtime, app, config.PORT);
}

main().catch((error: unknown) => exitOnStartupError('music-config', error));
