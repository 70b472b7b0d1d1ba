import type { Queue } from 'bullmq';
import { emptyCounts, type Organization, type Webhook } from '@music/domain';
import type { InventoryRepository, OrganizationRepository, SyncControlRepository, SyncRunRepository } from '@music/persistence';
import { addJob, addJobs, ensureJob, JOBS, type DeliveryTrace, type FanoutJob, type InboundWebhookJob, type JobSettings, type NotifyJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import type { Logger, RedisClient, RedisLocks } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { IntegrationConfig } from './config';
import { deliverChange, type DeliverOutcome } from './delivery/deliver-change';
import type { DeliveryRepository } from './delivery/delivery.repository';
import { fanOutChange } from './delivery/fanout';
import type { MappingCache } from './engine/mapping-cache';
import type { OrganizationCache } from './engine/organization-cache';
import type { OrganizationSlots } from './engine/organization-slots';
import type { PollingSchedules } from './polling/polling-schedules';
import { pollLeaseName, type PollRun, type PollRunOutcome } from './polling/poll-run';
import type { SyncControls } from './controls/sync-controls';
import type { SyncMetrics } from './engine/sync-metrics';
import type { AccountOutbound } from './delivery/account-outbound';
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

/** What the engine is built from (container.ts registers each). */
export interface SyncEngineDeps {
  config: IntegrationConfig;
  logger: Logger;
  /** Any Redis client (reconciliation memory). */
  redis: RedisClient;
  queues: IntegrationQueues;
  jobSettings: JobSettings;
  metrics: SyncMetrics | null;
  organizations: OrganizationRepository;
  items: InventoryRepository;
  runs: SyncRunRepository;
  deliveries: DeliveryRepository;
  controlStore: SyncControlRepository;
  locks: RedisLocks;
  sync: SyncState;
  mappings: MappingCache;
  organizationCache: OrganizationCache;
  slots: OrganizationSlots;
  http: AccountOutbound;
  controls: SyncControls;
  schedules: PollingSchedules;
  pollRun: PollRun;
}

const SWEEP_BATCH = 500;
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
  private readonly mappings: MappingCache;
  readonly organizationCache: OrganizationCache;
  readonly slots: OrganizationSlots;
  private readonly locks: RedisLocks;
  private readonly http: AccountOutbound;
  private readonly metrics: SyncMetrics | undefined;
  readonly queues: IntegrationQueues;

  constructor(private readonly deps: SyncEngineDeps) {
    ({
      queues: this.queues,
      jobSettings: this.jobSettings,
      organizations: this.organizations,
      items: this.items,
      runs: this.runs,
      deliveries: this.deliveries,
      controlStore: this.controlStore,
      locks: this.locks,
      sync: this.sync,
      mappings: this.mappings,
      organizationCache: this.organizationCache,
      slots: this.slots,
      http: this.http,
      controls: this.controls,
      schedules: this.schedules,
      pollRun: this.pollRun,
    } = deps);
    this.metrics = deps.metrics ?? undefined;
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
}
