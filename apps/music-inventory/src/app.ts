import type { Express } from 'express';
import type { Queue } from 'bullmq';
import { createHttpApp, createMetrics, listSetting, RedisLocks, standardServiceLinks, tokenVerificationFrom, type HealthCheck, type Logger, type Metrics, type RedisClient } from '@music/platform';
import { InventoryRepository, OrganizationRepository, type Models } from '@music/persistence';
import { createSyncState } from '@music/sync-state';
import type { FanoutJob } from '@music/queue';
import type { InventoryConfig } from './config';
import { FanoutPublisher } from './fanout-publisher';
import { inventoryRouter } from './inventory.routes';
import { inventoryApiDocument } from './inventory.openapi';

export interface InventoryDeps {
  config: InventoryConfig;
  logger: Logger;
  models: Models;
  /** Holds the item write locks (shared with the integration app through QUEUE_PREFIX). */
  redis: RedisClient;
  /** The output queue (QUEUE_NAMES.output) on a fail-fast producer connection. */
  outputQueue: Queue<FanoutJob>;
  healthChecks: HealthCheck[];
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

/** The music-inventory HTTP app, wired to its dependencies (tests build it the same way). */
export function createInventoryApp(deps: InventoryDeps): Express {
  // Without a secret box: ownership checks need no webhook secrets or credentials, and this app holds no key to open them.
  const organizations = new OrganizationRepository(deps.models);
  const verification = tokenVerificationFrom(deps.config);
  if (verification.development) deps.logger.warn('verifying tokens with the development public key: set JWT_PUBLIC_KEYS (production refuses to start without it)');
  const locks = new RedisLocks(deps.redis, {
    prefix: deps.config.QUEUE_PREFIX,
    onUnavailable: (e) => deps.logger.warn('redis unavailable for item locks; writing unlocked', { err: e.message }),
  });
  const items = new InventoryRepository(deps.models);
  // The one writer of item state: local changes go through it.
  const local = createSyncState({ models: deps.models, locks }).local;
  const publisher = new FanoutPublisher(deps.outputQueue, deps.logger);
  return createHttpApp({
    logger: deps.logger,
    bodyLimit: deps.config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks,
    corsOrigins: listSetting(deps.config.CORS_ORIGINS),
    ...(deps.config.METRICS_ENABLED ? { metrics: deps.metrics ?? createMetrics({ service: 'music-inventory' }) } : {}),
    apiDocs: inventoryApiDocument({ metrics: deps.config.METRICS_ENABLED }),
    index: {
      service: 'music-inventory',
      description: 'An organization’s inventory, our side of the sync, under /inventory: local changes are delivered to the third party of two-way organizations.',
      links: standardServiceLinks({ metrics: deps.config.METRICS_ENABLED }),
    },
    routes: (app) => {
      app.use('/inventory', inventoryRouter({ organizations, items, local, publisher, verification }));
    },
  });
}
