import { closeServer, createMetrics, exitOnStartupError, handleShutdown, listen, listenHost, loggerFor } from '@music/platform';
import { loadFakerConfig } from './config';
import { createFakerApp, fakerNamespacesOf, FakerState } from './app';

async function main(): Promise<void> {
  const config = loadFakerConfig(process.env);
  const logger = loggerFor('music-faker', config);
  const state = new FakerState({ seed: config.FAKER_SEED });
  const metrics = config.METRICS_ENABLED ? createMetrics({ service: 'music-faker', processMetrics: true }) : undefined;
  const app = createFakerApp({ config, logger, state, ...(metrics ? { metrics } : {}) });
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
    { name: 'webhook calls', close: () => fakerNamespacesOf(app).whenIdle() },
  ]);
}

main().catch((error: unknown) => exitOnStartupError('music-faker', error));
