import type { Express } from 'express';
import { createHttpApp, type Logger } from '@music/platform';
import type { FakerConfig } from './config';

export interface FakerDeps {
  config: FakerConfig;
  logger: Logger;
}

/** The fake third-party music service (in-memory; no stores of ours). */
export function createFakerApp(deps: FakerDeps): Express {
  return createHttpApp({ logger: deps.logger, bodyLimit: deps.config.HTTP_BODY_LIMIT, routes: () => undefined });
}
