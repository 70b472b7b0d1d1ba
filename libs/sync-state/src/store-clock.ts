import type { Models } from '@music/persistence';

/**
 * The store's clock: every time the sync compares (when a snapshot began, when an inbound change
 * was accepted, when a delivery was acknowledged, when a tombstone expires) is read here or
 * written with `$currentDate`, so no two processes' clocks are ever compared (rule 2).
 */
export class StoreClock {
  constructor(private readonly models: Pick<Models, 'inventoryItems'>) {}

  /** The store's current time (`hello.localTime`, about a millisecond). */
  async now(): Promise<Date> {
    const db = this.models.inventoryItems.db.db;
    if (!db) throw new Error('the store connection is not open');
    const hello = (await db.command({ hello: 1 })) as { localTime?: unknown };
    if (!(hello.localTime instanceof Date)) throw new Error('the store did not report its time (hello.localTime)');
    return hello.localTime;
  }
}
