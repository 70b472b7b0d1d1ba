import type { Queue } from 'bullmq';
import type { Models } from '@music/persistence';
import { OrganizationRepository, SyncRunRepository } from '@music/persistence';
import { JOB_NAMES, jobIds, type DeliverJob, type DeliveryTrace, type FanoutJob, type InboundWebhookJob } from '@music/queue';
import { createOutboundClient, listSetting, RedisLocks, type Logger, type Metrics, type OutboundClient, type RedisClient } from '@music/platform';
import type { IntegrationConfig } from './config';
import { applyInboundWebhook, type InboundWebhookSummary } from './apply-inbound-webhook';
import { deadLetter, deliverChange, type DeliverOutcome } from './deliver-change';
import { DeliveryRepository } from './delivery.repository';
import { fanOutChange } from './fanout';
import { InboundItemsRepository } from './inbound-items.repository';
import { MappingCache } from './mapping-cache';
import { OutboxRepository } from './outbox.repository';
import { PollingSchedules } from './polling-schedules';
import { PollRun } from './poll-run';
import { MeteredSyncRunRepository, SyncMetrics } from './sync-metrics';

export interface SyncEngineDeps {
  config: IntegrationConfig;
  logger: Logger;
  models: Models;
  /** Any Redis client (locks); workers and queues get their own connections. */
  redis: RedisClient;
  queues: { polling: Queue; output: Queue; inbound: Queue; maintenance: Queue };
  /** Replaceable for tests; defaults to the guarded client built from the config. */
  http?: OutboundClient;
  /** The app's registry: runs, records, deliveries and queue depths are counted on it. */
  metrics?: Metrics;
}

const SWEEP_BATCH = 500;

/** The sync use-cases, wired once per process; workers and routes call into it. */
export class SyncEngine {
  readonly organizations: OrganizationRepository;
  readonly runs: SyncRunRepository;
  readonly deliveries: DeliveryRepository;
  readonly schedules: PollingSchedules;
  readonly pollRun: PollRun;
  private readonly items: InboundItemsRepository;
  private readonly outbox: OutboxRepository;
  private readonly mappings = new MappingCache();
  private readonly locks: RedisLocks;
  private readonly http: OutboundClient;
  private readonly metrics: SyncMetrics | undefined;

  readonly queues: SyncEngineDeps['queues'];

  constructor(private readonly deps: SyncEngineDeps) {
    this.queues = deps.queues;
    const { models, config } = deps;
    this.organizations = new OrganizationRepository(models);
    this.metrics = deps.metrics ? new SyncMetrics(deps.metrics.registry, deps.queues) : undefined;
    this.runs = this.metrics ? new MeteredSyncRunRepository(models, this.metrics) : new SyncRunRepository(models);
    this.deliveries = new DeliveryRepository(models);
    this.locks = new RedisLocks(deps.redis, {
      prefix: config.QUEUE_PREFIX,
      onUnavailable: (e) => deps.logger.warn('redis unavailable for locks; writing unlocked', { err: e.message }),
    });
    this.items = new InboundItemsRepository(models, this.locks);
    this.outbox = new OutboxRepository(models, this.locks);
    this.http =
      deps.http ??
      createOutboundClient({ allowList: listSetting(config.OUTBOUND_ALLOW_LIST), timeoutMs: config.OUTBOUND_TIMEOUT_MS, maxBytes: config.OUTBOUND_MAX_BYTES });
    this.schedules = new PollingSchedules(deps.queues.polling, config.POLL_MINUTE_MS);
    this.pollRun = new PollRun({
      organizations: this.organizations,
      runs: this.runs,
      items: this.items,
      http: this.http,
      mappings: this.mappings,
      locks: this.locks,
      logger: deps.logger,
      deleteGuardRatio: config.DELETE_GUARD_RATIO,
    });
  }

  fanout(job: FanoutJob): Promise<string> {
    return fanOutChange(job, {
      organizations: this.organizations,
      outbox: this.outbox,
      deliveries: this.deliveries,
      mappings: this.mappings,
      enqueueDeliveries: (organizationId, ids, trace) => this.enqueueDeliveries(organizationId, ids, trace),
      logger: this.deps.logger,
    });
  }

  async deliver(deliveryId: string, attemptNumber: number): Promise<DeliverOutcome> {
    const outcome = await deliverChange(deliveryId, attemptNumber, {
      organizations: this.organizations,
      deliveries: this.deliveries,
      outbox: this.outbox,
      http: this.http,
      locks: this.locks,
      logger: this.deps.logger,
      lockTtlMs: this.deps.config.OUTBOUND_TIMEOUT_MS + 5000,
    });
    this.metrics?.deliveryOutcome(outcome);
    return outcome;
  }

  async deadLetter(deliveryId: string): Promise<void> {
    await deadLetter(deliveryId, { deliveries: this.deliveries, outbox: this.outbox, logger: this.deps.logger });
    this.metrics?.deadLettered();
  }

  async applyInbound(job: InboundWebhookJob): Promise<InboundWebhookSummary> {
    const summary = await applyInboundWebhook(job, { organizations: this.organizations, items: this.items, mappings: this.mappings, logger: this.deps.logger });
    this.metrics?.inboundApplied(summary);
    return summary;
  }

  async enqueueDeliveries(organizationId: string, deliveryIds: string[], trace: DeliveryTrace = {}): Promise<void> {
    await this.deps.queues.output.addBulk(
      deliveryIds.map((deliveryId) => ({
        name: JOB_NAMES.deliver,
        data: { version: 1, organizationId, deliveryId, ...trace } satisfies DeliverJob,
        opts: { jobId: jobIds.deliver(deliveryId), attempts: this.deps.config.DELIVERY_ATTEMPTS, backoff: { type: 'delivery' } },
      })),
    );
  }

  async reconcileOrganization(organizationId: string): Promise<{ upserted: number; removed: number }> {
    const org = await this.organizations.findById(organizationId);
    return this.schedules.reconcile(organizationId, org);
  }

  private get reconcileKey(): string {
    return `${this.deps.config.QUEUE_PREFIX}:reconcile-done`;
  }

  /** Reconciles every organization's schedules and defers the next periodic reconciliation an interval. */
  async reconcileAll(): Promise<{ upserted: number; removed: number }> {
    await this.deps.redis.set(this.reconcileKey, String(Date.now()), 'PX', this.deps.config.RECONCILE_INTERVAL_MS);
    const result = await this.schedules.reconcileAll(await this.organizations.listWithPolling());
    this.deps.logger.info('polling schedules reconciled', result);
    return result;
  }

  /**
   * Re-enqueues work a crash left behind: local changes whose fan-out never ran (the process died
   * between the database write and the enqueue) and pending deliveries whose job is gone.
   */
  async sweep(now = new Date()): Promise<{ events: number; deliveries: number }> {
    const olderThan = new Date(now.getTime() - this.deps.config.OUTBOX_GRACE_MS);
    let events = 0;
    for (const item of await this.outbox.listStaleEvents(olderThan, SWEEP_BATCH)) {
      const event = item.pendingEvent;
      if (!event) continue;
      const data: FanoutJob = { version: 1, organizationId: item.organizationId, itemId: item.id, eventId: event.id, externalId: item.externalId, ...(event.requestId ? { requestId: event.requestId } : {}) };
      if (await this.ensureJob(jobIds.fanout(event.id), JOB_NAMES.fanout, data, {})) events++;
    }
    let deliveries = 0;
    for (const d of await this.deliveries.listStalePending(olderThan, SWEEP_BATCH)) {
      const data: DeliverJob = { version: 1, organizationId: d.organizationId, deliveryId: d.id, externalId: d.externalId };
      const opts = { attempts: this.deps.config.DELIVERY_ATTEMPTS, backoff: { type: 'delivery' } };
      if (await this.ensureJob(jobIds.deliver(d.id), JOB_NAMES.deliver, data, opts)) deliveries++;
    }
    if (events + deliveries > 0) this.deps.logger.warn('sweeper re-enqueued lost work', { events, deliveries });
    // At most one schedule reconciliation per interval across all processes.
    const due = await this.deps.redis.set(this.reconcileKey, String(now.getTime()), 'PX', this.deps.config.RECONCILE_INTERVAL_MS, 'NX');
    if (due === 'OK') await this.reconcileAll();
    return { events, deliveries };
  }

  /** Adds the job unless a live one exists; a finished one (whose work is evidently not done) is replaced. */
  private async ensureJob(jobId: string, name: string, data: object, opts: object): Promise<boolean> {
    const queue = this.deps.queues.output;
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
      await existing.remove().catch(() => undefined);
    }
    await queue.add(name, data, { ...opts, jobId });
    return true;
  }
}
