import type { Express } from 'express';
import type { Queue } from 'bullmq';
import type { DependencyContainer } from 'tsyringe';
import {
  createContainer,
  createHttpApp,
  createMetrics,
  provideFactory,
  provideValue,
  RedisLocks,
  resolve,
  serviceAppOptions,
  token,
  tokenVerificationFor,
  type HealthCheck,
  type Logger,
  type Metrics,
  type RedisClient,
  type TokenVerification,
} from '@music/platform';
import { InventoryRepository, OrganizationRepository, type Models } from '@music/persistence';
import { createSyncState, type SyncState } from '@music/sync-state';
import type { FanoutJob } from '@music/queue';
import type { InventoryConfig } from './config';
import { FanoutPublisher } from './fanout-publisher';
import { inventoryRouter } from './inventory.routes';
import { inventoryApiDocument } from './inventory.openapi';

/** What the process (main.ts) or a test hands in: settings, connections, the logger. */
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

/** Everything music-inventory is built from; a test overrides one with `provideValue` before resolving `INVENTORY.app`. */
export const INVENTORY = {
  config: token<InventoryConfig>('InventoryConfig'),
  logger: token<Logger>('Logger'),
  models: token<Models>('Models'),
  redis: token<RedisClient>('RedisClient'),
  outputQueue: token<Queue<FanoutJob>>('OutputQueue'),
  healthChecks: token<HealthCheck[]>('HealthChecks'),
  /** Resolved only when METRICS_ENABLED. */
  metrics: token<Metrics>('Metrics'),
  verification: token<TokenVerification>('TokenVerification'),
  organizations: token<OrganizationRepository>('OrganizationRepository'),
  items: token<InventoryRepository>('InventoryRepository'),
  locks: token<RedisLocks>('RedisLocks'),
  syncState: token<SyncState>('SyncState'),
  publisher: token<FanoutPublisher>('FanoutPublisher'),
  app: token<Express>('InventoryApp'),
};

/** music-inventory's composition root: each dependency registered with the factory that builds it. */
export function inventoryContainer(deps: InventoryDeps): DependencyContainer {
  const c = createContainer();
  provideValue(c, INVENTORY.config, deps.config);
  provideValue(c, INVENTORY.logger, deps.logger);
  provideValue(c, INVENTORY.models, deps.models);
  provideValue(c, INVENTORY.redis, deps.redis);
  provideValue(c, INVENTORY.outputQueue, deps.outputQueue);
  provideValue(c, INVENTORY.healthChecks, deps.healthChecks);
  provideFactory(c, INVENTORY.metrics, () => deps.metrics ?? createMetrics({ service: 'music-inventory' }));

  provideFactory(c, INVENTORY.verification, (c) => tokenVerificationFor(resolve(c, INVENTORY.config), resolve(c, INVENTORY.logger)));
  // Without a secret box: ownership checks need no webhook secrets or credentials, and this app holds no key to open them.
  provideFactory(c, INVENTORY.organizations, (c) => new OrganizationRepository(resolve(c, INVENTORY.models)));
  provideFactory(c, INVENTORY.items, (c) => new InventoryRepository(resolve(c, INVENTORY.models)));
  provideFactory(c, INVENTORY.locks, (c) => {
    const logger = resolve(c, INVENTORY.logger);
    return new RedisLocks(resolve(c, INVENTORY.redis), {
      prefix: resolve(c, INVENTORY.config).QUEUE_PREFIX,
      onUnavailable: (e) => logger.warn('redis unavailable for item locks; writing unlocked', { err: e.message }),
    });
  });
  // The one writer of item state: local changes go through it.
  provideFactory(c, INVENTORY.syncState, (c) => createSyncState({ models: resolve(c, INVENTORY.models), locks: resolve(c, INVENTORY.locks) }));
  provideFactory(c, INVENTORY.publisher, (c) => new FanoutPublisher(resolve(c, INVENTORY.outputQueue), resolve(c, INVENTORY.logger)));
  provideFactory(c, INVENTORY.app, (c) => {
    const config = resolve(c, INVENTORY.config);
    const router = inventoryRouter({
      organizations: resolve(c, INVENTORY.organizations),
      items: resolve(c, INVENTORY.items),
      local: resolve(c, INVENTORY.syncState).local,
      publisher: resolve(c, INVENTORY.publisher),
      verification: resolve(c, INVENTORY.verification),
    });
    return createHttpApp({
      logger: resolve(c, INVENTORY.logger),
      healthChecks: resolve(c, INVENTORY.healthChecks),
      ...serviceAppOptions(config, {
        service: 'music-inventory',
        description: 'An organization’s inventory, our side of the sync, under /inventory: local changes are delivered to the third party of two-way organizations.',
        apiDocument: inventoryApiDocument,
        metrics: () => resolve(c, INVENTORY.metrics),
      }),
      routes: (app) => {
        app.use('/inventory', router);
      },
    });
  });
  return c;
}
