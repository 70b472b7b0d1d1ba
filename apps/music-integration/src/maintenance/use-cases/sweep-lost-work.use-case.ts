import type { OrganizationRepository } from '@music/persistence';
import { ensureJob, JOBS, type FanoutJob, type InboundWebhookJob, type JobSettings } from '@music/queue';
import type { Logger, RedisClient } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { DeliveryRepository } from '../../delivery/delivery.repository';
import type { IntegrationQueues } from '../../integration-queues';
import { queuePurge } from '../purge-jobs';
import { reconcileDoneKey, type ReconcileAllUseCase } from './reconcile-all.use-case';

const SWEEP_BATCH = 500;

export interface SweepLostWorkDeps {
  organizations: Pick<OrganizationRepository, 'listDeletedIds'>;
  deliveries: Pick<DeliveryRepository, 'listStalePending'>;
  sync: Pick<SyncState, 'items' | 'clock' | 'inbox'>;
  queues: Pick<IntegrationQueues, 'output' | 'inbound' | 'maintenance'>;
  jobSettings: JobSettings;
  reconcileAll: Pick<ReconcileAllUseCase, 'execute'>;
  redis: RedisClient;
  /** QUEUE_PREFIX */
  prefix: string;
  /** OUTBOX_GRACE_MS: work younger than this may still be on its way. */
  graceMs: number;
  /** RECONCILE_INTERVAL_MS */
  reconcileIntervalMs: number;
  logger: Logger;
}

/**
 * Re-enqueues work a crash or a Redis loss left behind: local changes whose fan-out never ran,
 * pending deliveries whose job is gone, stored input-webhook calls not applied, and purges of
 * deleted organizations not finished. At most once per interval across all processes, it also
 * reconciles every organization.
 */
export class SweepLostWorkUseCase {
  constructor(private readonly deps: SweepLostWorkDeps) {}

  async execute(now = new Date()): Promise<{ events: number; deliveries: number; inbound: number; purges: number }> {
    const deps = this.deps;
    const olderThan = new Date(now.getTime() - deps.graceMs);
    const settings = deps.jobSettings;
    let events = 0;
    for (const item of await deps.sync.items.listStaleEvents(olderThan, SWEEP_BATCH)) {
      const event = item.pendingEvent;
      if (!event) continue;
      const job: FanoutJob = { version: 1, organizationId: item.organizationId, itemId: item.id, eventId: event.id, externalId: item.externalId, ...(event.requestId ? { requestId: event.requestId } : {}) };
      if (await ensureJob(deps.queues.output, JOBS.fanout, job, settings)) events++;
    }
    let deliveries = 0;
    for (const d of await deps.deliveries.listStalePending(olderThan, SWEEP_BATCH)) {
      if (await ensureJob(deps.queues.output, JOBS.deliver, { version: 1, organizationId: d.organizationId, deliveryId: d.id, externalId: d.externalId }, settings)) deliveries++;
    }
    let inbound = 0;
    // Stored calls are timed by the store's clock.
    const storeNow = await deps.sync.clock.now();
    for (const m of await deps.sync.inbox.listUnapplied(new Date(storeNow.getTime() - deps.graceMs), SWEEP_BATCH)) {
      const job: InboundWebhookJob = { version: 1, organizationId: m.organizationId, method: m.method, body: m.body, messageId: m.messageId, storedId: m._id, acceptedAt: m.acceptedAt.toISOString() };
      if (await ensureJob(deps.queues.inbound, JOBS.inboundWebhook, job, settings)) inbound++;
    }
    let purges = 0;
    for (const organizationId of await deps.organizations.listDeletedIds()) if (await queuePurge(deps.queues.maintenance, organizationId, settings)) purges++;
    if (events + deliveries + inbound + purges > 0) deps.logger.warn('sweeper re-enqueued lost work', { events, deliveries, inbound, purges });
    // At most one reconciliation per interval across all processes.
    const due = await deps.redis.set(reconcileDoneKey(deps.prefix), String(now.getTime()), 'PX', deps.reconcileIntervalMs, 'NX');
    if (due === 'OK') await deps.reconcileAll.execute();
    return { events, deliveries, inbound, purges };
  }
}
