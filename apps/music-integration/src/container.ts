import type { ConnectionOptions } from 'bullmq';
import type { Express } from 'express';
import type { DependencyContainer } from 'tsyringe';
import { createContainer, provideFactory, provideValue, resolve, token, type HealthCheck, type Logger, type Metrics, type OutboundClient, type RedisClient } from '@music/platform';
import type { Models } from '@music/persistence';
import { openQueue, QUEUE_NAMES } from '@music/queue';
import { integrationApp, routeDepsOf, type IntegrationRouteDeps } from './app';
import type { IntegrationConfig } from './config';
import { SyncEngine, type IntegrationQueues } from './sync-engine';

/** What the process (main.ts) or a test hands in: settings, connections, the logger. */
export interface IntegrationDeps {
  config: IntegrationConfig;
  logger: Logger;
  models: Models;
  /** Any Redis client (locks, slots, the outbound quota). */
  redis: RedisClient;
  /** A connection for BullMQ (workers need `maxRetriesPerRequest: null`). */
  bullConnection: ConnectionOptions;
  /** The HTTP app's health checks (none when omitted). */
  healthChecks?: HealthCheck[];
  /** Replaces the guarded outbound client built from the config (tests, the benchmark's timed client). */
  http?: OutboundClient;
  /** The process's registry: the engine counts runs, records, deliveries and queue depths on it, the app serves it. Without it the engine counts nothing and the app (when METRICS_ENABLED) serves a fresh one. */
  metrics?: Metrics;
}

/** Everything music-integration is built from; a test overrides one with `provideValue` before resolving. */
export const INTEGRATION = {
  deps: token<IntegrationDeps>('IntegrationDeps'),
  config: token<IntegrationConfig>('IntegrationConfig'),
  logger: token<Logger>('Logger'),
  queues: token<IntegrationQueues>('IntegrationQueues'),
  /** The sync use cases the queue processors call. */
  engine: token<SyncEngine>('SyncEngine'),
  /** The dependencies the HTTP routes take (repositories, the one writer of item state, controls, queues). */
  routes: token<IntegrationRouteDeps>('IntegrationRouteDeps'),
  app: token<Express>('IntegrationApp'),
};

/** music-integration's composition root: each dependency registered with the factory that builds it. */
export function integrationContainer(deps: IntegrationDeps): DependencyContainer {
  const c = createContainer();
  provideValue(c, INTEGRATION.deps, deps);
  provideValue(c, INTEGRATION.config, deps.config);
  provideValue(c, INTEGRATION.logger, deps.logger);
  provideFactory(c, INTEGRATION.queues, (c): IntegrationQueues => {
    const settings = { connection: resolve(c, INTEGRATION.deps).bullConnection, prefix: resolve(c, INTEGRATION.config).QUEUE_PREFIX };
    return {
      polling: openQueue(QUEUE_NAMES.polling, settings),
      output: openQueue(QUEUE_NAMES.output, settings),
      inbound: openQueue(QUEUE_NAMES.inbound, settings),
      maintenance: openQueue(QUEUE_NAMES.maintenance, settings),
      notifications: openQueue(QUEUE_NAMES.notifications, settings),
      // Added by music-config, processed here: opened to be seen (Bull Board, queue metrics).
      orgEvents: openQueue(QUEUE_NAMES.orgEvents, settings),
    };
  });
  provideFactory(c, INTEGRATION.engine, (c) => {
    const { models, redis, http, metrics } = resolve(c, INTEGRATION.deps);
    return new SyncEngine({
      config: resolve(c, INTEGRATION.config),
      logger: resolve(c, INTEGRATION.logger),
      models,
      redis,
      queues: resolve(c, INTEGRATION.queues),
      ...(http ? { http } : {}),
      ...(metrics ? { metrics } : {}),
    });
  });
  provideFactory(c, INTEGRATION.routes, (c) => routeDepsOf(resolve(c, INTEGRATION.engine)));
  provideFactory(c, INTEGRATION.app, (c) => {
    const { healthChecks, metrics } = resolve(c, INTEGRATION.deps);
    return integrationApp({
      config: resolve(c, INTEGRATION.config),
      logger: resolve(c, INTEGRATION.logger),
      healthChecks: healthChecks ?? [],
      ...(metrics ? { metrics } : {}),
      routes: resolve(c, INTEGRATION.routes),
    });
  });
  return c;
}
