import { inventoryItemId, itemStateOf, webhookTakes, type Delivery, type InventoryItem, type Organization } from '@music/domain';
import { toDelivery, type DeliveryDoc, type Models } from '@music/persistence';
import type { DeliveryFailures } from './failures';
import type { Applied, ItemStore } from './item-store';
import type { Outbound } from './outbound';

/** How often a replay reads the item again when it was written between the read and the replay. */
const REPLAY_READS = 3;

export type ResolveOutcome =
  | { kind: 'resolved'; applied: Applied }
  /** Deliveries pending again: the caller queues them. */
  | { kind: 'replaying'; applied: Applied; deliveries: Delivery[] }
  | { kind: 'not-diverged' }
  /** No failed delivery of the item's current version can be sent again (its webhooks were removed). */
  | { kind: 'nothing-to-replay' };

/**
 * The user's ways out of a divergence (rule 5): replay the failed deliveries (rows 20, 30) or
 * accept the third party's version (rows 21-23, 31). A new local change also resolves one (row 19).
 */
export class Divergences {
  constructor(
    private readonly store: ItemStore,
    private readonly outbound: Outbound,
    private readonly models: Pick<Models, 'deliveries'>,
    private readonly failures: DeliveryFailures,
  ) {}

  /** The item of `externalId` if it is diverged or delete-diverged. */
  async find(organizationId: string, externalId: string): Promise<InventoryItem | null> {
    const item = await this.store.read(inventoryItemId(organizationId, externalId));
    const state = itemStateOf(item);
    return item && item.organizationId === organizationId && (state === 'diverged' || state === 'delete-diverged') ? item : null;
  }

  /** The failed deliveries of the item's current version. */
  async failedDeliveries(item: InventoryItem): Promise<Delivery[]> {
    const docs = await this.models.deliveries.find({ itemId: item.id, version: item.version, status: 'failed' }).lean<DeliveryDoc[]>();
    return docs.map(toDelivery);
  }

  async acceptRemote(organization: Pick<Organization, 'id' | 'polling'>, externalId: string): Promise<ResolveOutcome> {
    const item = await this.find(organization.id, externalId);
    if (!item) return { kind: 'not-diverged' };
    const allEntries = organization.polling.map((p) => p.id);
    const applied = await this.store.applyOne(item, (current) => (current && current.version === item.version ? { type: 'accept-remote', allEntries } : null));
    if (!applied.transition.changed) return { kind: 'not-diverged' };
    // A resolved divergence leaves no failure behind (rule 5); a failure of a newer local change,
    // made since, is a divergence of its own and stays.
    await this.failures.resolve({ itemId: item.id, belowVersion: item.version + 1 }, 'the remote version of the item was accepted');
    return { kind: 'resolved', applied };
  }

  /** Sends the item's failed deliveries again, to the webhooks that still take them. */
  async replay(organization: Pick<Organization, 'id' | 'synchronization' | 'webhooks'>, externalId: string): Promise<ResolveOutcome> {
    // The replay is written only if the item was not written since this read (Outbound.replay): an
    // item written meanwhile is read again, and one no longer diverged (its remote version accepted,
    // a new local change) is not replayed.
    for (let attempt = 0; attempt < REPLAY_READS; attempt++) {
      const item = await this.find(organization.id, externalId);
      if (!item) return { kind: 'not-diverged' };
      if (organization.synchronization !== 'two-way') return { kind: 'nothing-to-replay' };
      const failed = (await this.failedDeliveries(item)).filter((d) => organization.webhooks.some((w) => w.id === d.webhookId && webhookTakes(w, d.op)));
      if (failed.length === 0) return { kind: 'nothing-to-replay' };
      const applied = await this.outbound.replay(item, failed);
      if (applied) return { kind: 'replaying', applied, deliveries: failed };
    }
    return { kind: 'not-diverged' };
  }
}
