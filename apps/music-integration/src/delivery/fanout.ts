import { outputWebhooksFor, type Organization, type Webhook } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import type { DeliveryTrace, FanoutJob } from '@music/queue';
import type { Logger, RedisLocks } from '@music/platform';
import { deliveryIdOf, type SyncState } from '@music/sync-state';
import type { InventoryItem } from '@music/domain';
import type { AccountOutbound } from './account-outbound';
import { sendDelivery, type DeliverOutcome } from './deliver-change';
import type { MappingCache } from '../engine/mapping-cache';

/** What a fan-out needs to make the first attempt of its one delivery itself. */
export interface FirstAttemptDeps {
  http: AccountOutbound;
  locks: RedisLocks;
  /** TTL of the per-item send lease (renewed while the send runs). */
  leaseTtlMs: number;
  /** Whether a transient failure of this first attempt is already the last one (DELIVERY_ATTEMPTS 1). */
  lastAttempt: boolean;
  /** Queues the delivery's next attempts after a transient failure of the first (one attempt made). */
  enqueueRetry: (organizationId: string, deliveryId: string, trace: DeliveryTrace, delayMs: number) => Promise<void>;
  /** The backoff before the second attempt (a 429's Retry-After wins when longer). */
  retryDelayMs: (retryAfterMs?: number) => number;
  /** Told of the attempt's outcome (metrics), as a deliver job's is. */
  outcome?: (outcome: DeliverOutcome) => void;
  /** Whether the organization's deliveries are held (paused): then its deliver job waits, nothing is sent here. */
  isPaused?: (organizationId: string) => Promise<boolean>;
  /** The delivery gave up (its notifications). */
  gaveUp?: (deliveryId: string) => Promise<void>;
}

export interface FanoutDeps {
  /** The organization as stored now (the cache checks its revision on every read). */
  organizations: Pick<OrganizationRepository, 'findById'>;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  mappings: MappingCache;
  /** Adds one deliver job per delivery id (idempotent by job id); `trace` rides along for their log lines. */
  enqueueDeliveries: (organizationId: string, deliveryIds: string[], trace: DeliveryTrace) => Promise<void>;
  logger: Logger;
  /** Given: a change with one matching output webhook is sent by the fan-out itself. */
  firstAttempt?: FirstAttemptDeps;
}

export type FanoutResult = 'fanned-out' | 'stale' | 'nothing-to-deliver' | 'delivered' | 'failed' | 'retrying';

/**
 * Turns a local change (the item's pending event) into one delivery per matching output webhook,
 * body reverse-mapped to the third party's shape (rows 13, 14, 26). Safe to repeat: delivery ids
 * derive from the event and webhook, and the event is cleared only once its deliveries exist.
 *
 * With one matching webhook (the usual case) the fan-out sends it at once, under the item's send
 * lease, and records the delivery with its answer and the item's fan-out and settlement together
 * (no deliver job, no second read of the item and the organization). A crash before that record
 * leaves the event in place: the fan-out runs again and sends the same `webhook-id`.
 */
export async function fanOutChange(job: FanoutJob, deps: FanoutDeps): Promise<FanoutResult> {
  const item = await deps.sync.items.read(job.itemId);
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
  const org = await deps.organizations.findById(item.organizationId);
  if (!org) {
    // A deleted organization: its purge removes the item, and the deliveries here for the reason above.
    await deps.sync.outbound.removeItemDeliveriesIfOrganizationGone(item.organizationId, item.id);
    return 'stale';
  }

  const webhooks = outputWebhooksFor(org, event.op);
  const body = webhooks.length > 0 ? JSON.stringify(deps.mappings.for(org).toRecord({ externalId: item.externalId, data: item.data })) : '';
  const trace: DeliveryTrace = { externalId: item.externalId, ...(event.requestId ? { requestId: event.requestId } : {}) };
  const only = webhooks.length === 1 ? webhooks[0] : undefined;
  if (only && deps.firstAttempt && !(await deps.firstAttempt.isPaused?.(org.id))) {
    const sent = await sendFirst(item, org, only, body, trace, deps, deps.firstAttempt);
    if (sent) return sent;
  }
  const result = await deps.sync.outbound.fanOut(item, event.id, { webhooks, body });
  switch (result.kind) {
    case 'fanned-out':
      await deps.enqueueDeliveries(org.id, result.deliveryIds, trace);
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

/**
 * The first attempt of the one delivery, made by the fan-out. Null when it cannot be made here
 * (another send of the item holds its lease): the plain fan-out follows and a deliver job sends it.
 */
async function sendFirst(item: InventoryItem, org: Organization, webhook: Webhook, body: string, trace: DeliveryTrace, deps: FanoutDeps, first: FirstAttemptDeps): Promise<FanoutResult | null> {
  const event = item.pendingEvent;
  if (!event) return null;
  const deliveryId = deliveryIdOf(event.id, webhook.id);
  // One send per item at a time across the organization's output webhooks (as a deliver job's).
  const lease = await first.locks.lease(`deliver:${item.id}`, deliveryId, first.leaseTtlMs);
  if (!lease) return null;
  try {
    const sent = await sendDelivery(first.http.forOrganization(org), webhook, { id: deliveryId, op: event.op, body });
    const allEntries = org.polling.map((p) => p.id);
    const final = sent.result === 'succeeded' || sent.result === 'failed' || first.lastAttempt;
    const status = sent.result === 'succeeded' ? 'succeeded' : final ? 'failed' : 'pending';
    lease.assertHeld();
    const deadLettered = status === 'failed' && sent.result === 'retry';
    const recorded = await deps.sync.outbound.fanOutFirstAttempt(item, event.id, { webhook, body }, { status, attempt: sent.attempt, message: sent.message, deadLettered }, { allEntries });
    const log = { deliveryId, itemId: item.id, eventId: event.id, op: event.op, version: event.version };
    if (status === 'succeeded') {
      deps.logger.info('delivered', { ...log, status: sent.attempt.statusCode, ms: sent.attempt.ms });
      first.outcome?.({ kind: 'done', status: 'succeeded', latencyMs: Date.now() - event.at.getTime() });
      return 'delivered';
    }
    if (status === 'failed') {
      deps.logger.warn(deadLettered ? 'delivery dead-lettered' : 'delivery failed permanently', { ...log, attempts: 1, reason: sent.message });
      first.outcome?.({ kind: 'failed', message: sent.message, deadLettered });
      await first.gaveUp?.(deliveryId);
      return 'failed';
    }
    deps.logger.warn('delivery attempt failed', { ...log, attempt: 1, reason: sent.message });
    first.outcome?.({ kind: 'retry', message: sent.message });
    if (recorded.recorded) await first.enqueueRetry(org.id, deliveryId, trace, first.retryDelayMs(sent.retryAfterMs));
    return 'retrying';
  } finally {
    await lease.release();
  }
}
