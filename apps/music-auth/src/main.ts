import 'reflect-metadata';
import { exitOnStartupError, openRuntime, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { loadAuthConfig } from './config';
import { createAuthApp } from './app';

async function main(): Promise<void> {
  const config = loadAuthConfig(process.env);
  const runtime = await openRuntime('music-auth', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  const app = createAuthApp({ config, logger: runtime.logger, models, redis: runtime.redis, healthChecks: runtime.healthChecks, metrics: runtime.metrics });
  await serveRuntime(runtime, app, config.PORT);
}

main().catch((error: unknown) => exitOnStartupError('music-auth', error));
