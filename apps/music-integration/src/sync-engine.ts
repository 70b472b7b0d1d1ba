import type { Queue } from 'bullmq';
import { emptyCounts, type Organization, type Webhook } from '@music/domain';
import type { Models } from '@music/persistence';
import { InventoryRepository, OrganizationRepository, PollMemoryRepository, SyncControlRepository, SyncRunRepository } from '@music/persistence';
import { addJob, addJobs, ensureJob, jobSettingsFrom, JOBS, type DeliveryTrace, type FanoutJob, type InboundWebhookJob, type JobSettings, type NotifyJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import { createOutboundClient, createRateLimiter, listSetting, RedisLocks, secretBoxFrom, type Logger, type Metrics, type OutboundClient, type RedisClient } from '@music/platform';
import { createSyncState, setSyncMutant, type SyncState } from '@music/sync-state';
import type { IntegrationConfig } from './config';
import { applyInboundWebhook, type InboundWebhookSummary } from './inbound/apply-inbound-webhook';
import { deliverChange, type DeliverOutcome } from './delivery/deliver-change';
import { DeliveryRepository } from './delivery/delivery.repository';
import { fanOutChange } from './delivery/fanout';
import { MappingCache } from './engine/mapping-cache';
import { OrganizationCache } from './engine/organization-cache';
import { OrganizationSlots } from './engine/organization-slots';
import { PollingSchedules } from './polling/polling-schedules';
import { pollLeaseName, PollRun, type PollRunOutcome } from './polling/poll-run';
import { sendNotification, sendTestEvent, type NotifyOutcome, type TestEventResult } from './controls/notifications';
import { SyncControls } from './controls/sync-controls';
import { MeteredSyncRunRepository, SyncMetrics } from './engine/sync-metrics';
import { AccountOutbound } from './delivery/account-outbound';
import { deliveryBackoffMs } from './delivery/delivery-backoff';

/** The queues music-integration works from (org-events is music-config's, opened here to be seen: Bull Board, queue metrics). */
export type IntegrationQueues = {
  polling: Queue;
  output: Queue;
  inbound: Queue;
  maintenance: Queue;
  notifications: Queue;
  orgEvents: Queue;
};

export interface SyncEngineDeps {
  config: IntegrationConfig;
  logger: Logger;
  models: Models;
  /** Any Redis client (locks); workers and queues get their own connections. */
  redis: RedisClient;
  queues: IntegrationQueues;
  /** Replaceable for tests; defaults to the guarded client built from the config. */
  http?: OutboundClient;
  /** The app's registry: runs, records, deliveries, divergences and queue depths are counted on it. */
  metrics?: Metrics;
}

const SWEEP_BATCH = 500;
/** The poll lease's TTL: renewed every third of it while a run works; a dead run's lease frees after it. */
const POLL_LEASE_TTL_MS = 30_000;
/** How long the revision an organization's configuration was last reconciled at is remembered (then reconciled once more). */
const CONFIGURATION_MEMORY_MS = 24 * 3600 * 1000;

/** What one pass of an organization's purge did; `done` once the organization itself is gone. */
export interface PurgePass {
  removed: number;
  done: boolean;
}

/** The sync use-cases, wired once per process; workers and routes call into it. */
export class SyncEngine {
  readonly organizations: OrganizationRepository;
  readonly runs: SyncRunRepository;
  readonly deliveries: DeliveryRepository;
  readonly items: InventoryRepository;
  readonly schedules: PollingSchedules;
  readonly pollRun: PollRun;
  /** The one writer of item state. */
  readonly sync: SyncState;
  /** Pause, resume, auto-pause, status and notifications. */
  readonly controls: SyncControls;
  readonly controlStore: SyncControlRepository;
  readonly jobSettings: JobSettings;
  private readonly mappings = new MappingCache();
  /** The organizations the delivery path reads, opened once per revision (exact: the revision is checked on every read). */
  readonly organizationCache: OrganizationCache;
  /** Per-organization caps on deliveries and polls in flight (ORG_MAX_INFLIGHT_*). */
  readonly slots: OrganizationSlots;
  private readonly locks: RedisLocks;
  private readonly http: AccountOutbound;
  private readonly metrics: SyncMetrics | undefined;

  readonly queues: SyncEngineDeps['queues'];

  constructor(private readonly deps: SyncEngineDeps) {
    this.queues = deps.queues;
    const { models, config } = deps;
    this.jobSettings = jobSettingsFrom(config);
    const secrets = secretBoxFrom(config);
    if (secrets.development) deps.logger.warn('opening stored secrets with the development key: set SECRETS_KEYS (production refuses to start without it)');
    this.organizations = new OrganizationRepository(models, secrets);
    this.items = new InventoryRepository(models);
    this.organizationCache = new OrganizationCache(this.organizations);
    this.slots = new OrganizationSlots(
      deps.redis,
      config.QUEUE_PREFIX,
      { deliver: config.ORG_MAX_INFLIGHT_DELIVERIES, poll: config.ORG_MAX_INFLIGHT_POLLS },
      // A crashed holder's slot frees after its work could have ended.
      { deliver: config.OUTBOUND_TIMEOUT_MS + 30_000, poll: config.POLL_RUN_MAX_MS + 60_000 },
    );
    this.controlStore = new SyncControlRepository(models);
    this.metrics = deps.metrics
      ? new SyncMetrics(deps.metrics.registry, deps.queues, () => this.countDiverged(), {
          backlog: () => this.countBacklog(),
          lastSuccesses: async () => (await this.controlStore.listAll()).filter((c) => c.entryId !== null && !c.paused).map((c) => c.lastSuccessAt),
        })
      : undefined;
    this.runs = this.metrics ? new MeteredSyncRunRepository(models, this.metrics) : new SyncRunRepository(models);
    this.deliveries = new DeliveryRepository(models);
    this.locks = new RedisLocks(deps.redis, {
      prefix: config.QUEUE_PREFIX,
      onUnavailable: (e) => deps.logger.warn('redis unavailable for locks; writing unlocked', { err: e.message }),
    });
    this.sync = createSyncState({ models, locks: this.locks, ...(this.metrics ? { observer: this.metrics } : {}) });
    // Test only (refused in production by the config): a deliberately broken engine.
    setSyncMutant(config.SYNC_MUTANT ?? null);
    const client =
      deps.http ??
      createOutboundClient({
        allowList: listSetting(config.OUTBOUND_ALLOW_LIST),
        timeoutMs: config.OUTBOUND_TIMEOUT_MS,
        maxBytes: config.OUTBOUND_MAX_BYTES,
        // Tenants read only "blocked by the outbound policy"; where it resolved is for operators.
        onBlocked: ({ url, reason }) => deps.logger.warn('outbound request blocked by the outbound policy', { url, reason }),
      });
    this.http = new AccountOutbound(
      client,
      createRateLimiter({
        redis: deps.redis,
        logger: deps.logger,
        prefix: `${config.QUEUE_PREFIX}:quota:outbound`,
        limit: config.QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE,
        windowSeconds: 60,
      }),
      config.QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE,
    );
    this.controls = new SyncControls({
      controls: this.controlStore,
      runs: this.runs,
      deliveries: this.deliveries,
      models,
      sync: this.sync,
      queues: deps.queues,
      jobSettings: this.jobSettings,
      logger: deps.logger,
      autoPauseAfter: config.AUTO_PAUSE_AFTER_FAILED_RUNS,
    });
    this.schedules = new PollingSchedules(deps.queues.polling, config.POLL_MINUTE_MS, this.jobSettings);
    this.pollRun = new PollRun({
      organizations: this.organizations,
      runs: this.runs,
      items: this.items,
      sync: this.sync,
      memory: new PollMemoryRepository(models),
      http: this.http,
      mappings: this.mappings,
      locks: this.locks,
      logger: deps.logger,
      deleteGuardRatio: config.DELETE_GUARD_RATIO,
      maxRunMs: config.POLL_RUN_MAX_MS,
      leaseTtlMs: POLL_LEASE_TTL_MS,
      pagesPerRun: config.QUOTA_PAGES_PER_RUN,
    });
  }

  /**
   * One attempt of a poll job: nothing runs while the organization or the entry is paused (a
   * queued manual run is marked skipped); the run's end counts towards the auto-pause.
   * `lastAttempt`: a transient failure now is the run's end.
   */
  async poll(job: PollJob, ensureRunId: (runId: string) => Promise<void>, lastAttempt: boolean): Promise<PollRunOutcome | { kind: 'paused' }> {
    if (await this.controls.isPollPaused(job.organizationId, job.pollingId)) {
      if (job.runId) await this.runs.finish(job.runId, { status: 'skipped', counts: emptyCounts(), pages: 0, errors: [], message: 'the organization or this polling entry is paused' });
      return { kind: 'paused' };
    }
    const started = performance.now();
    const outcome = await this.pollRun.execute(job, ensureRunId);
    const ended = outcome.kind === 'done' ? outcome.status : outcome.kind === 'retry' && lastAttempt ? ('failed' as const) : null;
    if (outcome.kind === 'done' || outcome.kind === 'retry') this.metrics?.pollRunDuration((performance.now() - started) / 1000, ended ?? 'failed');
    if (ended !== null && (outcome.kind === 'done' || outcome.kind === 'retry')) {
      const org = await this.organizations.findById(job.organizationId);
      if (org) await this.controls.runEnded(org, job.pollingId, outcome.runId, ended);
    }
    return outcome;
  }

  /** One attempt of a notify job. */
  notify(job: NotifyJob): Promise<NotifyOutcome> {
    return sendNotification(job, { organizations: this.organizations, http: this.http, logger: this.deps.logger });
  }

  /** A signed test event to an output webhook, now (nothing recorded). */
  testWebhook(org: Organization, webhook: Webhook): Promise<TestEventResult> {
    return sendTestEvent(org, webhook, this.http);
  }

  fanout(job: FanoutJob): Promise<string> {
    const config = this.deps.config;
    return fanOutChange(job, {
      organizations: this.organizationCache,
      sync: this.sync,
      mappings: this.mappings,
      enqueueDeliveries: (organizationId, ids, trace) => this.enqueueDeliveries(organizationId, ids, trace),
      logger: this.deps.logger,
      firstAttempt: {
        http: this.http,
        locks: this.locks,
        leaseTtlMs: config.OUTBOUND_TIMEOUT_MS + 5000,
        lastAttempt: this.jobSettings.deliveryAttempts <= 1,
        enqueueRetry: (organizationId, deliveryId, trace, delayMs) =>
          addJob(this.deps.queues.output, JOBS.deliver, { version: 1, organizationId, deliveryId, priorAttempts: 1, ...trace }, this.jobSettings, { delay: delayMs }),
        retryDelayMs: (retryAfterMs) => deliveryBackoffMs(1, config, retryAfterMs),
        outcome: (outcome) => this.metrics?.deliveryOutcome(outcome),
        isPaused: (organizationId) => this.controls.isDeliveryPaused(organizationId),
        gaveUp: (deliveryId) => this.deliveryGaveUp(deliveryId),
      },
    });
  }

  /** One attempt of a delivery; `lastAttempt`: a transient failure now dead-letters it. */
  async deliver(deliveryId: string, attemptNumber: number, lastAttempt = attemptNumber >= this.jobSettings.deliveryAttempts): Promise<DeliverOutcome> {
    const outcome = await deliverChange(deliveryId, attemptNumber, lastAttempt, {
      organizations: this.organizationCache,
      deliveries: this.deliveries,
      sync: this.sync,
      http: this.http,
      locks: this.locks,
      logger: this.deps.logger,
      leaseTtlMs: this.deps.config.OUTBOUND_TIMEOUT_MS + 5000,
      isPaused: (organizationId) => this.controls.isDeliveryPaused(organizationId),
      pausedRecheckMs: this.deps.config.PAUSED_DELIVERY_RECHECK_MS,
    });
    this.metrics?.deliveryOutcome(outcome);
    if (outcome.kind === 'failed') await this.deliveryGaveUp(deliveryId);
    return outcome;
  }

  async applyInbound(job: InboundWebhookJob): Promise<InboundWebhookSummary> {
    const summary = await applyInboundWebhook(job, {
      organizations: this.organizations,
      sync: this.sync,
      mappings: this.mappings,
      logger: this.deps.logger,
      tombstoneRetentionMs: this.deps.config.TOMBSTONE_RETENTION_MS,
    });
    this.metrics?.inboundApplied(summary);
    return summary;
  }

  async enqueueDeliveries(organizationId: string, deliveryIds: string[], trace: DeliveryTrace = {}): Promise<void> {
    await addJobs(
      this.deps.queues.output,
      JOBS.deliver,
      deliveryIds.map((deliveryId) => ({ version: 1 as const, organizationId, deliveryId, ...trace })),
      this.jobSettings,
    );
  }

  /**
   * An organization was created, changed or deleted: its polling schedules follow its entries, and
   * its pending work follows its configuration (removed webhooks, a switch to one-way, removed
   * entries: rule 8). A deleted one gets its purge queued.
   */
  async reconcileOrganization(organizationId: string): Promise<{ upserted: number; removed: number }> {
    this.organizationCache.forget(organizationId);
    const org = await this.organizations.findById(organizationId);
    const schedules = await this.schedules.reconcile(organizationId, org);
    if (org) await this.reconcileConfiguration(org);
    else if (await this.organizations.findDeleted(organizationId)) await this.queuePurge(organizationId);
    return schedules;
  }

  private configurationKey(organizationId: string): string {
    return `${this.deps.config.QUEUE_PREFIX}:configuration-reconciled:${organizationId}`;
  }

  /** Applies the organization's configuration to its pending work (rule 8), and remembers the revision it did. */
  private async reconcileConfiguration(org: Organization): Promise<void> {
    const reconciled = await this.sync.maintenance.reconcileConfiguration(org);
    if (reconciled.cancelled + reconciled.items + reconciled.entriesRemoved > 0) this.deps.logger.info("pending work follows the organization's configuration", { orgId: org.id, ...reconciled });
    await this.deps.redis.set(this.configurationKey(org.id), String(org.revision), 'PX', CONFIGURATION_MEMORY_MS);
  }

  private get reconcileKey(): string {
    return `${this.deps.config.QUEUE_PREFIX}:reconcile-done`;
  }

  /**
   * Reconciles every organization's schedules and pending work with the database (org events can
   * be lost: they are best effort), expires tombstones and old inbound messages, and defers the
   * next periodic reconciliation an interval.
   */
  async reconcileAll(): Promise<{ upserted: number; removed: number }> {
    await this.deps.redis.set(this.reconcileKey, String(Date.now()), 'PX', this.deps.config.RECONCILE_INTERVAL_MS);
    const result = await this.schedules.reconcileAll(await this.organizations.listWithPolling());
    // Only organizations whose latest revision was not reconciled (its change event lost): each one is a scan of its items.
    for (const org of await this.organizations.listLive()) {
      if ((await this.deps.redis.get(this.configurationKey(org.id))) !== String(org.revision)) await this.reconcileConfiguration(org);
    }
    const expired = await this.expire();
    this.deps.logger.info('polling schedules and pending work reconciled', { ...result, ...expired });
    return result;
  }

  /** Removes settled tombstones and applied inbound messages past their retention (store clock). */
  async expire(): Promise<{ tombstones: number; inboundMessages: number }> {
    const now = (await this.sync.clock.now()).getTime();
    return {
      tombstones: await this.sync.maintenance.expireTombstones(new Date(now - this.deps.config.TOMBSTONE_RETENTION_MS)),
      inboundMessages: await this.sync.inbox.expireApplied(new Date(now - this.deps.config.INBOUND_DEDUPE_RETENTION_MS)),
    };
  }

  /**
   * Re-enqueues work a crash or a Redis loss left behind: local changes whose fan-out never ran,
   * pending deliveries whose job is gone, stored input-webhook calls not applied, and purges of
   * deleted organizations not finished.
   */
  async sweep(now = new Date()): Promise<{ events: number; deliveries: number; inbound: number; purges: number }> {
    const olderThan = new Date(now.getTime() - this.deps.config.OUTBOX_GRACE_MS);
    const settings = this.jobSettings;
    let events = 0;
    for (const item of await this.sync.items.listStaleEvents(olderThan, SWEEP_BATCH)) {
      const event = item.pendingEvent;
      if (!event) continue;
      const job: FanoutJob = { version: 1, organizationId: item.organizationId, itemId: item.id, eventId: event.id, externalId: item.externalId, ...(event.requestId ? { requestId: event.requestId } : {}) };
      if (await ensureJob(this.deps.queues.output, JOBS.fanout, job, settings)) events++;
    }
    let deliveries = 0;
    for (const d of await this.deliveries.listStalePending(olderThan, SWEEP_BATCH)) {
      if (await ensureJob(this.deps.queues.output, JOBS.deliver, { version: 1, organizationId: d.organizationId, deliveryId: d.id, externalId: d.externalId }, settings)) deliveries++;
    }
    let inbound = 0;
    // Stored calls are timed by the store's clock.
    const storeNow = await this.sync.clock.now();
    for (const m of await this.sync.inbox.listUnapplied(new Date(storeNow.getTime() - this.deps.config.OUTBOX_GRACE_MS), SWEEP_BATCH)) {
      const job: InboundWebhookJob = { version: 1, organizationId: m.organizationId, method: m.method, body: m.body, messageId: m.messageId, storedId: m._id, acceptedAt: m.acceptedAt.toISOString() };
      if (await ensureJob(this.deps.queues.inbound, JOBS.inboundWebhook, job, settings)) inbound++;
    }
    let purges = 0;
    for (const organizationId of await this.organizations.listDeletedIds()) if (await this.queuePurge(organizationId)) purges++;
    if (events + deliveries + inbound + purges > 0) this.deps.logger.warn('sweeper re-enqueued lost work', { events, deliveries, inbound, purges });
    // At most one reconciliation per interval across all processes.
    const due = await this.deps.redis.set(this.reconcileKey, String(now.getTime()), 'PX', this.deps.config.RECONCILE_INTERVAL_MS, 'NX');
    if (due === 'OK') await this.reconcileAll();
    return { events, deliveries, inbound, purges };
  }

  /** Queues a deleted organization's purge unless one is queued or running. */
  async queuePurge(organizationId: string): Promise<boolean> {
    return ensureJob(this.deps.queues.maintenance, JOBS.purgeOrganization, { version: 1, organizationId, pass: 1 }, this.jobSettings);
  }

  /**
   * One pass of a deleted organization's purge: its schedules removed, its running polls' leases
   * revoked (they stop before their next write), its pending delivery jobs removed, then its items,
   * deliveries, inbound messages and runs deleted. The job repeats after PURGE_RECHECK_MS until a
   * pass after the first finds nothing left (work in flight when it was deleted lands meanwhile);
   * then the organization itself is removed.
   */
  async purgeOrganization(job: PurgeOrganizationJob): Promise<PurgePass> {
    const org = await this.organizations.findDeleted(job.organizationId);
    if (!org) return { removed: 0, done: true };
    await this.schedules.reconcile(org.id, null);
    for (const entry of org.polling) await this.locks.revoke(pollLeaseName(org.id, entry.id));
    for (const d of await this.sync.outbound.listPending(org.id)) {
      const queued = await this.deps.queues.output.getJob(JOBS.deliver.jobId({ version: 1, organizationId: org.id, deliveryId: d.id }));
      await queued?.remove().catch(() => undefined);
    }
    const purged = await this.sync.maintenance.purgeOrganization(org.id);
    const runs = await this.runs.deleteForOrganization(org.id);
    await this.controlStore.deleteForOrganization(org.id);
    const removed = purged.items + purged.deliveries + purged.inboundMessages + runs;
    this.deps.logger.info('organization purge pass', { orgId: org.id, pass: job.pass, ...purged, runs });
    if (job.pass > 1 && removed === 0) {
      await this.organizations.removeDeleted(org.id);
      this.deps.logger.info('organization purged', { orgId: org.id });
      return { removed, done: true };
    }
    return { removed, done: false };
  }

  /** Tells the organization's notification webhooks; never fails the delivery job. */
  private async deliveryGaveUp(deliveryId: string): Promise<void> {
    try {
      const delivery = await this.deliveries.findById(deliveryId);
      const org = delivery ? await this.organizations.findById(delivery.organizationId) : null;
      if (org) await this.controls.deliveryGaveUp(org, deliveryId);
    } catch (error) {
      this.deps.logger.warn('could not queue the notifications of a failed delivery', { deliveryId, err: (error as Error).message });
    }
  }

  /** Local changes not yet fanned out, pending deliveries and dead letters (the metrics gauges). */
  private async countBacklog(): Promise<{ outbox: number; pending: number; failed: number }> {
    const { models } = this.deps;
    const [outbox, pending, failed] = await Promise.all([
      models.inventoryItems.countDocuments({ pendingEvent: { $ne: null } }),
      models.deliveries.countDocuments({ status: 'pending' }),
      models.deliveries.countDocuments({ status: 'failed' }),
    ]);
    return { outbox, pending, failed };
  }

  /** Items diverged now (the metrics gauge). */
  private async countDiverged(): Promise<number> {
    return this.deps.models.inventoryItems.countDocuments({ state: 'diverged' });
  }
}
