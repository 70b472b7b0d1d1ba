import type { Models } from '@music/persistence';
import type { ItemTarget } from './item-store';

/** Which failed deliveries no longer need a person: one item's (of versions below `belowVersion`), or an organization's (of these items). */
export type FailureScope = { itemId: string; belowVersion?: number } | { organizationId: string; itemIds?: readonly string[] };

/**
 * Failed deliveries that stop needing a person become `resolved` (docs/sync-model.md, rule 5):
 * their divergence was resolved by accepting the remote version, a newer local change of their
 * item replaced them, or the organization switched to one-way. `resolution` says which; the
 * failure itself (`lastError`, attempts) is kept. The status, the dead letters and the bulk
 * replay see only `failed` ones.
 */
export class DeliveryFailures {
  constructor(private readonly models: Pick<Models, 'deliveries' | 'inventoryItems'>) {}

  async resolve(scope: FailureScope, resolution: string): Promise<number> {
    const query: Record<string, unknown> =
      'itemId' in scope
        ? { itemId: scope.itemId, status: 'failed', ...(scope.belowVersion !== undefined ? { version: { $lt: scope.belowVersion } } : {}) }
        : { organizationId: scope.organizationId, status: 'failed', ...(scope.itemIds ? { itemId: { $in: [...scope.itemIds] } } : {}) };
    const result = await this.models.deliveries.updateMany(query, { $set: { status: 'resolved', resolution, updatedAt: new Date() } });
    return result.modifiedCount;
  }

  /** The items of the organization's failed deliveries (the switch to one-way resolves them under the items' locks). */
  async failedItems(organizationId: string): Promise<ItemTarget[]> {
    const docs = await this.models.deliveries
      .find({ organizationId, status: 'failed' }, { _id: 0, itemId: 1, externalId: 1 })
      .lean<Array<{ itemId: string; externalId: string }>>();
    const items = new Map(docs.map((d) => [d.itemId, { id: d.itemId, organizationId, externalId: d.externalId }]));
    return [...items.values()];
  }

  /**
   * The organization's failed deliveries of an item that has a newer version since (a newer change
   * replaced them) or no document any more: they can never be sent again, so they are resolved.
   * (Failures of the item's current version are left: a person may still replay them.)
   */
  async resolveOutdated(organizationId: string): Promise<number> {
    const failed = await this.models.deliveries.find({ organizationId, status: 'failed' }, { _id: 1, itemId: 1, version: 1 }).lean<Array<{ _id: string; itemId: string; version: number }>>();
    if (failed.length === 0) return 0;
    const items = await this.models.inventoryItems
      .find({ _id: { $in: [...new Set(failed.map((d) => d.itemId))] } }, { _id: 1, version: 1 })
      .lean<Array<{ _id: string; version: number }>>();
    const versions = new Map(items.map((i) => [i._id, i.version]));
    const byResolution = new Map<string, string[]>();
    for (const d of failed) {
      const version = versions.get(d.itemId);
      if (version !== undefined && version <= d.version) continue;
      const resolution = version === undefined ? 'the item no longer exists' : `replaced by a newer change of the item (version ${version})`;
      byResolution.set(resolution, [...(byResolution.get(resolution) ?? []), d._id]);
    }
    let resolved = 0;
    for (const [resolution, ids] of byResolution) {
      const result = await this.models.deliveries.updateMany({ _id: { $in: ids }, status: 'failed' }, { $set: { status: 'resolved', resolution, updatedAt: new Date() } });
      resolved += result.modifiedCount;
    }
    return resolved;
  }
}
