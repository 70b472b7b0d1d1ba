import { closeServer, exitOnStartupError, handleShutdown, listen, loggerFor } from '@music/platform';
import { loadFakerConfig } from './config';
import { createFakerApp } from './app';

async function main(): Promise<void> {
  const config = loadFakerConfig(process.env);
  const logger = loggerFor('music-faker', config);
  const app = createFakerApp({ config, logger });
  const server = await listen(app, config.PORT);
  logger.info('music-faker listening', { port: config.PORT });
  handleShutdown(logger, [{ name: 'http', close: () => closeServer(server) }]);
}

main().catch((error: unknown) => exitOnStartupError('music-faker', error));
