import type { Delivery, DeliveryAttempt, InventoryItem, PendingEvent, Webhook } from '@music/domain';
import { collectionOf, refusedDuplicates, toDelivery, type DeliveryDoc, type Models, type OrganizationRepository } from '@music/persistence';
import type { Applied, ItemStore } from './item-store';
import type { SyncEvent } from './transitions';

const KEEP_ATTEMPTS = 10;

/**
 * The lease every send of the item's changes holds (one at a time across the organization's output
 * webhooks), and what withdraws the item's deliveries takes to never withdraw one on its way.
 */
export const sendLeaseName = (itemId: string): string => `deliver:${itemId}`;

/** A delivery's id: one local event sent to one output webhook. Also the `webhook-id` header. */
export const deliveryIdOf = (eventId: string, webhookId: string): string => `${eventId}_${webhookId}`;

/** What a fan-out sends: the matching output webhooks and the body (reverse-mapped by the caller). */
export interface DeliveryPlan {
  webhooks: Webhook[];
  body: string;
}

export type FanOutResult =
  /** Deliveries exist (created now, or by an earlier run of the same fan-out) and the item awaits them. */
  | { kind: 'fanned-out'; deliveryIds: string[] }
  /** No matching output webhook: the item settled without a delivery (rows 14, 26). */
  | { kind: 'settled' }
  /** The event was fanned out already, or replaced by a newer one (whose own fan-out carries it). */
  | { kind: 'stale' };

/** How a delivery ended for now. */
export type DeliveryAnswer =
  | { status: 'succeeded'; attempt: DeliveryAttempt; attemptNumber: number }
  /** The webhook gave up: a permanent error, or attempts ran out (`attempt` null: nothing new was tried). */
  | { status: 'failed'; attempt: DeliveryAttempt | null; attemptNumber: number; message: string; /** Attempts ran out (transient errors each time). */ deadLettered?: boolean };

/** What a delivery is: one event of an item, sent to one webhook with this body (a DELETE for a deletion, else the webhook's method). */
function deliveryOf(
  item: Pick<InventoryItem, 'organizationId' | 'id' | 'externalId'>,
  event: PendingEvent,
  webhook: Webhook,
  body: string,
): Pick<DeliveryDoc, '_id' | 'organizationId' | 'itemId' | 'externalId' | 'eventId' | 'webhookId' | 'url' | 'method' | 'op' | 'version' | 'body'> {
  return {
    _id: deliveryIdOf(event.id, webhook.id),
    organizationId: item.organizationId,
    itemId: item.id,
    externalId: item.externalId,
    eventId: event.id,
    webhookId: webhook.id,
    url: webhook.url,
    method: event.op === 'delete' ? 'DELETE' : webhook.method,
    op: event.op,
    version: event.version,
    body,
  };
}

function lastErrorOf(attempt: DeliveryAttempt): string | null {
  return attempt.error ?? (attempt.statusCode !== null && attempt.statusCode >= 300 ? `HTTP ${attempt.statusCode}` : null);
}

/**
 * The outbound side (rows 13-17, 20, 26-30): fan-out, the answers of the output webhooks, and the
 * deliveries that end without one (superseded, cancelled). The only writer of `deliveries`.
 */
export class Outbound {
  constructor(
    private readonly store: ItemStore,
    private readonly models: Pick<Models, 'deliveries'>,
    private readonly live: Pick<OrganizationRepository, 'isLive'>,
  ) {}

  /**
   * Fans the item's pending event out: one delivery per matching webhook (id `<eventId>_<webhookId>`,
   * inserted once however often this runs), then the item awaits them and its event is cleared, in
   * that order under the item's lock, so an item never awaits a delivery that does not exist.
   */
  async fanOut(item: InventoryItem, eventId: string, plan: DeliveryPlan): Promise<FanOutResult> {
    const webhookIds = plan.webhooks.map((w) => w.id);
    let deliveryIds: string[] = [];
    let applied: Applied;
    try {
      applied = await this.store.applyOne(item, (current) => (current?.pendingEvent?.id === eventId ? { type: 'fan-out', eventId, webhooks: webhookIds } : null), {
        preread: item,
        beforeWrite: async (t, current) => {
          const event = current?.pendingEvent;
          if (t.row !== 13 || !current || !event) return;
          const now = new Date();
          const docs: DeliveryDoc[] = plan.webhooks.map((webhook) => ({
            ...deliveryOf(current, event, webhook, plan.body),
            status: 'pending',
            attempts: 0,
            lastAttempts: [],
            lastError: null,
            deadLettered: false,
            createdAt: now,
            updatedAt: now,
            deliveredAt: null,
          }));
          // Known before the insert: a failed insert may have stored some of them.
          deliveryIds = docs.map((d) => d._id);
          await this.insertMissing(docs);
        },
      });
    } catch (error) {
      // The deliveries may be stored and the item's write not applied (a store error, a lost lock):
      // as when the write did not apply, they go when the organization is not live.
      if (deliveryIds.length > 0) await this.removeIfOrganizationGone(item.organizationId, deliveryIds);
      throw error;
    }
    if (applied.transition.row === 13) return { kind: 'fanned-out', deliveryIds };
    // Deliveries inserted on an attempt whose write then lost to a newer change of the item (its
    // event replaced meanwhile): a newer version exists, so they are superseded, never sent (rule 4),
    // rather than left pending with no job. Or the item was purged meanwhile: they go too.
    if (deliveryIds.length > 0 && !(await this.removeIfOrganizationGone(item.organizationId, deliveryIds))) {
      await this.models.deliveries.updateMany({ _id: { $in: deliveryIds }, status: 'pending' }, { $set: { status: 'superseded', updatedAt: new Date() } });
    }
    if (applied.transition.changed) return { kind: 'settled' };
    return { kind: 'stale' };
  }

  /**
   * A fan-out with one matching webhook whose first attempt was made in the same job, before
   * anything was recorded (the send held the item's send lease; its `webhook-id` is the delivery id,
   * so a crash before this write sends the same id again). The delivery is stored with that attempt,
   * then the item is fanned out and, when the answer is final, answered, in one write (rows 13 then
   * 15/16, 27/28): two commands where a fan-out and a separate delivery take six. `pending`: a
   * transient failure, retried by a deliver job (the item awaits the webhook as after any fan-out).
   * `recorded` false: a newer change replaced the event meanwhile (its own fan-out carries it), and a
   * pending delivery is superseded.
   */
  async fanOutFirstAttempt(
    item: InventoryItem,
    eventId: string,
    plan: { webhook: Webhook; body: string },
    first: { status: 'succeeded' | 'failed' | 'pending'; attempt: DeliveryAttempt; message?: string; /** A transient failure that was the last attempt allowed. */ deadLettered?: boolean },
    context: { allEntries: string[] },
  ): Promise<{ recorded: boolean; deliveryId: string; applied: Applied }> {
    const event = item.pendingEvent;
    if (!event || event.id !== eventId) throw new Error('fanOutFirstAttempt: the item does not hold this event');
    const { webhook } = plan;
    const now = new Date();
    const lastError = first.status === 'succeeded' ? null : (lastErrorOf(first.attempt) ?? first.message ?? null);
    const doc: DeliveryDoc = {
      ...deliveryOf(item, event, webhook, plan.body),
      status: first.status,
      attempts: 1,
      lastAttempts: [first.attempt],
      lastError,
      deadLettered: first.status === 'failed' && first.deadLettered === true,
      createdAt: now,
      updatedAt: now,
      deliveredAt: first.status === 'succeeded' ? now : null,
    };
    const events: SyncEvent[] = [{ type: 'fan-out', eventId, webhooks: [webhook.id] }];
    if (first.status !== 'pending') {
      events.push({ type: 'delivery-answered', version: event.version, webhook: webhook.id, result: first.status === 'succeeded' ? 'acknowledged' : 'gave-up', allEntries: context.allEntries });
    }
    let applied: Applied;
    try {
      if (!(await this.insertMissing([doc]))) {
        // An earlier run of the same fan-out stored it (and died before the item's write): it learns this attempt.
        const { _id, createdAt: _c, ...answer } = doc;
        await this.models.deliveries.updateOne({ _id, status: 'pending' }, { $set: answer });
      }
      applied = await this.store.applyOne(item, (current) => (current?.pendingEvent?.id === eventId ? events : null), { preread: item });
    } catch (error) {
      // The delivery may be stored and the item's write not applied (the item's lock not had in
      // time, a lost lease, a store error): as when the write did not apply, it goes when the
      // organization is not live. Otherwise the job runs again and finds it.
      await this.removeIfOrganizationGone(item.organizationId, [doc._id]);
      throw error;
    }
    const recorded = applied.transition.changed;
    // Not recorded: the event was replaced by a newer change, or the item purged while the attempt
    // was on its way (then the delivery goes too: the purge may have passed already).
    if (!recorded && !(await this.removeIfOrganizationGone(item.organizationId, [doc._id])) && first.status === 'pending') await this.supersede(toDelivery(doc));
    return { recorded, deliveryId: doc._id, applied };
  }

  /**
   * Deliveries a fan-out stored whose item write then did not apply (or failed): removed when their
   * organization is no longer live (marked deleted, or gone), since its purge may have passed before
   * they were stored (docs/sync-model.md, "Deleting an organization"). A write that did apply needs
   * no check: the item was still there, so the purge's removal of the items, and after it of the
   * deliveries, comes later. True when they were removed.
   */
  private async removeIfOrganizationGone(organizationId: string, deliveryIds: string[]): Promise<boolean> {
    if (await this.live.isLive(organizationId)) return false;
    await this.models.deliveries.deleteMany({ _id: { $in: deliveryIds }, organizationId });
    return true;
  }

  /**
   * A fan-out that finds its item or its organization gone: the deliveries of the item are removed
   * when the organization is not live. An earlier run of the same fan-out may have stored one and
   * failed before its own check (docs/sync-model.md, "Deleting an organization"), and the purge may
   * have passed since. True when the organization is not live.
   */
  async removeItemDeliveriesIfOrganizationGone(organizationId: string, itemId: string): Promise<boolean> {
    if (await this.live.isLive(organizationId)) return false;
    await this.models.deliveries.deleteMany({ organizationId, itemId });
    return true;
  }

  /** A transient failure: the attempt is recorded and the delivery stays pending (retried with backoff). */
  async recordRetry(delivery: Delivery, attempt: DeliveryAttempt, attemptNumber: number): Promise<void> {
    await this.models.deliveries.updateOne(
      { _id: delivery.id, status: 'pending' },
      {
        $set: {
          attempts: attemptNumber,
          // Kept whole rather than $push/$slice'd: the stores we support differ on array operators.
          lastAttempts: [...delivery.lastAttempts, attempt].slice(-KEEP_ATTEMPTS),
          lastError: lastErrorOf(attempt),
          updatedAt: new Date(),
        },
      },
    );
  }

  /**
   * The webhook answered for good: the delivery is recorded, then the item learns it (rows 15, 16,
   * 27, 28, or one answer of several). `preread`: the item as read before the send (its write is
   * conditional on it, one command when nothing changed meanwhile). `allEntries`: the organization's
   * polling entries (a settled item may be listed by any of them).
   */
  async settle(delivery: Delivery, answer: DeliveryAnswer, context: { allEntries: string[]; preread?: InventoryItem | null }): Promise<Applied> {
    const now = new Date();
    const attempts = answer.attempt ? [...delivery.lastAttempts, answer.attempt].slice(-KEEP_ATTEMPTS) : delivery.lastAttempts;
    const lastError = answer.status === 'failed' ? (answer.attempt ? lastErrorOf(answer.attempt) : null) ?? answer.message : null;
    await this.models.deliveries.updateOne(
      { _id: delivery.id },
      {
        $set: {
          status: answer.status,
          attempts: Math.max(answer.attemptNumber, delivery.attempts),
          lastAttempts: attempts,
          lastError,
          deadLettered: answer.status === 'failed' && answer.deadLettered === true,
          updatedAt: now,
          ...(answer.status === 'succeeded' ? { deliveredAt: now } : {}),
        },
      },
    );
    return this.answerItem(delivery, answer.status === 'succeeded' ? 'acknowledged' : 'gave-up', context);
  }

  /**
   * A delivery already finished whose job runs again (its process died between recording the
   * outcome and updating the item): the item learns the recorded answer again (idempotent).
   */
  async resettle(delivery: Delivery, context: { allEntries: string[] }): Promise<Applied | null> {
    if (delivery.status !== 'succeeded' && delivery.status !== 'failed') return null;
    return this.answerItem(delivery, delivery.status === 'succeeded' ? 'acknowledged' : 'gave-up', context);
  }

  private answerItem(delivery: Delivery, result: 'acknowledged' | 'gave-up', context: { allEntries: string[]; preread?: InventoryItem | null }): Promise<Applied> {
    return this.store.applyOne(
      { id: delivery.itemId, organizationId: delivery.organizationId, externalId: delivery.externalId },
      () => ({ type: 'delivery-answered', version: delivery.version, webhook: delivery.webhookId, result, allEntries: context.allEntries }),
      context.preread !== undefined ? { preread: context.preread } : {},
    );
  }

  /** A newer version of the item exists: never sent (the item is not touched: it awaits the newer one). */
  async supersede(delivery: Delivery): Promise<void> {
    await this.models.deliveries.updateOne({ _id: delivery.id, status: 'pending' }, { $set: { status: 'superseded', updatedAt: new Date() } });
  }

  /**
   * Ends deliveries that can no longer be sent (their webhook removed or no longer taking this kind
   * of change, the organization switched to one-way or deleted, the item gone), with the reason;
   * their items stop awaiting those webhooks (rows 17, 29 once none is left).
   */
  async cancel(deliveries: readonly Delivery[], reason: string, allEntries: string[]): Promise<number> {
    const pending = deliveries.filter((d) => d.status === 'pending');
    if (pending.length === 0) return 0;
    await this.models.deliveries.updateMany(
      { _id: { $in: pending.map((d) => d.id) }, status: 'pending' },
      { $set: { status: 'cancelled', lastError: reason, updatedAt: new Date() } },
    );
    const byItem = new Map<string, Delivery[]>();
    for (const d of pending) byItem.set(d.itemId, [...(byItem.get(d.itemId) ?? []), d]);
    for (const group of byItem.values()) {
      const first = group[0] as Delivery;
      const webhooks = [...new Set(group.filter((d) => d.version === first.version).map((d) => d.webhookId))];
      await this.store.applyOne({ id: first.itemId, organizationId: first.organizationId, externalId: first.externalId }, (item) =>
        item && item.version === first.version ? { type: 'webhooks-withdrawn', webhooks, allEntries } : null,
      );
    }
    return pending.length;
  }

  /**
   * Sends finished deliveries of the item's current version again, same ids (rows 20, 30, or a
   * single delivery replayed): the item awaits their webhooks, and the deliveries are pending again.
   * Refused (null) when the item was written since `item` was read: the caller decided on that read
   * (diverged, this version, no change pending, our data), and a write since (an accepted remote
   * version, which keeps the version; an inbound change; a newer local change) may have made the
   * replay send an older state over a newer one (rule 4).
   */
  async replay(item: InventoryItem, deliveries: readonly Delivery[]): Promise<Applied | null> {
    const current = deliveries.filter((d) => d.itemId === item.id && d.version === item.version && d.status !== 'pending');
    if (current.length === 0) return null;
    const webhooks = [...new Set(current.map((d) => d.webhookId))];
    const applied = await this.store.applyOne(item, (now) => (now && now.rev === item.rev ? { type: 'replay', webhooks } : null), {
      beforeWrite: async () => {
        await this.models.deliveries.updateMany(
          { _id: { $in: current.map((d) => d.id) } },
          { $set: { status: 'pending', lastError: null, deadLettered: false, resolution: null, updatedAt: new Date() } },
        );
      },
    });
    return applied.transition.changed ? applied : null;
  }

  /** Pending deliveries of an organization (the configuration reconciliation). */
  async listPending(organizationId: string): Promise<Delivery[]> {
    const docs = await this.models.deliveries.find({ organizationId, status: 'pending' }).lean<DeliveryDoc[]>();
    return docs.map(toDelivery);
  }

  /** Inserts the deliveries that do not exist yet (a fan-out repeated after a crash adds none twice); false when some existed. */
  private async insertMissing(docs: DeliveryDoc[]): Promise<boolean> {
    if (docs.length === 0) return true;
    try {
      await collectionOf(this.models.deliveries).insertMany(docs, { ordered: false });
      return true;
    } catch (error) {
      // Some existed (any error but a duplicate is thrown again).
      refusedDuplicates(
        error,
        docs.map((d) => d._id),
      );
      return false;
    }
  }
}
