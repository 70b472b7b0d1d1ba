import type { Express } from 'express';
import { acceptsUnauthenticatedWebhooks, createHttpApp, createJwtGuard, createMetrics, standardServiceLinks, tokenVerificationFrom, type HealthCheck, type Logger, type Metrics } from '@music/platform';
import { ADMIN_DASHBOARD_PATH, adminCredentials, adminDashboardRouter } from './admin-dashboard';
import type { IntegrationConfig } from './config';
import { integrationApiDocument } from './integration.openapi';
import { divergenceRoutes } from './history/divergences.routes';
import { inboundWebhookRoutes } from './inbound/inbound-webhook.routes';
import { syncHistoryRoutes } from './history/sync-history.routes';
import { syncControlRoutes } from './controls/sync-controls.routes';
import type { SyncEngine } from './sync-engine';

export interface IntegrationDeps {
  config: IntegrationConfig;
  logger: Logger;
  engine: SyncEngine;
  healthChecks: HealthCheck[];
  /** The registry the engine counts on too (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

/** The music-integration HTTP app: inbound webhooks, sync runs, deliveries (tests build it the same way). */
export function createIntegrationApp(deps: IntegrationDeps): Express {
  const { engine, config } = deps;
  const verification = tokenVerificationFrom(config);
  if (verification.development) deps.logger.warn('verifying tokens with the development public key: set JWT_PUBLIC_KEYS (production refuses to start without it)');
  const acceptUnauthenticated = acceptsUnauthenticatedWebhooks(config);
  if (acceptUnauthenticated) deps.logger.warn('accepting input webhook calls without a signature or token (INBOUND_WEBHOOK_UNAUTHENTICATED=accept; production refuses them)');
  const guard = createJwtGuard(verification);
  const admin = adminCredentials(config, deps.logger);
  return createHttpApp({
    logger: deps.logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks,
    ...(config.METRICS_ENABLED ? { metrics: deps.metrics ?? createMetrics({ service: 'music-integration' }) } : {}),
    apiDocs: integrationApiDocument({ metrics: config.METRICS_ENABLED }),
    index: {
      service: 'music-integration',
      description: 'The sync itself: inbound webhooks (/sync), the queue workers that poll and deliver, and each organization’s sync runs and deliveries.',
      links: [
        ...standardServiceLinks({ metrics: config.METRICS_ENABLED }),
        ...(admin ? [{ href: ADMIN_DASHBOARD_PATH, label: 'Queue dashboard (Bull Board; operator login)' }] : []),
      ],
    },
    routes: (app) => {
      if (admin) app.use(adminDashboardRouter(Object.values(engine.queues), admin));
      app.use(
        inboundWebhookRoutes({
          organizations: engine.organizations,
          inbox: engine.sync.inbox,
          inboundQueue: engine.queues.inbound,
          jobSettings: engine.jobSettings,
          maxRecords: config.INBOUND_MAX_RECORDS,
          acceptUnauthenticated,
          logger: deps.logger,
        }),
      );
      app.use('/organization', guard);
      app.use(
        syncHistoryRoutes({
          organizations: engine.organizations,
          runs: engine.runs,
          deliveries: engine.deliveries,
          sync: engine.sync,
          outputQueue: engine.queues.output,
          jobSettings: engine.jobSettings,
        }),
      );
      app.use(
        syncControlRoutes({
          organizations: engine.organizations,
          controls: engine.controls,
          testWebhook: (org, webhook) => engine.testWebhook(org, webhook),
          deliveries: engine.deliveries,
          sync: engine.sync,
          outputQueue: engine.queues.output,
          jobSettings: engine.jobSettings,
        }),
      );
      app.use(
        divergenceRoutes({
          organizations: engine.organizations,
          items: engine.items,
          deliveries: engine.deliveries,
          sync: engine.sync,
          outputQueue: engine.queues.output,
          jobSettings: engine.jobSettings,
        }),
      );
    },
  });
}
