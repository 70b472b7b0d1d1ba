import type { Express } from 'express';
import { acceptsUnauthenticatedWebhooks, createHttpApp, createJwtGuard, createMetrics, serviceAppOptions, tokenVerificationFrom, type HealthCheck, type Logger, type Metrics } from '@music/platform';
import { ADMIN_DASHBOARD_PATH, adminCredentials, adminDashboardRouter } from './admin-dashboard';
import type { IntegrationConfig } from './config';
import { integrationApiDocument } from './integration.openapi';
import { divergenceRoutes } from './history/divergences.routes';
import { inboundWebhookRoutes } from './inbound/inbound-webhook.routes';
import { syncHistoryRoutes } from './history/sync-history.routes';
import { syncControlRoutes } from './controls/sync-controls.routes';
import type { IntegrationQueues } from './integration-queues';
import type { SyncControlUseCases } from './controls/sync-controls.routes';
import type { DivergenceUseCases } from './history/divergences.routes';
import type { SyncHistoryUseCases } from './history/sync-history.routes';
import type { AcceptInboundWebhookUseCase } from './inbound/use-cases/accept-inbound-webhook.use-case';

/** What the HTTP app's routes call: one use case per route (container.ts registers each), and the queues the dashboard shows. */
export interface IntegrationRouteDeps extends SyncHistoryUseCases, DivergenceUseCases, SyncControlUseCases {
  /** `POST|PUT|DELETE /sync`. */
  acceptInboundWebhook: AcceptInboundWebhookUseCase;
  queues: IntegrationQueues;
}

export interface IntegrationAppDeps {
  config: IntegrationConfig;
  logger: Logger;
  healthChecks: HealthCheck[];
  /** The registry the sync counts on too (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
  routes: IntegrationRouteDeps;
}

/** The music-integration HTTP app: inbound webhooks, sync runs, deliveries (container.ts resolves it as `INTEGRATION.app`). */
export function integrationApp(deps: IntegrationAppDeps): Express {
  const { config, routes: use } = deps;
  const verification = tokenVerificationFrom(config);
  if (verification.development) deps.logger.warn('verifying tokens with the development public key: set JWT_PUBLIC_KEYS (production refuses to start without it)');
  const acceptUnauthenticated = acceptsUnauthenticatedWebhooks(config);
  if (acceptUnauthenticated) deps.logger.warn('accepting input webhook calls without a signature or token (INBOUND_WEBHOOK_UNAUTHENTICATED=accept; production refuses them)');
  const guard = createJwtGuard(verification);
  const admin = adminCredentials(config, deps.logger);
  return createHttpApp({
    logger: deps.logger,
    healthChecks: deps.healthChecks,
    ...serviceAppOptions(config, {
      service: 'music-integration',
      description: 'The sync itself: inbound webhooks (/sync), the queue workers that poll and deliver, and each organization’s sync runs and deliveries.',
      apiDocument: integrationApiDocument,
      metrics: () => deps.metrics ?? createMetrics({ service: 'music-integration' }),
      links: admin ? [{ href: ADMIN_DASHBOARD_PATH, label: 'Queue dashboard (Bull Board; operator login)' }] : [],
    }),
    routes: (app) => {
      if (admin) app.use(adminDashboardRouter(Object.values(use.queues), admin));
      app.use(inboundWebhookRoutes(use));
      app.use('/organization', guard);
      app.use(syncHistoryRoutes(use));
      app.use(syncControlRoutes(use));
      app.use(divergenceRoutes(use));
    },
  });
}
