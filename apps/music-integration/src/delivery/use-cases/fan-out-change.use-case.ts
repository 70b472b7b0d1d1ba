import type { Queue } from 'bullmq';
import { addJob, addJobs, JOBS, type DeliveryTrace, type FanoutJob, type JobSettings } from '@music/queue';
import type { Logger, RedisLocks } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { SyncControls } from '../../controls/sync-controls';
import type { IntegrationConfig } from '../../config';
import type { MappingCache } from '../../engine/mapping-cache';
import type { OrganizationCache } from '../../engine/organization-cache';
import type { SyncMetrics } from '../../engine/sync-metrics';
import type { AccountOutbound } from '../account-outbound';
import { deliveryBackoffMs } from '../delivery-backoff';
import { fanOutChange, type FanoutDeps, type FanoutResult } from '../fanout';
import type { GaveUpNotice } from '../gave-up-notice';

export interface FanOutChangeDeps {
  config: IntegrationConfig;
  logger: Logger;
  organizations: OrganizationCache;
  sync: SyncState;
  mappings: MappingCache;
  http: AccountOutbound;
  locks: RedisLocks;
  outputQueue: Queue;
  jobSettings: JobSettings;
  controls: Pick<SyncControls, 'isDeliveryPaused'>;
  gaveUp: GaveUpNotice;
  metrics: SyncMetrics | null;
}

/**
 * A fanout job: a local change becomes one delivery per matching output webhook (delivery/fanout.ts),
 * the usual single one sent at once as its first attempt, the others queued as deliver jobs.
 */
export class FanOutChangeUseCase {
  private readonly fanout: FanoutDeps;

  constructor(deps: FanOutChangeDeps) {
    const { config, jobSettings, outputQueue, metrics } = deps;
    this.fanout = {
      organizations: deps.organizations,
      sync: deps.sync,
      mappings: deps.mappings,
      enqueueDeliveries: (organizationId, ids, trace) => enqueueDeliveries(outputQueue, jobSettings, organizationId, ids, trace),
      logger: deps.logger,
      firstAttempt: {
        http: deps.http,
        locks: deps.locks,
        leaseTtlMs: config.OUTBOUND_TIMEOUT_MS + 5000,
        lastAttempt: jobSettings.deliveryAttempts <= 1,
        enqueueRetry: (organizationId, deliveryId, trace, delayMs) =>
          addJob(outputQueue, JOBS.deliver, { version: 1, organizationId, deliveryId, priorAttempts: 1, ...trace }, jobSettings, { delay: delayMs }),
        retryDelayMs: (retryAfterMs) => deliveryBackoffMs(1, config, retryAfterMs),
        outcome: (outcome) => metrics?.deliveryOutcome(outcome),
        isPaused: (organizationId) => deps.controls.isDeliveryPaused(organizationId),
        gaveUp: (deliveryId) => deps.gaveUp.send(deliveryId),
      },
    };
  }

  execute(job: FanoutJob): Promise<FanoutResult> {
    return fanOutChange(job, this.fanout);
  }
}

/** One deliver job per delivery id (idempotent by job id); `trace` rides along for their log lines. */
async function enqueueDeliveries(queue: Queue, settings: JobSettings, organizationId: string, deliveryIds: string[], trace: DeliveryTrace = {}): Promise<void> {
  await addJobs(
    queue,
    JOBS.deliver,
    deliveryIds.map((deliveryId) => ({ version: 1 as const, organizationId, deliveryId, ...trace })),
    settings,
  );
}
