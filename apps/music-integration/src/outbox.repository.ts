import type { InventoryItem } from '@music/domain';
import { toInventoryItem, type InventoryItemDoc, type Models } from '@music/persistence';
import { itemLockName, type RedisLocks } from '@music/platform';

/**
 * The integration side of the outbox kept on each item (`pendingEvent`): fan-out clears it,
 * deliveries settle the item's version, and the sweeper finds events a crash left behind. Every
 * write holds the item's lock, like every other writer of items.
 */
export class OutboxRepository {
  constructor(
    private readonly models: Pick<Models, 'inventoryItems'>,
    private readonly locks: RedisLocks,
  ) {}

  async findItem(itemId: string): Promise<InventoryItem | null> {
    const doc = await this.models.inventoryItems.findOne({ _id: itemId }).lean<InventoryItemDoc>();
    return doc ? toInventoryItem(doc) : null;
  }

  /** Clears the event once its deliveries exist; a newer event written meanwhile is left alone. */
  async clearEvent(itemId: string, eventId: string): Promise<void> {
    await this.locks.withLock(itemLockName(itemId), () =>
      this.models.inventoryItems.updateOne({ _id: itemId, 'pendingEvent.id': eventId }, { $set: { pendingEvent: null } }),
    );
  }

  /** An event with nothing to deliver settles at once (a delete then removes the tombstone). */
  async settleWithoutDelivery(item: InventoryItem, eventId: string): Promise<void> {
    const event = item.pendingEvent;
    if (!event || event.id !== eventId) return;
    await this.locks.withLock(itemLockName(item.id), async () => {
      if (event.op === 'delete') {
        await this.models.inventoryItems.deleteOne({ _id: item.id, 'pendingEvent.id': eventId, deletedAt: { $ne: null } });
      } else {
        await this.models.inventoryItems.updateOne({ _id: item.id, 'pendingEvent.id': eventId }, { $set: { pendingEvent: null, settledVersion: event.version } });
      }
    });
  }

  /**
   * A delivery of `version` finished (delivered or given up). An upsert raises settledVersion (and
   * marks the item as held remotely when delivered); a delete removes the tombstone, unless the item
   * changed again since.
   */
  async settle(itemId: string, op: 'upsert' | 'delete', version: number, delivered: boolean): Promise<void> {
    await this.locks.withLock(itemLockName(itemId), async () => {
      if (op === 'delete') {
        await this.models.inventoryItems.deleteOne({ _id: itemId, version, deletedAt: { $ne: null } });
        return;
      }
      await this.models.inventoryItems.updateOne(
        { _id: itemId, settledVersion: { $lt: version } },
        { $set: { settledVersion: version, ...(delivered ? { remoteKnown: true } : {}) } },
      );
    });
  }

  /** Items whose event has waited longer than the grace period (their fan-out job may be lost). */
  async listStaleEvents(olderThan: Date, limit: number): Promise<InventoryItem[]> {
    const docs = await this.models.inventoryItems.find({ 'pendingEvent.at': { $lt: olderThan } }).limit(limit).lean<InventoryItemDoc[]>();
    return docs.map(toInventoryItem);
  }
}
