import { webhookTakes, type Delivery, type DeliveryAttempt, type Webhook } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import { signedHeaders, type Logger, type OutboundClient, type RedisLocks } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { AccountOutbound } from './account-outbound';
import type { DeliveryRepository } from './delivery.repository';
import { isTransient } from '../engine/transient';

export interface DeliverDeps {
  /** The organization as stored now (the cache checks its revision on every read). */
  organizations: Pick<OrganizationRepository, 'findById'>;
  deliveries: DeliveryRepository;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  /** The guarded client, held to each owner's outbound quota. */
  http: AccountOutbound;
  locks: RedisLocks;
  logger: Logger;
  /** TTL of the per-item send lease (renewed while the send runs). */
  leaseTtlMs: number;
  /** Whether the organization is paused: its deliveries are held (not sent, not failed) until it resumes. */
  isPaused?: (organizationId: string) => Promise<boolean>;
  /** How long a held delivery waits before it looks again. */
  pausedRecheckMs?: number;
}

/** What the queue processor does next with the job. */
export type DeliverOutcome =
  | { kind: 'done'; status: 'succeeded' | 'superseded' | 'cancelled' | 'skipped'; /** Succeeded: from the delivery's creation to now. */ latencyMs?: number }
  /** Another send for the same item is in flight (or its fan-out is finishing), or the organization is paused (`delayMs`): try again later, without using an attempt. */
  | { kind: 'wait'; delayMs?: number }
  /** A transient failure (408, 429, 5xx, network, timeout): retry with backoff; 429 may say when. */
  | { kind: 'retry'; message: string; retryAfterMs?: number }
  /** The webhook gave up: a permanent failure (other 4xx, refused address), or the last attempt failed (`deadLettered`). */
  | { kind: 'failed'; message: string; deadLettered: boolean };

/**
 * Sends one delivery to its webhook's current URL, method and secret (looked up by the webhook's
 * id, so an edited webhook gets its pending deliveries). Sends for one item are serialized with a
 * lease across the organization's output webhooks, and a delivery for which a newer version of the
 * item exists is superseded instead of sent, so the third party never ends with an older state
 * than ours whatever the order in which jobs run. The answer is recorded by the one writer, which
 * settles the item once every awaited webhook answered (rule 4).
 */
export async function deliverChange(deliveryId: string, attemptNumber: number, lastAttempt: boolean, deps: DeliverDeps): Promise<DeliverOutcome> {
  const delivery = await deps.deliveries.findById(deliveryId);
  if (!delivery) return { kind: 'done', status: 'skipped' };
  if (delivery.status !== 'pending') {
    // Finished, yet its job runs again: the run that finished it may have died between recording
    // the outcome and updating the item. Learning the answer again is idempotent.
    const org = await deps.organizations.findById(delivery.organizationId);
    await deps.sync.outbound.resettle(delivery, { allEntries: org?.polling.map((p) => p.id) ?? [] });
    return { kind: 'done', status: 'skipped' };
  }

  // One send per item at a time across all the organization's output webhooks: they reach the
  // same third party, and an older POST must not land after a newer DELETE.
  const lease = await deps.locks.lease(`deliver:${delivery.itemId}`, delivery.id, deps.leaseTtlMs);
  if (!lease) return { kind: 'wait' };
  try {
    const item = await deps.sync.items.read(delivery.itemId);
    if (!item) return await cancel(delivery, 'the item no longer exists', [], deps);
    if (item.version > delivery.version) {
      await deps.sync.outbound.supersede(delivery);
      return { kind: 'done', status: 'superseded' };
    }
    const org = await deps.organizations.findById(delivery.organizationId);
    if (!org) return await cancel(delivery, 'the organization was deleted', [], deps);
    if (deps.isPaused && (await deps.isPaused(org.id))) return { kind: 'wait', delayMs: deps.pausedRecheckMs ?? 30_000 };
    const allEntries = org.polling.map((p) => p.id);
    if (org.synchronization !== 'two-way') return await cancel(delivery, 'the organization switched to one-way', allEntries, deps);
    const webhook = org.webhooks.find((w) => w.id === delivery.webhookId);
    if (!webhook) return await cancel(delivery, 'the output webhook was removed', allEntries, deps);
    if (!webhookTakes(webhook, delivery.op)) return await cancel(delivery, `the output webhook no longer takes ${delivery.op === 'delete' ? 'deletes' : 'creates and updates'}`, allEntries, deps);
    if (!item.awaiting.includes(webhook.id)) {
      // Its fan-out has not recorded what the item awaits yet: shortly.
      if (item.pendingEvent?.id === delivery.eventId) return { kind: 'wait' };
      return await cancel(delivery, 'the item no longer awaits this webhook', allEntries, deps);
    }

    lease.assertHeld();
    const sent = await sendDelivery(deps.http.forOrganization(org), webhook, delivery);
    const { attempt } = sent;
    if (sent.result === 'succeeded') {
      await deps.sync.outbound.settle(delivery, { status: 'succeeded', attempt, attemptNumber }, { allEntries, preread: item });
      deps.logger.info('delivered', { deliveryId: delivery.id, status: attempt.statusCode, ms: attempt.ms });
      return { kind: 'done', status: 'succeeded', latencyMs: Date.now() - delivery.createdAt.getTime() };
    }
    const transient = sent.result === 'retry';
    const message = sent.message;
    if (!transient || lastAttempt) {
      await deps.sync.outbound.settle(delivery, { status: 'failed', attempt, attemptNumber, message, deadLettered: transient }, { allEntries, preread: item });
      if (transient) deps.logger.warn('delivery dead-lettered', { deliveryId: delivery.id, attempts: attemptNumber, reason: message });
      else deps.logger.warn('delivery failed permanently', { deliveryId: delivery.id, reason: message });
      return { kind: 'failed', message: transient ? `gave up after ${attemptNumber} attempts: ${message}` : message, deadLettered: transient };
    }
    await deps.sync.outbound.recordRetry(delivery, attempt, attemptNumber);
    deps.logger.warn('delivery attempt failed', { deliveryId: delivery.id, attempt: attemptNumber, reason: message });
    return { kind: 'retry', message, ...(sent.retryAfterMs !== undefined ? { retryAfterMs: sent.retryAfterMs } : {}) };
  } finally {
    await lease.release();
  }
}

async function cancel(delivery: Delivery, reason: string, allEntries: string[], deps: DeliverDeps): Promise<DeliverOutcome> {
  await deps.sync.outbound.cancel([delivery], reason, allEntries);
  deps.logger.info('delivery cancelled', { deliveryId: delivery.id, reason });
  return { kind: 'done', status: 'cancelled' };
}

/** One attempt's answer: 2xx succeeded; 408, 429, 5xx, timeouts, network errors and quota are retried; the rest fail for good. */
export interface SentDelivery {
  result: 'succeeded' | 'retry' | 'failed';
  attempt: DeliveryAttempt;
  message: string;
  retryAfterMs?: number;
}

/**
 * Sends one delivery to the webhook's current URL, method and secret: `webhook-id` is the delivery
 * id; during a secret rotation's overlap it is signed with both secrets, so the receiver may switch
 * at any time.
 */
export async function sendDelivery(http: OutboundClient, webhook: Webhook, delivery: Pick<Delivery, 'id' | 'op' | 'body'>): Promise<SentDelivery> {
  const method = delivery.op === 'delete' ? 'DELETE' : webhook.method;
  const overlap = webhook.previousSecretExpiresAt !== undefined && webhook.previousSecretExpiresAt > new Date();
  const headers = { 'content-type': 'application/json', ...signedHeaders([webhook.secret, overlap ? webhook.previousSecret : undefined], delivery.id, delivery.body) };
  const response = await http.send({ method, url: webhook.url, headers, body: delivery.body });
  const attempt: DeliveryAttempt = {
    at: new Date(),
    statusCode: response.ok ? response.status : null,
    error: response.ok ? null : `${response.kind}: ${response.message}`,
    ms: response.ms,
  };
  if (response.ok && response.status >= 200 && response.status < 300) return { result: 'succeeded', attempt, message: '' };
  const transient = isTransient(response);
  const message = response.ok ? `HTTP ${response.status}` : (attempt.error ?? 'failed');
  const retryAfterMs = response.ok && transient ? retryAfter(response.headers['retry-after']) : undefined;
  return { result: transient ? 'retry' : 'failed', attempt, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** Retry-After in seconds or as an HTTP date; capped at an hour. */
function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 3600_000) : undefined;
}
