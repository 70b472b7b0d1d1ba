import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { createHttpApp, type HealthCheck, type Logger } from '@music/platform';
import type { Models } from '@music/persistence';
import type { InventoryConfig } from './config';

export interface InventoryDeps {
  config: InventoryConfig;
  logger: Logger;
  models: Models;
  redis: Redis;
  healthChecks: HealthCheck[];
}

/** The music-inventory HTTP app, wired to its dependencies (tests build it the same way). */
export function createInventoryApp(deps: InventoryDeps): Express {
  return createHttpApp({
    logger: deps.logger,
    bodyLimit: deps.config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks,
    routes: () => undefined,
  });
}
