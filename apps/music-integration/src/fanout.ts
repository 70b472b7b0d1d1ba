import { outputWebhooksFor } from '@music/domain';
import type { DeliveryDoc, OrganizationRepository } from '@music/persistence';
import { deliveryIdOf, type DeliveryTrace, type FanoutJob } from '@music/queue';
import type { Logger } from '@music/platform';
import type { DeliveryRepository } from './delivery.repository';
import type { MappingCache } from './mapping-cache';
import type { OutboxRepository } from './outbox.repository';

export interface FanoutDeps {
  organizations: OrganizationRepository;
  outbox: OutboxRepository;
  deliveries: DeliveryRepository;
  mappings: MappingCache;
  /** Adds one deliver job per delivery id (idempotent by job id). */
  enqueueDeliveries: (organizationId: string, deliveryIds: string[], trace: DeliveryTrace) => Promise<void>;
  logger: Logger;
}

/**
 * Turns a local change (the item's pendingEvent) into one delivery per matching output webhook,
 * body reverse-mapped to the third party's shape. Safe to repeat: delivery ids derive from the
 * event and webhook, and the event is cleared only after its deliveries are enqueued.
 */
export async function fanOutChange(job: FanoutJob, deps: FanoutDeps): Promise<'fanned-out' | 'stale' | 'nothing-to-deliver'> {
  const item = await deps.outbox.findItem(job.itemId);
  const event = item?.pendingEvent;
  // Cleared already (a repeat) or replaced by a newer event, whose own fan-out carries the newer state.
  if (!item || !event || event.id !== job.eventId) return 'stale';

  const org = await deps.organizations.findById(item.organizationId);
  const webhooks = org ? outputWebhooksFor(org, event.op) : [];
  if (!org || webhooks.length === 0) {
    await deps.outbox.settleWithoutDelivery(item, event.id);
    return 'nothing-to-deliver';
  }

  const body = JSON.stringify(deps.mappings.for(org).toRecord({ externalId: item.externalId, data: item.data }));
  const now = new Date();
  const docs: DeliveryDoc[] = webhooks.map((webhook) => ({
    _id: deliveryIdOf(event.id, webhook.id),
    organizationId: org.id,
    itemId: item.id,
    externalId: item.externalId,
    eventId: event.id,
    webhookId: webhook.id,
    url: webhook.url,
    method: event.op === 'delete' ? 'DELETE' : webhook.method,
    op: event.op,
    version: event.version,
    body,
    status: 'pending',
    attempts: 0,
    lastAttempts: [],
    lastError: null,
    createdAt: now,
    updatedAt: now,
    deliveredAt: null,
  }));
  await deps.deliveries.insertMissing(docs);
  await deps.enqueueDeliveries(org.id, docs.map((d) => d._id), { externalId: item.externalId, ...(event.requestId ? { requestId: event.requestId } : {}) });
  await deps.outbox.clearEvent(item.id, event.id);
  // Info, like each delivery's outcome: a search by externalId or requestId finds the change's path.
  deps.logger.info('change fanned out', { itemId: item.id, eventId: event.id, op: event.op, version: event.version, deliveries: docs.length });
  return 'fanned-out';
}
