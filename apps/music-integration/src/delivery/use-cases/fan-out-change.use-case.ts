import type { Queue } from 'bullmq';
import { outputWebhooksFor, type InventoryItem, type Organization, type PendingEvent, type Webhook } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import { addJob, addJobs, JOBS, type DeliveryTrace, type FanoutJob, type JobSettings } from '@music/queue';
import type { Lease, Logger, RedisLocks } from '@music/platform';
import { deliveryIdOf, sendLeaseName, type SyncState } from '@music/sync-state';
import type { SyncControls } from '../../controls/sync-controls';
import type { IntegrationConfig } from '../../config';
import type { MappingCache } from '../../engine/mapping-cache';
import type { SyncMetrics } from '../../engine/sync-metrics';
import type { AccountOutbound } from '../account-outbound';
import { deliveryBackoffMs } from '../delivery-backoff';
import type { GaveUpNotice } from '../gave-up-notice';
import { sendDelivery } from '../send-delivery';

export interface FanOutChangeDeps {
  /** The organization as stored now (the cache checks its revision on every read). */
  organizations: Pick<OrganizationRepository, 'findById'>;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  mappings: MappingCache;
  /** The guarded client, held to each owner's outbound quota. */
  http: AccountOutbound;
  locks: RedisLocks;
  logger: Logger;
  /** Where deliver jobs go (one per delivery, or the retry of a first attempt). */
  outputQueue: Queue;
  jobSettings: JobSettings;
  /** TTL of the per-item send lease (renewed while the send runs). */
  leaseTtlMs: number;
  /** DELIVERY_BACKOFF_BASE_MS and DELIVERY_BACKOFF_MAX_MS: the wait before a delivery's second attempt. */
  backoff: Pick<IntegrationConfig, 'DELIVERY_BACKOFF_BASE_MS' | 'DELIVERY_BACKOFF_MAX_MS'>;
  /** A paused organization's deliveries are held: its deliver job waits, nothing is sent by the fan-out. */
  controls: Pick<SyncControls, 'isDeliveryPaused'>;
  gaveUp: GaveUpNotice;
  metrics: SyncMetrics | null;
}

export type FanoutResult = 'fanned-out' | 'stale' | 'nothing-to-deliver' | 'delivered' | 'failed' | 'retrying';

/**
 * A fanout job: a local change (the item's pending event) becomes one delivery per matching output
 * webhook, body reverse-mapped to the third party's shape (rows 13, 14, 26). Safe to repeat:
 * delivery ids derive from the event and webhook, and the event is cleared only once its
 * deliveries exist.
 *
 * With one matching webhook (the usual case) the fan-out sends it at once, under the item's send
 * lease, and records the delivery with its answer and the item's fan-out and settlement together
 * (no deliver job, no second read of the item and the organization). A crash before that record
 * leaves the event in place: the fan-out runs again and sends the same `webhook-id`. Otherwise
 * each delivery is queued as a deliver job.
 *
 * Always completes: a transient failure of that first attempt is the delivery's, retried by the
 * deliver job queued for it, never the fan-out's.
 */
export class FanOutChangeUseCase {
  constructor(private readonly deps: FanOutChangeDeps) {}

  async execute(job: FanoutJob): Promise<FanoutResult> {
    const deps = this.deps;
    // The item is read under its send lease: no newer change of the item can be sent between this
    // read and this job's own send, so an older state never lands after a newer one (rule 4). The
    // organization is read under it too, as the deliver job reads it: a reconciliation that found
    // the lease free has seen every earlier send's answer, and the entries this send's answer
    // settles the item with (row 15) are read after the removals it applied (docs/reliability.md,
    // "Bugs found"). Held by another send of the item, both are read without it and its deliveries
    // go as deliver jobs, which take the lease in turn. The two reads go together.
    const lease = await deps.locks.lease(sendLeaseName(job.itemId), job.eventId, deps.leaseTtlMs);
    try {
      const [jobOrg, item] = await Promise.all([deps.organizations.findById(job.organizationId), deps.sync.items.read(job.itemId)]);
      return await this.fanOut(job, jobOrg, item, lease);
    } finally {
      await lease?.release();
    }
  }

  private async fanOut(job: FanoutJob, jobOrg: Organization | null, item: InventoryItem | null, lease: Lease | null): Promise<FanoutResult> {
    const deps = this.deps;
    const event = item?.pendingEvent;
    // An earlier run of this job may have stored a delivery and failed before the item's write: with
    // the item or its organization gone, the purge may have passed since (docs/sync-model.md,
    // "Deleting an organization"), so the delivery goes here when the organization is not live.
    if (!item) {
      await deps.sync.outbound.removeItemDeliveriesIfOrganizationGone(job.organizationId, job.itemId);
      return 'stale';
    }
    // Cleared already (a repeat) or replaced by a newer event, whose own fan-out carries the newer state.
    if (!event || event.id !== job.eventId) return 'stale';
    const org = item.organizationId === job.organizationId ? jobOrg : await deps.organizations.findById(item.organizationId);
    if (!org) {
      // A deleted organization: its purge removes the item, and the deliveries here for the reason above.
      await deps.sync.outbound.removeItemDeliveriesIfOrganizationGone(item.organizationId, item.id);
      return 'stale';
    }

    const webhooks = outputWebhooksFor(org, event.op);
    const body = webhooks.length > 0 ? JSON.stringify(deps.mappings.for(org).toRecord({ externalId: item.externalId, data: item.data })) : '';
    const trace: DeliveryTrace = { externalId: item.externalId, ...(event.requestId ? { requestId: event.requestId } : {}) };
    const only = webhooks.length === 1 ? webhooks[0] : undefined;
    if (only && lease && !(await deps.controls.isDeliveryPaused(org.id))) return this.sendFirst(item, event, org, only, body, trace, lease);
    // The deliver jobs queued below take the lease themselves: it is let go first.
    await lease?.release();
    const result = await deps.sync.outbound.fanOut(item, event.id, { webhooks, body });
    switch (result.kind) {
      case 'fanned-out':
        await this.enqueueDeliveries(org.id, result.deliveryIds, trace);
        // Info, like each delivery's outcome: a search by externalId or requestId finds the change's path.
        deps.logger.info('change fanned out', { itemId: item.id, eventId: event.id, op: event.op, version: event.version, deliveries: result.deliveryIds.length });
        return 'fanned-out';
      case 'settled':
        return 'nothing-to-deliver';
      case 'stale':
        return 'stale';
      default: {
        const unreachable: never = result;
        throw new Error(`unknown fan-out result ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** The first attempt of the one delivery, made by the fan-out under the item's send lease (read under it). */
  private async sendFirst(item: InventoryItem, event: PendingEvent, org: Organization, webhook: Webhook, body: string, trace: DeliveryTrace, lease: Lease): Promise<FanoutResult> {
    const deps = this.deps;
    const deliveryId = deliveryIdOf(event.id, webhook.id);
    const sent = await sendDelivery(deps.http.forOrganization(org), webhook, { id: deliveryId, op: event.op, body });
    const allEntries = org.polling.map((p) => p.id);
    // DELIVERY_ATTEMPTS 1: a transient failure of this first attempt is already the last one.
    const final = sent.result === 'succeeded' || sent.result === 'failed' || deps.jobSettings.deliveryAttempts <= 1;
    const status = sent.result === 'succeeded' ? 'succeeded' : final ? 'failed' : 'pending';
    lease.assertHeld();
    const deadLettered = status === 'failed' && sent.result === 'retry';
    const recorded = await deps.sync.outbound.fanOutFirstAttempt(item, event.id, { webhook, body }, { status, attempt: sent.attempt, message: sent.message, deadLettered }, { allEntries });
    const log = { deliveryId, itemId: item.id, eventId: event.id, op: event.op, version: event.version };
    if (status === 'succeeded') {
      deps.logger.info('delivered', { ...log, status: sent.attempt.statusCode, ms: sent.attempt.ms });
      deps.metrics?.deliveryOutcome({ kind: 'done', status: 'succeeded', latencyMs: Date.now() - event.at.getTime() });
      return 'delivered';
    }
    if (status === 'failed') {
      deps.logger.warn(deadLettered ? 'delivery dead-lettered' : 'delivery failed permanently', { ...log, attempts: 1, reason: sent.message });
      deps.metrics?.deliveryOutcome({ kind: 'failed', message: sent.message, deadLettered });
      await deps.gaveUp.send(deliveryId);
      return 'failed';
    }
    deps.logger.warn('delivery attempt failed', { ...log, attempt: 1, reason: sent.message });
    deps.metrics?.deliveryOutcome({ kind: 'retry', message: sent.message });
    // The delivery's next attempts are deliver jobs (one attempt made); a 429's Retry-After wins when longer.
    if (recorded.recorded) {
      const delay = deliveryBackoffMs(1, deps.backoff, sent.retryAfterMs);
      await addJob(deps.outputQueue, JOBS.deliver, { version: 1, organizationId: org.id, deliveryId, priorAttempts: 1, ...trace }, deps.jobSettings, { delay });
    }
    return 'retrying';
  }

  /** One deliver job per delivery id (idempotent by job id); `trace` rides along for their log lines. */
  private async enqueueDeliveries(organizationId: string, deliveryIds: string[], trace: DeliveryTrace): Promise<void> {
    await addJobs(
      this.deps.outputQueue,
      JOBS.deliver,
      deliveryIds.map((deliveryId) => ({ version: 1 as const, organizationId, deliveryId, ...trace })),
      this.deps.jobSettings,
    );
  }
}
