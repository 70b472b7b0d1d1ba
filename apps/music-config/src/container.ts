import type { Queue } from 'bullmq';
import type { Express } from 'express';
import type { DependencyContainer } from 'tsyringe';
import {
  acceptsUnauthenticatedWebhooks,
  createContainer,
  createHttpApp,
  createJwtGuard,
  createMetrics,
  createOutboundClient,
  createRateLimiter,
  listSetting,
  provideFactory,
  provideValue,
  RedisLocks,
  resolve,
  serviceAppOptions,
  secretBoxFrom,
  token,
  tokenVerificationFor,
  type HealthCheck,
  type Logger,
  type Metrics,
  type OutboundClient,
  type RateLimiter,
  type RateLimiterOptions,
  type RedisClient,
  type SecretBox,
  type TokenVerification,
} from '@music/platform';
import { OrganizationRepository, SyncControlRepository, SyncRunRepository, type Models } from '@music/persistence';
import { jobSettingsFrom, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import type { ConfigServiceSettings } from './config';
import { configApiDocument } from './config.openapi';
import { OrgEventsPublisher } from './org-events.publisher';
import { organizationRoutes, type OrganizationUseCases } from './organization.routes';
import { CreateOrganizationUseCase } from './use-cases/create-organization.use-case';
import { DeleteOrganizationUseCase } from './use-cases/delete-organization.use-case';
import { GetOrganizationUseCase } from './use-cases/get-organization.use-case';
import { ListOrganizationsUseCase } from './use-cases/list-organizations.use-case';
import { OrganizationsPerOwner, type OrganizationQuotaSettings } from './use-cases/organization-quotas';
import { PatchOrganizationUseCase } from './use-cases/patch-organization.use-case';
import { PreviewMappingUseCase } from './use-cases/preview-mapping.use-case';
import { ReplaceOrganizationUseCase } from './use-cases/replace-organization.use-case';
import { RotateWebhookSecretUseCase } from './use-cases/rotate-webhook-secret.use-case';
import { TriggerSyncUseCase } from './use-cases/trigger-sync.use-case';

/**
 * The job queues music-config produces to (the integration app consumes): org-changed events,
 * manual polls, and purges of deleted organizations (without `maintenance`, the integration app's
 * sweeper queues each purge from the organizations marked deleted, a sweep interval later).
 */
export interface ConfigQueues {
  orgEvents: Queue<OrgChangedJob>;
  polling: Queue<PollJob>;
  maintenance?: Queue<PurgeOrganizationJob>;
}

/** What the process (main.ts) or a test hands in: settings, connections, the logger. */
export interface ConfigDeps {
  config: ConfigServiceSettings;
  logger: Logger;
  models: Models;
  /** Holds the quota locks and the rate limits' counters (shared by every music-config process). */
  redis: RedisClient;
  healthChecks: HealthCheck[];
  queues: ConfigQueues;
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

/** Everything music-config is built from; a test overrides one with `provideValue` before resolving `CONFIG.app`. */
export const CONFIG = {
  config: token<ConfigServiceSettings>('ConfigServiceSettings'),
  logger: token<Logger>('Logger'),
  models: token<Models>('Models'),
  redis: token<RedisClient>('RedisClient'),
  healthChecks: token<HealthCheck[]>('HealthChecks'),
  queues: token<ConfigQueues>('ConfigQueues'),
  /** Resolved only when METRICS_ENABLED. */
  metrics: token<Metrics>('Metrics'),
  verification: token<TokenVerification>('TokenVerification'),
  secrets: token<SecretBox>('SecretBox'),
  /** The guarded client the mapping preview reads endpoints with (its size cap is the preview's). */
  previewHttp: token<OutboundClient>('PreviewOutboundClient'),
  organizations: token<OrganizationRepository>('OrganizationRepository'),
  syncRuns: token<SyncRunRepository>('SyncRunRepository'),
  syncControls: token<SyncControlRepository>('SyncControlRepository'),
  locks: token<RedisLocks>('RedisLocks'),
  quotas: token<OrganizationQuotaSettings>('OrganizationQuotaSettings'),
  events: token<OrgEventsPublisher>('OrgEventsPublisher'),
  /** Manual syncs per organization (MANUAL_SYNC_RATE_LIMIT_PER_MINUTE). */
  manualSyncLimiter: token<RateLimiter>('ManualSyncLimiter'),
  /** Manual syncs per account (QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR). */
  manualSyncQuota: token<RateLimiter>('ManualSyncQuota'),
  /** Mapping previews that read an endpoint, per organization (MAPPING_PREVIEW_RATE_LIMIT_PER_MINUTE). */
  previewLimiter: token<RateLimiter>('MappingPreviewLimiter'),
  useCases: token<OrganizationUseCases>('OrganizationUseCases'),
  app: token<Express>('ConfigApp'),
};

/** The largest first page a mapping preview reads: its own cap, within the outbound one. */
const previewMaxBytes = (config: ConfigServiceSettings): number => Math.min(config.OUTBOUND_MAX_BYTES, config.MAPPING_PREVIEW_MAX_BYTES);

/**
 * A limit counted in Redis under `<QUEUE_PREFIX>:<name>`, so every music-config process shares the
 * counts; it fails open (and warns) while Redis is down.
 */
function redisLimiter(c: DependencyContainer, name: string, options: Omit<RateLimiterOptions, 'redis' | 'logger' | 'prefix'>): RateLimiter {
  const prefix = `${resolve(c, CONFIG.config).QUEUE_PREFIX}:${name}`;
  return createRateLimiter({ redis: resolve(c, CONFIG.redis), logger: resolve(c, CONFIG.logger), prefix, ...options });
}

/** music-config's composition root: each dependency registered with the factory that builds it. */
export function configContainer(deps: ConfigDeps): DependencyContainer {
  const c = createContainer();
  provideValue(c, CONFIG.config, deps.config);
  provideValue(c, CONFIG.logger, deps.logger);
  provideValue(c, CONFIG.models, deps.models);
  provideValue(c, CONFIG.redis, deps.redis);
  provideValue(c, CONFIG.healthChecks, deps.healthChecks);
  provideValue(c, CONFIG.queues, deps.queues);
  provideFactory(c, CONFIG.metrics, () => deps.metrics ?? createMetrics({ service: 'music-config' }));

  provideFactory(c, CONFIG.secrets, (c) => {
    const secrets = secretBoxFrom(resolve(c, CONFIG.config));
    if (secrets.development) resolve(c, CONFIG.logger).warn('sealing stored secrets with the development key: set SECRETS_KEYS (production refuses to start without it)');
    return secrets;
  });
  provideFactory(c, CONFIG.verification, (c) => tokenVerificationFor(resolve(c, CONFIG.config), resolve(c, CONFIG.logger)));
  provideFactory(c, CONFIG.previewHttp, (c) => {
    const config = resolve(c, CONFIG.config);
    return createOutboundClient({ allowList: listSetting(config.OUTBOUND_ALLOW_LIST), timeoutMs: config.OUTBOUND_TIMEOUT_MS, maxBytes: previewMaxBytes(config) });
  });
  provideFactory(c, CONFIG.organizations, (c) => new OrganizationRepository(resolve(c, CONFIG.models), resolve(c, CONFIG.secrets)));
  provideFactory(c, CONFIG.syncRuns, (c) => new SyncRunRepository(resolve(c, CONFIG.models)));
  provideFactory(c, CONFIG.syncControls, (c) => new SyncControlRepository(resolve(c, CONFIG.models)));
  provideFactory(c, CONFIG.locks, (c) => {
    const logger = resolve(c, CONFIG.logger);
    return new RedisLocks(resolve(c, CONFIG.redis), {
      prefix: resolve(c, CONFIG.config).QUEUE_PREFIX,
      onUnavailable: (e) => logger.warn('redis unavailable for quota locks; counting unlocked', { err: e.message }),
    });
  });
  provideFactory(c, CONFIG.quotas, (c) => {
    const config = resolve(c, CONFIG.config);
    return {
      organizationsPerUser: config.QUOTA_ORGANIZATIONS_PER_USER,
      pollingEntriesPerOrganization: config.QUOTA_POLLING_ENTRIES_PER_ORGANIZATION,
      pagesPerRun: config.QUOTA_PAGES_PER_RUN,
    };
  });
  provideFactory(c, CONFIG.events, (c) => {
    const config = resolve(c, CONFIG.config);
    return new OrgEventsPublisher(resolve(c, CONFIG.queues), resolve(c, CONFIG.logger), config.QUEUE_ENQUEUE_TIMEOUT_MS, jobSettingsFrom(config));
  });

  provideFactory(c, CONFIG.manualSyncLimiter, (c) => {
    const config = resolve(c, CONFIG.config);
    return redisLimiter(c, 'rate-limit:manual-sync', { limit: config.MANUAL_SYNC_RATE_LIMIT_PER_MINUTE, windowSeconds: 60, setting: 'MANUAL_SYNC_RATE_LIMIT_PER_MINUTE' });
  });
  provideFactory(c, CONFIG.manualSyncQuota, (c) => {
    const limit = resolve(c, CONFIG.config).QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR;
    return redisLimiter(c, 'quota:manual-sync-per-user', {
      limit,
      windowSeconds: 3600,
      setting: 'QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR',
      code: 'QUOTA_EXCEEDED',
      message: `At most ${limit} manual syncs per account an hour`,
    });
  });
  provideFactory(c, CONFIG.previewLimiter, (c) => redisLimiter(c, 'rate-limit:mapping-preview', { limit: resolve(c, CONFIG.config).MAPPING_PREVIEW_RATE_LIMIT_PER_MINUTE, windowSeconds: 60 }));

  provideFactory(c, CONFIG.useCases, (c): OrganizationUseCases => {
    const config = resolve(c, CONFIG.config);
    const organizations = resolve(c, CONFIG.organizations);
    const events = resolve(c, CONFIG.events);
    const quotas = resolve(c, CONFIG.quotas);
    const writes = { organizations, events, quotas };
    return {
      create: new CreateOrganizationUseCase({ ...writes, perOwner: new OrganizationsPerOwner(organizations, resolve(c, CONFIG.locks), quotas.organizationsPerUser) }),
      list: new ListOrganizationsUseCase({ organizations }),
      get: new GetOrganizationUseCase({ organizations }),
      replace: new ReplaceOrganizationUseCase(writes),
      patch: new PatchOrganizationUseCase(writes),
      remove: new DeleteOrganizationUseCase(writes),
      rotateSecret: new RotateWebhookSecretUseCase({ organizations, events, overlapSeconds: config.WEBHOOK_SECRET_OVERLAP_SECONDS }),
      triggerSync: new TriggerSyncUseCase({
        organizations,
        syncRuns: resolve(c, CONFIG.syncRuns),
        controls: resolve(c, CONFIG.syncControls),
        pollingQueue: resolve(c, CONFIG.queues).polling,
        jobSettings: jobSettingsFrom(config),
        logger: resolve(c, CONFIG.logger),
        enqueueTimeoutMs: config.QUEUE_ENQUEUE_TIMEOUT_MS,
        perOrganization: resolve(c, CONFIG.manualSyncLimiter),
        perOwner: resolve(c, CONFIG.manualSyncQuota),
      }),
      previewMapping: new PreviewMappingUseCase({
        organizations,
        http: resolve(c, CONFIG.previewHttp),
        limiter: resolve(c, CONFIG.previewLimiter),
        maxBytes: previewMaxBytes(config),
        timeoutMs: config.OUTBOUND_TIMEOUT_MS,
      }),
    };
  });

  provideFactory(c, CONFIG.app, (c) => {
    const config = resolve(c, CONFIG.config);
    const guard = createJwtGuard(resolve(c, CONFIG.verification));
    const routes = organizationRoutes(resolve(c, CONFIG.useCases), {
      inboundBaseUrl: config.INBOUND_WEBHOOK_BASE_URL,
      acceptsUnauthenticated: acceptsUnauthenticatedWebhooks(config),
    });
    return createHttpApp({
      logger: resolve(c, CONFIG.logger),
      healthChecks: resolve(c, CONFIG.healthChecks),
      ...serviceAppOptions(config, {
        service: 'music-config',
        description: 'Organizations: how each one syncs with its third party (mode, webhooks, polling, mappings, transforms), manual syncs and the mapping preview, under /organization.',
        apiDocument: configApiDocument,
        metrics: () => resolve(c, CONFIG.metrics),
      }),
      routes: (app) => app.use('/organization', guard, routes),
    });
  });
  return c;
}
