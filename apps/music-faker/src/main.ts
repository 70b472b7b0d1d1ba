import { closeServer, createMetrics, exitOnStartupError, handleShutdown, listen, listenHost, loggerFor, resolve } from '@music/platform';
import { loadFakerConfig } from './config';
import { FAKER, fakerContainer } from './container';

async function main(): Promise<void> {
  const config = loadFakerConfig(process.env);
  const logger = loggerFor('music-faker', config);
  const metrics = config.METRICS_ENABLED ? createMetrics({ service: 'music-faker', processMetrics: true }) : undefined;
  const container = fakerContainer({ config, logger, ...(metrics ? { metrics } : {}) });
  const app = resolve(container, FAKER.app);
  // Loopback outside production, like the other apps (HTTP_HOST overrides).
  const server = await listen(app, config.PORT, listenHost(config));
  logger.info('music-faker listening', {
    port: config.PORT,
    seeded: config.FAKER_SEED !== undefined,
    signedDeliveries: config.FAKER_WEBHOOK_SECRET !== undefined,
    controlEndpoints: config.FAKER_CONTROL_ENDPOINTS,
  });
  handleShutdown(logger, [
    { name: 'http', close: () => closeServer(server) },
    { name: 'webhook calls', close: () => resolve(container, FAKER.namespaces).whenIdle() },
  ]);
}

main().catch((error: unknown) => exitOnStartupError('music-faker', error));
