import type { Queue } from 'bullmq';
import type { Express } from 'express';
import {
  acceptsUnauthenticatedWebhooks,
  createHttpApp,
  createJwtGuard,
  createMetrics,
  createOutboundClient,
  createRateLimiter,
  listSetting,
  RedisLocks,
  secretBoxFrom,
  standardServiceLinks,
  tokenVerificationFrom,
  type HealthCheck,
  type Logger,
  type Metrics,
  type OutboundClient,
  type RedisClient,
} from '@music/platform';
import { OrganizationRepository, SyncControlRepository, SyncRunRepository, type Models } from '@music/persistence';
import { jobSettingsFrom, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import type { ConfigConfig } from './config';
import { configApiDocument } from './config.openapi';
import { CreateOrganizationUseCase } from './create-organization.use-case';
import { DeleteOrganizationUseCase } from './delete-organization.use-case';
import { GetOrganizationUseCase } from './get-organization.use-case';
import { ListOrganizationsUseCase } from './list-organizations.use-case';
import { MappingPreviewUseCase } from './mapping-preview.use-case';
import { OrgEventsPublisher } from './org-events.publisher';
import { organizationRoutes } from './organization.routes';
import { OrganizationsPerOwner } from './organization-quotas';
import { PatchOrganizationUseCase } from './patch-organization.use-case';
import { RotateWebhookSecretUseCase } from './rotate-webhook-secret.use-case';
import { ReplaceOrganizationUseCase } from './replace-organization.use-case';
import { TriggerSyncUseCase } from './trigger-sync.use-case';

export interface ConfigDeps {
  config: ConfigConfig;
  logger: Logger;
  models: Models;
  redis: RedisClient;
  healthChecks: HealthCheck[];
  /**
   * Producers only (the integration app consumes): org-changed events, manual polls, and purges of
   * deleted organizations (without `maintenance`, the integration app's sweeper queues each purge
   * from the organizations marked deleted, a sweep interval later).
   */
  queues: { orgEvents: Queue<OrgChangedJob>; polling: Queue<PollJob>; maintenance?: Queue<PurgeOrganizationJob> };
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
  /** The guarded client the mapping preview reads endpoints with; built from the config when omitted. */
  http?: OutboundClient;
}

/** The music-config HTTP app, wired to its dependencies (tests build it the same way). */
export function createConfigApp(deps: ConfigDeps): Express {
  const { config, logger, queues } = deps;
  const secrets = secretBoxFrom(config);
  const verification = tokenVerificationFrom(config);
  if (secrets.development) logger.warn('sealing stored secrets with the development key: set SECRETS_KEYS (production refuses to start without it)');
  if (verification.development) logger.warn('verifying tokens with the development public key: set JWT_PUBLIC_KEYS (production refuses to start without it)');
  const organizations = new OrganizationRepository(deps.models, secrets);
  const syncRuns = new SyncRunRepository(deps.models);
  const jobSettings = jobSettingsFrom(config);
  const events = new OrgEventsPublisher(queues, logger, config.QUEUE_ENQUEUE_TIMEOUT_MS, jobSettings);
  const locks = new RedisLocks(deps.redis, { prefix: config.QUEUE_PREFIX, onUnavailable: (e) => logger.warn('redis unavailable for quota locks; counting unlocked', { err: e.message }) });
  const quotas = {
    organizationsPerUser: config.QUOTA_ORGANIZATIONS_PER_USER,
    pollingEntriesPerOrganization: config.QUOTA_POLLING_ENTRIES_PER_ORGANIZATION,
    pagesPerRun: config.QUOTA_PAGES_PER_RUN,
  };

  const previewMaxBytes = Math.min(config.OUTBOUND_MAX_BYTES, config.MAPPING_PREVIEW_MAX_BYTES);
  const http = deps.http ?? createOutboundClient({ allowList: listSetting(config.OUTBOUND_ALLOW_LIST), timeoutMs: config.OUTBOUND_TIMEOUT_MS, maxBytes: previewMaxBytes });

  const routes = organizationRoutes({
    create: new CreateOrganizationUseCase(organizations, events, new OrganizationsPerOwner(organizations, locks, quotas.organizationsPerUser), quotas),
    list: new ListOrganizationsUseCase(organizations),
    get: new GetOrganizationUseCase(organizations),
    replace: new ReplaceOrganizationUseCase(organizations, events, quotas),
    patch: new PatchOrganizationUseCase(organizations, events, quotas),
    remove: new DeleteOrganizationUseCase(organizations, events),
    rotateSecret: new RotateWebhookSecretUseCase(organizations, events, config.WEBHOOK_SECRET_OVERLAP_SECONDS),
    view: { inboundBaseUrl: config.INBOUND_WEBHOOK_BASE_URL, acceptsUnauthenticated: acceptsUnauthenticatedWebhooks(config) },
    triggerSync: new TriggerSyncUseCase(
      organizations,
      syncRuns,
      new SyncControlRepository(deps.models),
      queues.polling,
      jobSettings,
      logger,
      config.QUEUE_ENQUEUE_TIMEOUT_MS,
      // Shared by every music-config process through Redis; fails open while Redis is down.
      createRateLimiter({
        redis: deps.redis,
        logger,
        prefix: `${config.QUEUE_PREFIX}:rate-limit:manual-sync`,
        limit: config.MANUAL_SYNC_RATE_LIMIT_PER_MINUTE,
        windowSeconds: 60,
        setting: 'MANUAL_SYNC_RATE_LIMIT_PER_MINUTE',
      }),
      createRateLimiter({
        redis: deps.redis,
        logger,
        prefix: `${config.QUEUE_PREFIX}:quota:manual-sync-per-user`,
        limit: config.QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR,
        windowSeconds: 3600,
        setting: 'QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR',
        code: 'QUOTA_EXCEEDED',
        message: `At most ${config.QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR} manual syncs per account an hour`,
      }),
    ),
    previewMapping: new MappingPreviewUseCase({
      organizations,
      http,
      limiter: createRateLimiter({ redis: deps.redis, logger, prefix: `${config.QUEUE_PREFIX}:rate-limit:mapping-preview`, limit: config.MAPPING_PREVIEW_RATE_LIMIT_PER_MINUTE, windowSeconds: 60 }),
      maxBytes: previewMaxBytes,
      timeoutMs: config.OUTBOUND_TIMEOUT_MS,
    }),
  });

  return createHttpApp({
    logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks,
    corsOrigins: listSetting(config.CORS_ORIGINS),
    ...(config.METRICS_ENABLED ? { metrics: deps.metrics ?? createMetrics({ service: 'music-config' }) } : {}),
    apiDocs: configApiDocument({ metrics: config.METRICS_ENABLED }),
    index: {
      service: 'music-config',
      description: 'Organizations: how each one syncs with its third party (mode, webhooks, polling, mappings, transforms), manual syncs and the mapping preview, under /organization.',
      links: standardServiceLinks({ metrics: config.METRICS_ENABLED }),
    },
    routes: (app) => app.use('/organization', createJwtGuard(verification), routes),
  });
}
