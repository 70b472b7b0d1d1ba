import type { ConnectionOptions } from 'bullmq';
import type { Express } from 'express';
import type { DependencyContainer } from 'tsyringe';
import {
  acceptsUnauthenticatedWebhooks,
  createContainer,
  createOutboundClient,
  createRateLimiter,
  listSetting,
  provideFactory,
  provideValue,
  RedisLocks,
  resolve,
  secretBoxFrom,
  token,
  type HealthCheck,
  type Logger,
  type Metrics,
  type OutboundClient,
  type RedisClient,
} from '@music/platform';
import { InventoryRepository, OrganizationRepository, PollMemoryRepository, SyncControlRepository, SyncRunRepository, type Models } from '@music/persistence';
import { jobSettingsFrom, openQueue, QUEUE_NAMES, type JobSettings } from '@music/queue';
import { createSyncState, setSyncMutant, type SyncState } from '@music/sync-state';
import { integrationApp, type IntegrationRouteDeps } from './app';
import type { IntegrationConfig } from './config';
import { SyncControls } from './controls/sync-controls';
import { GetSyncStatusUseCase } from './controls/use-cases/get-sync-status.use-case';
import { PauseSyncUseCase } from './controls/use-cases/pause-sync.use-case';
import { ReplayDeliveriesUseCase } from './controls/use-cases/replay-deliveries.use-case';
import { ResumeSyncUseCase } from './controls/use-cases/resume-sync.use-case';
import { SendNotificationUseCase } from './controls/use-cases/send-notification.use-case';
import { SendTestEventUseCase } from './controls/use-cases/send-test-event.use-case';
import { AccountOutbound } from './delivery/account-outbound';
import { DeliveryRepository } from './delivery/delivery.repository';
import { GaveUpNotice } from './delivery/gave-up-notice';
import { DeliverChangeUseCase } from './delivery/use-cases/deliver-change.use-case';
import { FanOutChangeUseCase } from './delivery/use-cases/fan-out-change.use-case';
import { MappingCache } from './engine/mapping-cache';
import { AcceptRemoteVersionUseCase } from './history/use-cases/accept-remote-version.use-case';
import { FindOwnedOrganizationUseCase } from './history/use-cases/find-owned-organization.use-case';
import { GetDeliveryUseCase } from './history/use-cases/get-delivery.use-case';
import { GetSyncRunUseCase } from './history/use-cases/get-sync-run.use-case';
import { ListDeliveriesUseCase } from './history/use-cases/list-deliveries.use-case';
import { ListDivergencesUseCase } from './history/use-cases/list-divergences.use-case';
import { ListSyncRunsUseCase } from './history/use-cases/list-sync-runs.use-case';
import { ReplayDeliveryUseCase } from './history/use-cases/replay-delivery.use-case';
import { ReplayDivergenceUseCase } from './history/use-cases/replay-divergence.use-case';
import { AcceptInboundWebhookUseCase } from './inbound/use-cases/accept-inbound-webhook.use-case';
import { ApplyInboundWebhookUseCase } from './inbound/use-cases/apply-inbound-webhook.use-case';
import { ConfigurationMemory } from './maintenance/configuration-memory';
import { ExpireRetainedUseCase } from './maintenance/use-cases/expire-retained.use-case';
import { PurgeOrganizationUseCase } from './maintenance/use-cases/purge-organization.use-case';
import { ReconcileAllUseCase } from './maintenance/use-cases/reconcile-all.use-case';
import { ReconcileOrganizationUseCase } from './maintenance/use-cases/reconcile-organization.use-case';
import { SweepLostWorkUseCase } from './maintenance/use-cases/sweep-lost-work.use-case';
import { OrganizationCache } from './engine/organization-cache';
import { OrganizationSlots } from './engine/organization-slots';
import { MeteredSyncRunRepository, SyncMetrics } from './engine/sync-metrics';
import { PollRun } from './polling/poll-run';
import { PollingSchedules } from './polling/polling-schedules';
import { RunPollUseCase } from './polling/use-cases/run-poll.use-case';
import type { IntegrationQueues } from './integration-queues';

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
  /** The process's registry: the sync counts runs, records, deliveries and queue depths on it, the app serves it. Without it nothing is counted and the app (when METRICS_ENABLED) serves a fresh one. */
  metrics?: Metrics;
}

/** The poll lease's TTL: renewed every third of it while a run works; a dead run's lease frees after it. */
const POLL_LEASE_TTL_MS = 30_000;

/**
 * The per-item send lease's TTL: a send may take the whole outbound timeout, with 5 s for its store
 * work around it (the lease is renewed every third of it while held). Also how long a
 * configuration reconciliation waits for a send on its way: a live send's call is bounded by the
 * outbound timeout, and a crashed sender's lease frees within it; one held longer (the store slow
 * under a send) leaves the reconciliation not complete, and the periodic pass comes back.
 */
const deliveryLeaseTtlMs = (config: Pick<IntegrationConfig, 'OUTBOUND_TIMEOUT_MS'>): number => config.OUTBOUND_TIMEOUT_MS + 5000;

/** Everything music-integration is built from; a test overrides one with `provideValue` before resolving. */
export const INTEGRATION = {
  deps: token<IntegrationDeps>('IntegrationDeps'),
  config: token<IntegrationConfig>('IntegrationConfig'),
  logger: token<Logger>('Logger'),
  models: token<Models>('Models'),
  redis: token<RedisClient>('RedisClient'),
  queues: token<IntegrationQueues>('IntegrationQueues'),
  jobSettings: token<JobSettings>('JobSettings'),
  /** The sync's metrics on the process's registry; null when the process has none. */
  syncMetrics: token<SyncMetrics | null>('SyncMetrics'),
  organizations: token<OrganizationRepository>('OrganizationRepository'),
  items: token<InventoryRepository>('InventoryRepository'),
  runs: token<SyncRunRepository>('SyncRunRepository'),
  deliveries: token<DeliveryRepository>('DeliveryRepository'),
  syncControls: token<SyncControlRepository>('SyncControlRepository'),
  pollMemory: token<PollMemoryRepository>('PollMemoryRepository'),
  locks: token<RedisLocks>('RedisLocks'),
  /** The one writer of item state. */
  syncState: token<SyncState>('SyncState'),
  mappings: token<MappingCache>('MappingCache'),
  /** The organizations the delivery path reads, opened once per revision (exact: the revision is checked on every read). */
  organizationCache: token<OrganizationCache>('OrganizationCache'),
  /** Per-organization caps on deliveries and polls in flight (ORG_MAX_INFLIGHT_*). */
  slots: token<OrganizationSlots>('OrganizationSlots'),
  /** The guarded outbound client (or the one handed in), before each account's quota. */
  outboundClient: token<OutboundClient>('OutboundClient'),
  /** The outbound client as each organization uses it (its owner's quota, its entries' credentials). */
  outbound: token<AccountOutbound>('AccountOutbound'),
  /** Pause, resume, auto-pause, status and notifications. */
  controls: token<SyncControls>('SyncControls'),
  schedules: token<PollingSchedules>('PollingSchedules'),
  pollRun: token<PollRun>('PollRun'),
  runPoll: token<RunPollUseCase>('RunPollUseCase'),
  sendNotification: token<SendNotificationUseCase>('SendNotificationUseCase'),
  sendTestEvent: token<SendTestEventUseCase>('SendTestEventUseCase'),
  applyInbound: token<ApplyInboundWebhookUseCase>('ApplyInboundWebhookUseCase'),
  acceptInboundWebhook: token<AcceptInboundWebhookUseCase>('AcceptInboundWebhookUseCase'),
  /** The organization of an `/organization/:id/...` route, if the caller owns it. */
  findOwnedOrganization: token<FindOwnedOrganizationUseCase>('FindOwnedOrganizationUseCase'),
  listSyncRuns: token<ListSyncRunsUseCase>('ListSyncRunsUseCase'),
  getSyncRun: token<GetSyncRunUseCase>('GetSyncRunUseCase'),
  listDeliveries: token<ListDeliveriesUseCase>('ListDeliveriesUseCase'),
  getDelivery: token<GetDeliveryUseCase>('GetDeliveryUseCase'),
  replayDelivery: token<ReplayDeliveryUseCase>('ReplayDeliveryUseCase'),
  replayDeliveries: token<ReplayDeliveriesUseCase>('ReplayDeliveriesUseCase'),
  listDivergences: token<ListDivergencesUseCase>('ListDivergencesUseCase'),
  replayDivergence: token<ReplayDivergenceUseCase>('ReplayDivergenceUseCase'),
  acceptRemoteVersion: token<AcceptRemoteVersionUseCase>('AcceptRemoteVersionUseCase'),
  getSyncStatus: token<GetSyncStatusUseCase>('GetSyncStatusUseCase'),
  pauseSync: token<PauseSyncUseCase>('PauseSyncUseCase'),
  resumeSync: token<ResumeSyncUseCase>('ResumeSyncUseCase'),
  /** The revision each organization's configuration was last applied to its pending work at. */
  configurationMemory: token<ConfigurationMemory>('ConfigurationMemory'),
  reconcileOrganization: token<ReconcileOrganizationUseCase>('ReconcileOrganizationUseCase'),
  reconcileAll: token<ReconcileAllUseCase>('ReconcileAllUseCase'),
  expireRetained: token<ExpireRetainedUseCase>('ExpireRetainedUseCase'),
  sweepLostWork: token<SweepLostWorkUseCase>('SweepLostWorkUseCase'),
  purgeOrganization: token<PurgeOrganizationUseCase>('PurgeOrganizationUseCase'),
  /** A delivery gave up: its organization's notification webhooks are told. */
  gaveUpNotice: token<GaveUpNotice>('GaveUpNotice'),
  fanOutChange: token<FanOutChangeUseCase>('FanOutChangeUseCase'),
  deliverChange: token<DeliverChangeUseCase>('DeliverChangeUseCase'),
  /** What the HTTP routes call: their use cases (and the queues the dashboard shows), each resolved here. */
  routes: token<IntegrationRouteDeps>('IntegrationRouteDeps'),
  app: token<Express>('IntegrationApp'),
};

/** music-integration's composition root: each dependency registered with the factory that builds it. */
export function integrationContainer(deps: IntegrationDeps): DependencyContainer {
  const c = createContainer();
  provideValue(c, INTEGRATION.deps, deps);
  provideValue(c, INTEGRATION.config, deps.config);
  provideValue(c, INTEGRATION.logger, deps.logger);
  provideValue(c, INTEGRATION.models, deps.models);
  provideValue(c, INTEGRATION.redis, deps.redis);
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
  provideFactory(c, INTEGRATION.jobSettings, (c) => jobSettingsFrom(resolve(c, INTEGRATION.config)));
  provideFactory(c, INTEGRATION.syncMetrics, (c) => {
    const { metrics } = resolve(c, INTEGRATION.deps);
    if (!metrics) return null;
    const items = resolve(c, INTEGRATION.items);
    const deliveries = resolve(c, INTEGRATION.deliveries);
    const controls = resolve(c, INTEGRATION.syncControls);
    // Items diverged now (the divergence gauge).
    return new SyncMetrics(metrics.registry, resolve(c, INTEGRATION.queues), () => items.countDiverged(), {
      // Local changes not yet fanned out, pending deliveries and dead letters (the backlog gauges).
      backlog: async () => {
        const [outbox, pending, failed] = await Promise.all([items.countOutbox(), deliveries.countByStatus('pending'), deliveries.countByStatus('failed')]);
        return { outbox, pending, failed };
      },
      lastSuccesses: async () => (await controls.listAll()).filter((s) => s.entryId !== null && !s.paused).map((s) => s.lastSuccessAt),
    });
  });

  provideFactory(c, INTEGRATION.organizations, (c) => {
    const secrets = secretBoxFrom(resolve(c, INTEGRATION.config));
    if (secrets.development) resolve(c, INTEGRATION.logger).warn('opening stored secrets with the development key: set SECRETS_KEYS (production refuses to start without it)');
    return new OrganizationRepository(resolve(c, INTEGRATION.models), secrets);
  });
  provideFactory(c, INTEGRATION.items, (c) => new InventoryRepository(resolve(c, INTEGRATION.models)));
  provideFactory(c, INTEGRATION.runs, (c) => {
    const metrics = resolve(c, INTEGRATION.syncMetrics);
    return metrics ? new MeteredSyncRunRepository(resolve(c, INTEGRATION.models), metrics) : new SyncRunRepository(resolve(c, INTEGRATION.models));
  });
  provideFactory(c, INTEGRATION.deliveries, (c) => new DeliveryRepository(resolve(c, INTEGRATION.models)));
  provideFactory(c, INTEGRATION.syncControls, (c) => new SyncControlRepository(resolve(c, INTEGRATION.models)));
  provideFactory(c, INTEGRATION.pollMemory, (c) => new PollMemoryRepository(resolve(c, INTEGRATION.models)));
  provideFactory(c, INTEGRATION.locks, (c) => {
    const logger = resolve(c, INTEGRATION.logger);
    return new RedisLocks(resolve(c, INTEGRATION.redis), {
      prefix: resolve(c, INTEGRATION.config).QUEUE_PREFIX,
      onUnavailable: (e) => logger.warn('redis unavailable for locks; writing unlocked', { err: e.message }),
    });
  });
  provideFactory(c, INTEGRATION.syncState, (c) => {
    // Test only (refused in production by the config): a deliberately broken writer.
    const config = resolve(c, INTEGRATION.config);
    setSyncMutant(config.SYNC_MUTANT ?? null);
    const observer = resolve(c, INTEGRATION.syncMetrics);
    return createSyncState({
      models: resolve(c, INTEGRATION.models),
      locks: resolve(c, INTEGRATION.locks),
      ...(observer ? { observer } : {}),
      sendLeaseWaitMs: deliveryLeaseTtlMs(config),
    });
  });
  provideFactory(c, INTEGRATION.mappings, () => new MappingCache());
  provideFactory(c, INTEGRATION.organizationCache, (c) => new OrganizationCache(resolve(c, INTEGRATION.organizations)));
  provideFactory(c, INTEGRATION.slots, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new OrganizationSlots(
      resolve(c, INTEGRATION.redis),
      config.QUEUE_PREFIX,
      { deliver: config.ORG_MAX_INFLIGHT_DELIVERIES, poll: config.ORG_MAX_INFLIGHT_POLLS },
      // A crashed holder's slot frees after its work could have ended.
      { deliver: config.OUTBOUND_TIMEOUT_MS + 30_000, poll: config.POLL_RUN_MAX_MS + 60_000 },
    );
  });
  provideFactory(c, INTEGRATION.outboundClient, (c) => {
    const { http } = resolve(c, INTEGRATION.deps);
    if (http) return http;
    const config = resolve(c, INTEGRATION.config);
    const logger = resolve(c, INTEGRATION.logger);
    return createOutboundClient({
      allowList: listSetting(config.OUTBOUND_ALLOW_LIST),
      timeoutMs: config.OUTBOUND_TIMEOUT_MS,
      maxBytes: config.OUTBOUND_MAX_BYTES,
      // Tenants read only "blocked by the outbound policy"; where it resolved is for operators.
      onBlocked: ({ url, reason }) => logger.warn('outbound request blocked by the outbound policy', { url, reason }),
    });
  });
  provideFactory(c, INTEGRATION.outbound, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new AccountOutbound(
      resolve(c, INTEGRATION.outboundClient),
      createRateLimiter({
        redis: resolve(c, INTEGRATION.redis),
        logger: resolve(c, INTEGRATION.logger),
        prefix: `${config.QUEUE_PREFIX}:quota:outbound`,
        limit: config.QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE,
        windowSeconds: 60,
      }),
      config.QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE,
    );
  });
  provideFactory(
    c,
    INTEGRATION.controls,
    (c) =>
      new SyncControls({
        controls: resolve(c, INTEGRATION.syncControls),
        runs: resolve(c, INTEGRATION.runs),
        deliveries: resolve(c, INTEGRATION.deliveries),
        items: resolve(c, INTEGRATION.items),
        sync: resolve(c, INTEGRATION.syncState),
        queues: resolve(c, INTEGRATION.queues),
        jobSettings: resolve(c, INTEGRATION.jobSettings),
        logger: resolve(c, INTEGRATION.logger),
        autoPauseAfter: resolve(c, INTEGRATION.config).AUTO_PAUSE_AFTER_FAILED_RUNS,
      }),
  );
  provideFactory(c, INTEGRATION.schedules, (c) => new PollingSchedules(resolve(c, INTEGRATION.queues).polling, resolve(c, INTEGRATION.config).POLL_MINUTE_MS, resolve(c, INTEGRATION.jobSettings)));
  provideFactory(c, INTEGRATION.pollRun, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new PollRun({
      organizations: resolve(c, INTEGRATION.organizations),
      runs: resolve(c, INTEGRATION.runs),
      items: resolve(c, INTEGRATION.items),
      sync: resolve(c, INTEGRATION.syncState),
      configuration: resolve(c, INTEGRATION.configurationMemory),
      memory: resolve(c, INTEGRATION.pollMemory),
      http: resolve(c, INTEGRATION.outbound),
      mappings: resolve(c, INTEGRATION.mappings),
      locks: resolve(c, INTEGRATION.locks),
      logger: resolve(c, INTEGRATION.logger),
      deleteGuardRatio: config.DELETE_GUARD_RATIO,
      maxRunMs: config.POLL_RUN_MAX_MS,
      tombstoneRetentionMs: config.TOMBSTONE_RETENTION_MS,
      leaseTtlMs: POLL_LEASE_TTL_MS,
      pagesPerRun: config.QUOTA_PAGES_PER_RUN,
    });
  });
  provideFactory(
    c,
    INTEGRATION.runPoll,
    (c) =>
      new RunPollUseCase({
        organizations: resolve(c, INTEGRATION.organizations),
        runs: resolve(c, INTEGRATION.runs),
        controls: resolve(c, INTEGRATION.controls),
        pollRun: resolve(c, INTEGRATION.pollRun),
        metrics: resolve(c, INTEGRATION.syncMetrics),
      }),
  );
  provideFactory(
    c,
    INTEGRATION.sendNotification,
    (c) => new SendNotificationUseCase({ organizations: resolve(c, INTEGRATION.organizations), http: resolve(c, INTEGRATION.outbound), logger: resolve(c, INTEGRATION.logger) }),
  );
  provideFactory(c, INTEGRATION.sendTestEvent, (c) => new SendTestEventUseCase({ http: resolve(c, INTEGRATION.outbound) }));
  provideFactory(
    c,
    INTEGRATION.applyInbound,
    (c) =>
      new ApplyInboundWebhookUseCase({
        organizations: resolve(c, INTEGRATION.organizations),
        sync: resolve(c, INTEGRATION.syncState),
        configuration: resolve(c, INTEGRATION.configurationMemory),
        mappings: resolve(c, INTEGRATION.mappings),
        logger: resolve(c, INTEGRATION.logger),
        tombstoneRetentionMs: resolve(c, INTEGRATION.config).TOMBSTONE_RETENTION_MS,
        metrics: resolve(c, INTEGRATION.syncMetrics),
      }),
  );
  provideFactory(
    c,
    INTEGRATION.configurationMemory,
    (c) =>
      new ConfigurationMemory({
        sync: resolve(c, INTEGRATION.syncState),
        redis: resolve(c, INTEGRATION.redis),
        prefix: resolve(c, INTEGRATION.config).QUEUE_PREFIX,
        logger: resolve(c, INTEGRATION.logger),
      }),
  );
  provideFactory(
    c,
    INTEGRATION.reconcileOrganization,
    (c) =>
      new ReconcileOrganizationUseCase({
        organizations: resolve(c, INTEGRATION.organizations),
        organizationCache: resolve(c, INTEGRATION.organizationCache),
        schedules: resolve(c, INTEGRATION.schedules),
        configuration: resolve(c, INTEGRATION.configurationMemory),
        maintenanceQueue: resolve(c, INTEGRATION.queues).maintenance,
        jobSettings: resolve(c, INTEGRATION.jobSettings),
      }),
  );
  provideFactory(c, INTEGRATION.expireRetained, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new ExpireRetainedUseCase({ sync: resolve(c, INTEGRATION.syncState), tombstoneRetentionMs: config.TOMBSTONE_RETENTION_MS, inboundRetentionMs: config.INBOUND_DEDUPE_RETENTION_MS });
  });
  provideFactory(c, INTEGRATION.reconcileAll, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new ReconcileAllUseCase({
      organizations: resolve(c, INTEGRATION.organizations),
      schedules: resolve(c, INTEGRATION.schedules),
      configuration: resolve(c, INTEGRATION.configurationMemory),
      expireRetained: resolve(c, INTEGRATION.expireRetained),
      redis: resolve(c, INTEGRATION.redis),
      prefix: config.QUEUE_PREFIX,
      intervalMs: config.RECONCILE_INTERVAL_MS,
      logger: resolve(c, INTEGRATION.logger),
    });
  });
  provideFactory(c, INTEGRATION.sweepLostWork, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new SweepLostWorkUseCase({
      organizations: resolve(c, INTEGRATION.organizations),
      deliveries: resolve(c, INTEGRATION.deliveries),
      sync: resolve(c, INTEGRATION.syncState),
      queues: resolve(c, INTEGRATION.queues),
      jobSettings: resolve(c, INTEGRATION.jobSettings),
      reconcileAll: resolve(c, INTEGRATION.reconcileAll),
      redis: resolve(c, INTEGRATION.redis),
      prefix: config.QUEUE_PREFIX,
      graceMs: config.OUTBOX_GRACE_MS,
      reconcileIntervalMs: config.RECONCILE_INTERVAL_MS,
      logger: resolve(c, INTEGRATION.logger),
    });
  });
  provideFactory(
    c,
    INTEGRATION.purgeOrganization,
    (c) =>
      new PurgeOrganizationUseCase({
        organizations: resolve(c, INTEGRATION.organizations),
        schedules: resolve(c, INTEGRATION.schedules),
        locks: resolve(c, INTEGRATION.locks),
        sync: resolve(c, INTEGRATION.syncState),
        outputQueue: resolve(c, INTEGRATION.queues).output,
        runs: resolve(c, INTEGRATION.runs),
        syncControls: resolve(c, INTEGRATION.syncControls),
        logger: resolve(c, INTEGRATION.logger),
      }),
  );

  provideFactory(
    c,
    INTEGRATION.gaveUpNotice,
    (c) =>
      new GaveUpNotice({
        deliveries: resolve(c, INTEGRATION.deliveries),
        organizations: resolve(c, INTEGRATION.organizations),
        controls: resolve(c, INTEGRATION.controls),
        logger: resolve(c, INTEGRATION.logger),
      }),
  );
  provideFactory(c, INTEGRATION.fanOutChange, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new FanOutChangeUseCase({
      organizations: resolve(c, INTEGRATION.organizationCache),
      sync: resolve(c, INTEGRATION.syncState),
      mappings: resolve(c, INTEGRATION.mappings),
      http: resolve(c, INTEGRATION.outbound),
      locks: resolve(c, INTEGRATION.locks),
      logger: resolve(c, INTEGRATION.logger),
      outputQueue: resolve(c, INTEGRATION.queues).output,
      jobSettings: resolve(c, INTEGRATION.jobSettings),
      leaseTtlMs: deliveryLeaseTtlMs(config),
      backoff: { DELIVERY_BACKOFF_BASE_MS: config.DELIVERY_BACKOFF_BASE_MS, DELIVERY_BACKOFF_MAX_MS: config.DELIVERY_BACKOFF_MAX_MS },
      controls: resolve(c, INTEGRATION.controls),
      gaveUp: resolve(c, INTEGRATION.gaveUpNotice),
      metrics: resolve(c, INTEGRATION.syncMetrics),
    });
  });
  provideFactory(c, INTEGRATION.deliverChange, (c) => {
    const config = resolve(c, INTEGRATION.config);
    const controls = resolve(c, INTEGRATION.controls);
    return new DeliverChangeUseCase({
      organizations: resolve(c, INTEGRATION.organizationCache),
      deliveries: resolve(c, INTEGRATION.deliveries),
      sync: resolve(c, INTEGRATION.syncState),
      configuration: resolve(c, INTEGRATION.configurationMemory),
      http: resolve(c, INTEGRATION.outbound),
      locks: resolve(c, INTEGRATION.locks),
      logger: resolve(c, INTEGRATION.logger),
      leaseTtlMs: deliveryLeaseTtlMs(config),
      isPaused: (organizationId) => controls.isDeliveryPaused(organizationId),
      pausedRecheckMs: config.PAUSED_DELIVERY_RECHECK_MS,
      deliveryAttempts: resolve(c, INTEGRATION.jobSettings).deliveryAttempts,
      gaveUp: resolve(c, INTEGRATION.gaveUpNotice),
      metrics: resolve(c, INTEGRATION.syncMetrics),
    });
  });

  provideFactory(c, INTEGRATION.acceptInboundWebhook, (c) => {
    const config = resolve(c, INTEGRATION.config);
    return new AcceptInboundWebhookUseCase({
      organizations: resolve(c, INTEGRATION.organizations),
      inbox: resolve(c, INTEGRATION.syncState).inbox,
      inboundQueue: resolve(c, INTEGRATION.queues).inbound,
      jobSettings: resolve(c, INTEGRATION.jobSettings),
      maxRecords: config.INBOUND_MAX_RECORDS,
      acceptUnauthenticated: acceptsUnauthenticatedWebhooks(config),
      logger: resolve(c, INTEGRATION.logger),
    });
  });
  provideFactory(c, INTEGRATION.findOwnedOrganization, (c) => new FindOwnedOrganizationUseCase({ organizations: resolve(c, INTEGRATION.organizations) }));
  provideFactory(c, INTEGRATION.listSyncRuns, (c) => new ListSyncRunsUseCase({ runs: resolve(c, INTEGRATION.runs) }));
  provideFactory(c, INTEGRATION.getSyncRun, (c) => new GetSyncRunUseCase({ runs: resolve(c, INTEGRATION.runs) }));
  provideFactory(c, INTEGRATION.listDeliveries, (c) => new ListDeliveriesUseCase({ deliveries: resolve(c, INTEGRATION.deliveries) }));
  provideFactory(c, INTEGRATION.getDelivery, (c) => new GetDeliveryUseCase({ deliveries: resolve(c, INTEGRATION.deliveries) }));
  provideFactory(
    c,
    INTEGRATION.replayDelivery,
    (c) =>
      new ReplayDeliveryUseCase({
        deliveries: resolve(c, INTEGRATION.deliveries),
        sync: resolve(c, INTEGRATION.syncState),
        outputQueue: resolve(c, INTEGRATION.queues).output,
        jobSettings: resolve(c, INTEGRATION.jobSettings),
      }),
  );
  provideFactory(
    c,
    INTEGRATION.replayDeliveries,
    (c) => new ReplayDeliveriesUseCase({ deliveries: resolve(c, INTEGRATION.deliveries), replayDelivery: resolve(c, INTEGRATION.replayDelivery) }),
  );
  provideFactory(c, INTEGRATION.listDivergences, (c) => new ListDivergencesUseCase({ items: resolve(c, INTEGRATION.items), deliveries: resolve(c, INTEGRATION.deliveries) }));
  provideFactory(
    c,
    INTEGRATION.replayDivergence,
    (c) =>
      new ReplayDivergenceUseCase({
        sync: resolve(c, INTEGRATION.syncState),
        outputQueue: resolve(c, INTEGRATION.queues).output,
        jobSettings: resolve(c, INTEGRATION.jobSettings),
      }),
  );
  provideFactory(c, INTEGRATION.acceptRemoteVersion, (c) => new AcceptRemoteVersionUseCase({ sync: resolve(c, INTEGRATION.syncState), configuration: resolve(c, INTEGRATION.configurationMemory) }));
  provideFactory(c, INTEGRATION.getSyncStatus, (c) => new GetSyncStatusUseCase({ controls: resolve(c, INTEGRATION.controls) }));
  provideFactory(c, INTEGRATION.pauseSync, (c) => new PauseSyncUseCase({ controls: resolve(c, INTEGRATION.controls) }));
  provideFactory(c, INTEGRATION.resumeSync, (c) => new ResumeSyncUseCase({ controls: resolve(c, INTEGRATION.controls) }));

  provideFactory(
    c,
    INTEGRATION.routes,
    (c): IntegrationRouteDeps => ({
      acceptInboundWebhook: resolve(c, INTEGRATION.acceptInboundWebhook),
      findOwnedOrganization: resolve(c, INTEGRATION.findOwnedOrganization),
      listSyncRuns: resolve(c, INTEGRATION.listSyncRuns),
      getSyncRun: resolve(c, INTEGRATION.getSyncRun),
      listDeliveries: resolve(c, INTEGRATION.listDeliveries),
      getDelivery: resolve(c, INTEGRATION.getDelivery),
      replayDelivery: resolve(c, INTEGRATION.replayDelivery),
      replayDeliveries: resolve(c, INTEGRATION.replayDeliveries),
      listDivergences: resolve(c, INTEGRATION.listDivergences),
      replayDivergence: resolve(c, INTEGRATION.replayDivergence),
      acceptRemoteVersion: resolve(c, INTEGRATION.acceptRemoteVersion),
      getSyncStatus: resolve(c, INTEGRATION.getSyncStatus),
      pauseSync: resolve(c, INTEGRATION.pauseSync),
      resumeSync: resolve(c, INTEGRATION.resumeSync),
      sendTestEvent: resolve(c, INTEGRATION.sendTestEvent),
      queues: resolve(c, INTEGRATION.queues),
    }),
  );
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
