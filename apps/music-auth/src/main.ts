import { exitOnStartupError, openRuntime, resolve, serveRuntime } from '@music/platform';
import { createModels, ensureIndexes } from '@music/persistence';
import { loadAuthConfig } from './config';
import { AUTH, authContainer } from './container';

async function main(): Promise<void> {
  const config = loadAuthConfig(process.env);
  const runtime = await openRuntime('music-auth', config);
  const models = createModels(runtime.mongo);
  await ensureIndexes(models);
  const container = authContainer({ config, logger: runtime.logger, models, redis: runtime.redis, healthChecks: runtime.healthChecks, metrics: runtime.metrics });
  await serveRuntime(runtime, resolve(container, AUTH.app), config.PORT);
}

main().catch((error: unknown) => exitOnStartupError('music-auth', error));
