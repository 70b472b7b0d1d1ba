import type { Express } from 'express';
import { createHttpApp, createJwtGuard, type HealthCheck, type Logger } from '@music/platform';
import type { IntegrationConfig } from './config';
import { inboundWebhookRoutes } from './inbound-webhook.routes';
import { syncHistoryRoutes } from './sync-history.routes';
import type { SyncEngine } from './sync-engine';

export interface IntegrationDeps {
  config: IntegrationConfig;
  logger: Logger;
  engine: SyncEngine;
  healthChecks: HealthCheck[];
}

/** The music-integration HTTP app: inbound webhooks, sync runs, deliveries (tests build it the same way). */
export function createIntegrationApp(deps: IntegrationDeps): Express {
  const { engine, config } = deps;
  const guard = createJwtGuard({ secret: config.JWT_SECRET });
  return createHttpApp({
    logger: deps.logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks,
    routes: (app) => {
      app.use(
        inboundWebhookRoutes({
          organizations: engine.organizations,
          inboundQueue: engine.queues.inbound,
          maxRecords: config.INBOUND_MAX_RECORDS,
          logger: deps.logger,
        }),
      );
      app.use('/organization', guard);
      app.use(
        syncHistoryRoutes({
          organizations: engine.organizations,
          runs: engine.runs,
          deliveries: engine.deliveries,
          outputQueue: engine.queues.output,
          deliveryAttempts: config.DELIVERY_ATTEMPTS,
        }),
      );
    },
  });
}
