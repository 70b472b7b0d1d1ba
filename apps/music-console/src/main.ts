import { closeServer, createMetrics, exitOnStartupError, handleShutdown, listen, listenHost, loggerFor, resolve } from '@music/platform';
import { loadConsoleConfig } from './config';
import { CONSOLE, consoleContainer } from './container';

async function main(): Promise<void> {
  const config = loadConsoleConfig(process.env);
  const logger = loggerFor('music-console', config);
  const metrics = config.METRICS_ENABLED ? createMetrics({ service: 'music-console', processMetrics: true }) : undefined;
  const app = resolve(consoleContainer({ config, logger, ...(metrics ? { metrics } : {}) }), CONSOLE.app);
  const host = listenHost(config);
  const server = await listen(app, config.PORT, host, config.HTTP_REQUEST_TIMEOUT_MS);
  logger.info('music-console listening', {
    port: config.PORT,
    host: host ?? 'all interfaces',
    upstreams: { config: config.CONFIG_API_URL, auth: config.AUTH_API_URL, inventory: config.INVENTORY_API_URL, integration: config.INTEGRATION_API_URL },
  });
  handleShutdown(logger, [{ name: 'http', close: () => closeServer(server) }]);
}

main().catch((error: unknown) => exitOnStartupError('music-console', error));
