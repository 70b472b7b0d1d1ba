import { outputWebhooksFor } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import type { DeliveryTrace, FanoutJob } from '@music/queue';
import type { Logger } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { MappingCache } from './mapping-cache';

export interface FanoutDeps {
  organizations: OrganizationRepository;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  mappings: MappingCache;
  /** Adds one deliver job per delivery id (idempotent by job id); `trace` rides along for their log lines. */
  enqueueDeliveries: (organizationId: string, deliveryIds: string[], trace: DeliveryTrace) => Promise<void>;
  logger: Logger;
}

export type FanoutResult = 'fanned-out' | 'stale' | 'nothing-to-deliver';

/**
 * Turns a local change (the item's pending event) into one delivery per matching output webhook,
 * body reverse-mapped to the third party's shape (rows 13, 14, 26). Safe to repeat: delivery ids
 * derive from the event and webhook, and the event is cleared only once its deliveries exist.
 */
export async function fanOutChange(job: FanoutJob, deps: FanoutDeps): Promise<FanoutResult> {
  const item = await deps.sync.items.read(job.itemId);
  const event = item?.pendingEvent;
  // Cleared already (a repeat) or replaced by a newer event, whose own fan-out carries the newer state.
  if (!item || !event || event.id !== job.eventId) return 'stale';
  // A deleted organization: its purge removes the item.
  const org = await deps.organizations.findById(item.organizationId);
  if (!org) return 'stale';

  const webhooks = outputWebhooksFor(org, event.op);
  const body = webhooks.length > 0 ? JSON.stringify(deps.mappings.for(org).toRecord({ externalId: item.externalId, data: item.data })) : '';
  const result = await deps.sync.outbound.fanOut(item, event.id, { webhooks, body });
  switch (result.kind) {
    case 'fanned-out':
      await deps.enqueueDeliveries(org.id, result.deliveryIds, { externalId: item.externalId, ...(event.requestId ? { requestId: event.requestId } : {}) });
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
