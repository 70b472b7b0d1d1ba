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

import type { IntegrationQueues } from './integration-queues';

export type { IntegrationQueues };

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
