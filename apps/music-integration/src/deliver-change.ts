import type { Delivery, DeliveryAttempt } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import { signedHeaders, type Logger, type OutboundClient, type RedisLocks } from '@music/platform';
import type { DeliveryRepository } from './delivery.repository';
import type { OutboxRepository } from './outbox.repository';

export interface DeliverDeps {
  organizations: OrganizationRepository;
  deliveries: DeliveryRepository;
  outbox: OutboxRepository;
  http: OutboundClient;
  locks: RedisLocks;
  logger: Logger;
  lockTtlMs: number;
}

/** What the queue processor does next with the job. */
export type DeliverOutcome =
  | { kind: 'done'; status: 'succeeded' | 'superseded' | 'skipped'; /** Succeeded: from the delivery's creation to now. */ latencyMs?: number }
  /** Another send for the same item and webhook is in flight: try again shortly, without using an attempt. */
  | { kind: 'wait' }
  /** A transient failure (408, 429, 5xx, network, timeout): retry with backoff; 429 may say when. */
  | { kind: 'retry'; message: string; retryAfterMs?: number }
  /** A permanent failure (other 4xx, refused address, webhook removed): dead-letter now. */
  | { kind: 'failed'; message: string };

/**
 * Sends one delivery. Sends for the same item are serialized with a lock, and a delivery for
 * which a newer version exists is superseded instead of sent, so the third party never ends with
 * an older state than ours whatever the order in which jobs run.
 */
export async function deliverChange(deliveryId: string, attemptNumber: number, deps: DeliverDeps): Promise<DeliverOutcome> {
  const delivery = await deps.deliveries.findById(deliveryId);
  if (!delivery) return { kind: 'done', status: 'skipped' };
  if (delivery.status !== 'pending') {
    // Finished, yet its job runs again: the run that finished it may have died (or lost the store)
    // between recording the outcome and settling the item. Settling is idempotent; without this
    // the item read as not yet delivered forever, and so won (dropped) every later inbound change.
    await deps.outbox.settle(delivery.itemId, delivery.op, delivery.version, delivery.status === 'succeeded');
    return { kind: 'done', status: 'skipped' };
  }

  // One send per item at a time across all the organization's output webhooks: they reach the
  // same third party, and an older POST must not land after a newer DELETE.
  const lockName = `deliver:${delivery.itemId}`;
  if (!(await deps.locks.acquire(lockName, delivery.id, deps.lockTtlMs))) return { kind: 'wait' };
  try {
    if (await deps.deliveries.hasNewer(delivery)) {
      await deps.deliveries.setStatus(delivery.id, 'superseded', ['pending']);
      await deps.outbox.settle(delivery.itemId, delivery.op, delivery.version, false);
      return { kind: 'done', status: 'superseded' };
    }
    const org = await deps.organizations.findById(delivery.organizationId);
    const webhook = org?.webhooks.find((w) => w.id === delivery.webhookId);
    if (!org || !webhook) return await giveUp(delivery, attemptNumber, 'the output webhook is no longer configured', deps);

    const headers = { 'content-type': 'application/json', ...signedHeaders(webhook.secret, delivery.id, delivery.body) };
    const response = await deps.http.send({ method: delivery.method, url: delivery.url, headers, body: delivery.body });
    const attempt: DeliveryAttempt = {
      at: new Date(),
      statusCode: response.ok ? response.status : null,
      error: response.ok ? null : `${response.kind}: ${response.message}`,
      ms: response.ms,
    };
    if (response.ok && response.status >= 200 && response.status < 300) {
      await deps.deliveries.recordAttempt(delivery.id, attempt, 'succeeded', attemptNumber, delivery.lastAttempts);
      await deps.outbox.settle(delivery.itemId, delivery.op, delivery.version, true);
      deps.logger.info('delivered', { deliveryId: delivery.id, status: response.status, ms: response.ms });
      return { kind: 'done', status: 'succeeded', latencyMs: Date.now() - delivery.createdAt.getTime() };
    }
    const transient = response.ok
      ? response.status === 408 || response.status === 429 || response.status >= 500
      : response.kind === 'timeout' || response.kind === 'network';
    const message = response.ok ? `HTTP ${response.status}` : attempt.error ?? 'failed';
    if (!transient) {
      await deps.deliveries.recordAttempt(delivery.id, attempt, 'failed', attemptNumber, delivery.lastAttempts);
      await deps.outbox.settle(delivery.itemId, delivery.op, delivery.version, false);
      deps.logger.warn('delivery failed permanently', { deliveryId: delivery.id, reason: message });
      return { kind: 'failed', message };
    }
    await deps.deliveries.recordAttempt(delivery.id, attempt, 'pending', attemptNumber, delivery.lastAttempts);
    deps.logger.warn('delivery attempt failed', { deliveryId: delivery.id, attempt: attemptNumber, reason: message });
    const retryAfterMs = response.ok ? retryAfter(response.headers['retry-after']) : undefined;
    return { kind: 'retry', message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  } finally {
    await deps.locks.release(lockName, delivery.id).catch(() => undefined);
  }
}

/** Marks a delivery dead-lettered after its last attempt (called by the processor). */
export async function deadLetter(deliveryId: string, deps: Pick<DeliverDeps, 'deliveries' | 'outbox' | 'logger'>): Promise<void> {
  const delivery = await deps.deliveries.findById(deliveryId);
  if (!delivery || delivery.status !== 'pending') return;
  await deps.deliveries.setStatus(delivery.id, 'failed', ['pending']);
  await deps.outbox.settle(delivery.itemId, delivery.op, delivery.version, false);
  deps.logger.warn('delivery dead-lettered', { deliveryId: delivery.id, attempts: delivery.attempts });
}

async function giveUp(delivery: Delivery, attemptNumber: number, message: string, deps: DeliverDeps): Promise<DeliverOutcome> {
  await deps.deliveries.recordAttempt(delivery.id, { at: new Date(), statusCode: null, error: message, ms: 0 }, 'failed', attemptNumber, delivery.lastAttempts);
  await deps.outbox.settle(delivery.itemId, delivery.op, delivery.version, false);
  return { kind: 'failed', message };
}

/** Retry-After in seconds or as an HTTP date; capped at an hour. */
function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 3600_000) : undefined;
}
