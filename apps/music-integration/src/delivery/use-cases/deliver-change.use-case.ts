import { Result } from '@sapphire/result';
import { webhookTakes, type Delivery } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import type { Logger, RedisLocks } from '@music/platform';
import { sendLeaseName, type SyncState } from '@music/sync-state';
import type { SyncMetrics } from '../../engine/sync-metrics';
import type { ConfigurationMemory } from '../../maintenance/configuration-memory';
import type { AccountOutbound } from '../account-outbound';
import type { DeliveryRepository } from '../delivery.repository';
import type { GaveUpNotice } from '../gave-up-notice';
import { sendDelivery } from '../send-delivery';

export interface DeliverChangeDeps {
  /** The organization as stored now (the cache checks its revision on every read). */
  organizations: Pick<OrganizationRepository, 'findById'>;
  deliveries: Pick<DeliveryRepository, 'findById'>;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  /** Asked only when a job runs again after its delivery was answered (never on a send's path). */
  configuration: Pick<ConfigurationMemory, 'afterWriteMade'>;
  /** The guarded client, held to each owner's outbound quota. */
  http: AccountOutbound;
  locks: RedisLocks;
  logger: Logger;
  /** TTL of the per-item send lease (renewed while the send runs). */
  leaseTtlMs: number;
  /** Whether the organization is paused: its deliveries are held (not sent, not failed) until it resumes. */
  isPaused: (organizationId: string) => Promise<boolean>;
  /** PAUSED_DELIVERY_RECHECK_MS: how long a held delivery waits before it looks again. */
  pausedRecheckMs: number;
  /** DELIVERY_ATTEMPTS */
  deliveryAttempts: number;
  gaveUp: GaveUpNotice;
  metrics: SyncMetrics | null;
}

export interface DeliverChangeCommand {
  deliveryId: string;
  /** Attempts so far, this one included (a fan-out's first attempt counts). */
  attemptNumber: number;
  /** A transient failure now dead-letters the delivery (default: DELIVERY_ATTEMPTS reached). */
  lastAttempt?: boolean;
}

/** How one attempt of a delivery ended. */
export type DeliverOutcome =
  | { kind: 'done'; status: 'succeeded' | 'superseded' | 'cancelled' | 'skipped'; /** Succeeded: from the delivery's creation to now. */ latencyMs?: number }
  /** Another send for the same item is in flight (or its fan-out is finishing), or the organization is paused (`delayMs`): try again later, without using an attempt. */
  | { kind: 'wait'; delayMs?: number }
  /** A transient failure (408, 429, 5xx, network, timeout): retry with backoff; 429 may say when. */
  | { kind: 'retry'; message: string; retryAfterMs?: number }
  /** The webhook gave up: a permanent failure (other 4xx, refused address), or the last attempt failed (`deadLettered`). */
  | { kind: 'failed'; message: string; deadLettered: boolean };

/** Sent, settled without a send, or waiting its turn. */
export type DeliverSettled = Extract<DeliverOutcome, { kind: 'done' | 'wait' }>;
/** What the job does next: retry (a transient failure) or fail for good (`failed`: the delivery gave up, its notifications are queued). */
export type DeliverFailure = Extract<DeliverOutcome, { kind: 'retry' | 'failed' }>;

/**
 * One attempt of a delivery, counted in the metrics. It is sent to its webhook's current URL,
 * method and secret (looked up by the webhook's id, so an edited webhook gets its pending
 * deliveries). Sends for one item are serialized with a lease across the organization's output
 * webhooks, and a delivery for which a newer version of the item exists is superseded instead of
 * sent, so the third party never ends with an older state than ours whatever the order in which
 * jobs run. The answer is recorded by the one writer, which settles the item once every awaited
 * webhook answered (rule 4).
 */
export class DeliverChangeUseCase {
  constructor(private readonly deps: DeliverChangeDeps) {}

  async execute(command: DeliverChangeCommand): Promise<Result<DeliverSettled, DeliverFailure>> {
    const { deliveryId, attemptNumber } = command;
    const lastAttempt = command.lastAttempt ?? attemptNumber >= this.deps.deliveryAttempts;
    const outcome = await this.attempt(deliveryId, attemptNumber, lastAttempt);
    this.deps.metrics?.deliveryOutcome(outcome);
    if (outcome.kind === 'failed') await this.deps.gaveUp.send(deliveryId);
    return outcome.kind === 'retry' || outcome.kind === 'failed' ? Result.err(outcome) : Result.ok(outcome);
  }

  private async attempt(deliveryId: string, attemptNumber: number, lastAttempt: boolean): Promise<DeliverOutcome> {
    const deps = this.deps;
    const delivery = await deps.deliveries.findById(deliveryId);
    if (!delivery) return { kind: 'done', status: 'skipped' };
    if (delivery.status !== 'pending') {
      // Finished, yet its job runs again: the run that finished it may have died between recording
      // the outcome and updating the item. Learning the answer again is idempotent.
      const org = await deps.organizations.findById(delivery.organizationId);
      const allEntries = org?.polling.map((p) => p.id) ?? [];
      await deps.sync.outbound.resettle(delivery, { allEntries });
      // Read without the item's send lease, so the reconciliation of an entry removed since did not
      // wait for this write (as it waits for a send's): an acknowledgement listing that entry in
      // `seenBy` (row 15) would keep the item from the other entries' deletion passes (rule 6). The
      // configuration is applied again then (Maintenance); the ordinary path reads under the lease.
      // Checked even when the item learned nothing now: a run before this one may have written it
      // and failed here. The answer is recorded: a failure there is left to the periodic pass.
      if (org) await deps.configuration.afterWriteMade(org.id, org.revision, allEntries, { deliveryId: delivery.id, externalId: delivery.externalId });
      return { kind: 'done', status: 'skipped' };
    }

    // One send per item at a time across all the organization's output webhooks: they reach the
    // same third party, and an older POST must not land after a newer DELETE.
    const lease = await deps.locks.lease(sendLeaseName(delivery.itemId), delivery.id, deps.leaseTtlMs);
    if (!lease) return { kind: 'wait' };
    try {
      const item = await deps.sync.items.read(delivery.itemId);
      if (!item) return await this.cancel(delivery, 'the item no longer exists', []);
      if (item.version > delivery.version) {
        await deps.sync.outbound.supersede(delivery);
        return { kind: 'done', status: 'superseded' };
      }
      const org = await deps.organizations.findById(delivery.organizationId);
      if (!org) return await this.cancel(delivery, 'the organization was deleted', []);
      if (await deps.isPaused(org.id)) return { kind: 'wait', delayMs: deps.pausedRecheckMs };
      const allEntries = org.polling.map((p) => p.id);
      if (org.synchronization !== 'two-way') return await this.cancel(delivery, 'the organization switched to one-way', allEntries);
      const webhook = org.webhooks.find((w) => w.id === delivery.webhookId);
      if (!webhook) return await this.cancel(delivery, 'the output webhook was removed', allEntries);
      if (!webhookTakes(webhook, delivery.op)) return await this.cancel(delivery, `the output webhook no longer takes ${delivery.op === 'delete' ? 'deletes' : 'creates and updates'}`, allEntries);
      if (!item.awaiting.includes(webhook.id)) {
        // Its fan-out has not recorded what the item awaits yet: shortly.
        if (item.pendingEvent?.id === delivery.eventId) return { kind: 'wait' };
        return await this.cancel(delivery, 'the item no longer awaits this webhook', allEntries);
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

  private async cancel(delivery: Delivery, reason: string, allEntries: string[]): Promise<DeliverOutcome> {
    await this.deps.sync.outbound.cancel([delivery], reason, allEntries);
    this.deps.logger.info('delivery cancelled', { deliveryId: delivery.id, reason });
    return { kind: 'done', status: 'cancelled' };
  }
}
