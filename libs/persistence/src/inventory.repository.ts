import type { InventoryItem } from '@music/domain';
import { toInventoryItem } from './mappers';
import type { InventoryItemDoc, Models } from './models';

export interface InventoryPageRequest {
  limit: number;
  /** The id of the last item of the previous page; items are ordered by `_id`. */
  cursor?: string;
}

export interface InventoryPage {
  items: InventoryItem[];
  nextCursor: string | null;
}

/**
 * Reads of inventory items for the inventory API. Every query takes the organization id(s) the
 * caller may touch, so a query without a tenant does not compile. Tombstones are never returned.
 * Items are written only by `@music/sync-state` (the one writer of item state).
 */
export class InventoryRepository {
  constructor(private readonly models: Pick<Models, 'inventoryItems'>) {}

  /** A live (not tombstoned) item of one of these organizations, or null. */
  async findInOrganizations(organizationIds: readonly string[], id: string): Promise<InventoryItem | null> {
    if (organizationIds.length === 0) return null;
    const doc = await this.models.inventoryItems
      .findOne({ _id: id, organizationId: { $in: [...organizationIds] }, deleted: false })
      .lean<InventoryItemDoc>();
    return doc ? toInventoryItem(doc) : null;
  }

  /** Whether the organization holds any item at all (tombstones included). */
  async hasAny(organizationId: string): Promise<boolean> {
    return (await this.models.inventoryItems.exists({ organizationId })) !== null;
  }

  /** Items of an organization in one of these sync states (tombstones included), ordered by externalId. */
  async listInStates(organizationId: string, states: ReadonlyArray<InventoryItem['state']>, limit: number): Promise<InventoryItem[]> {
    const docs = await this.models.inventoryItems
      .find({ organizationId, state: { $in: [...states] } })
      .sort({ externalId: 1 })
      .limit(limit)
      .lean<InventoryItemDoc[]>();
    return docs.map(toInventoryItem);
  }

  /** An organization's live items (tombstones not counted) and those diverged now: its status. */
  async countsForOrganization(organizationId: string): Promise<{ live: number; diverged: number }> {
    const [live, diverged] = await Promise.all([
      this.models.inventoryItems.countDocuments({ organizationId, deleted: false }),
      this.models.inventoryItems.countDocuments({ organizationId, state: 'diverged' }),
    ]);
    return { live, diverged };
  }

  /** Items diverged now, across every organization: an operators' gauge, never a tenant's answer. */
  async countDiverged(): Promise<number> {
    return this.models.inventoryItems.countDocuments({ state: 'diverged' });
  }

  /** Local changes not yet fanned out (an item with a pending event), across every organization: an operators' gauge. */
  async countOutbox(): Promise<number> {
    return this.models.inventoryItems.countDocuments({ pendingEvent: { $ne: null } });
  }

  /** Live items of these organizations ordered by id, one page at a time. */
  async listForOrganizations(organizationIds: readonly string[], page: InventoryPageRequest): Promise<InventoryPage> {
    if (organizationIds.length === 0) return { items: [], nextCursor: null };
    const filter: Record<string, unknown> = { organizationId: { $in: [...organizationIds] }, deleted: false };
    if (page.cursor !== undefined) filter['_id'] = { $gt: page.cursor };
    // One extra document tells whether another page exists without a count.
    const docs = await this.models.inventoryItems
      .find(filter)
      .sort({ _id: 1 })
      .limit(page.limit + 1)
      .lean<InventoryItemDoc[]>();
    const items = docs.slice(0, page.limit).map(toInventoryItem);
    const last = items[items.length - 1];
    return { items, nextCursor: docs.length > page.limit && last ? last.id : null };
  }
}
