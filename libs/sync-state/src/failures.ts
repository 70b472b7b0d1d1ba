import type { Models } from '@music/persistence';

/** Which failed deliveries no longer need a person: one item's (of versions below `belowVersion`), or a whole organization's. */
export type FailureScope = { itemId: string; belowVersion?: number } | { organizationId: string };

/**
 * Failed deliveries that stop needing a person become `resolved` (docs/sync-model.md, rule 5):
 * their divergence was resolved by accepting the remote version, a newer local change of their
 * item replaced them, or the organization switched to one-way. `resolution` says which; the
 * failure itself (`lastError`, attempts) is kept. The status, the dead letters and the bulk
 * replay see only `failed` ones.
 */
export class DeliveryFailures {
  constructor(private readonly models: Pick<Models, 'deliveries'>) {}

  async resolve(scope: FailureScope, resolution: string): Promise<number> {
    const query: Record<string, unknown> =
      'itemId' in scope
        ? { itemId: scope.itemId, status: 'failed', ...(scope.belowVersion !== undefined ? { version: { $lt: scope.belowVersion } } : {}) }
        : { organizationId: scope.organizationId, status: 'failed' };
    const result = await this.models.deliveries.updateMany(query, { $set: { status: 'resolved', resolution, updatedAt: new Date() } });
    return result.modifiedCount;
  }
}
