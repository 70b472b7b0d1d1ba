import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { createHttpApp, type HealthCheck, type Logger } from '@music/platform';
import type { Models } from '@music/persistence';
import type { IntegrationConfig } from './config';

export interface IntegrationDeps {
  config: IntegrationConfig;
  logger: Logger;
  models: Models;
  redis: Redis;
  healthChecks: HealthCheck[];
}

/** The music-integration HTTP app, wired to its dependencies (tests build it the same way). */
export function createIntegrationApp(deps: IntegrationDeps): Express {
  return createHttpApp({
    logger: deps.logger,
    bodyLimit: deps.config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks,
    routes: () => undefined,
  });
}
