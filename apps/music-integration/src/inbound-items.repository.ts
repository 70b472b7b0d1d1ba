import type { AnyBulkWriteOperation } from 'mongoose';
import { hasUndeliveredLocalChange, inventoryItemId } from '@music/domain';
import { versionFloors, type InventoryItemDoc, type Models } from '@music/persistence';
import { itemLockName, type RedisLocks } from '@music/platform';

/** One third-party record after mapping. */
export interface InboundRecord {
  externalId: string;
  data: Record<string, unknown>;
  hash: string;
}

export interface InboundOutcome {
  created: number;
  updated: number;
  unchanged: number;
  /** Not applied: a local change not yet delivered wins (design.md, "Conflicts"). */
  conflicts: number;
  /** Not applied yet: another writer held the item's lock too long (the next poll or a retry applies them). */
  deferred: number;
}

export interface InboundDeleteOutcome {
  deleted: number;
  absent: number;
  conflicts: number;
  deferred: number;
}

type SyncState = Pick<InventoryItemDoc, '_id' | 'externalId' | 'hash' | 'version' | 'settledVersion' | 'pendingEvent' | 'deletedAt' | 'remoteKnown' | 'updatedAt'>;

const SYNC_STATE = { _id: 1, externalId: 1, hash: 1, version: 1, settledVersion: 1, pendingEvent: 1, deletedAt: 1, remoteKnown: 1, updatedAt: 1 } as const;

const DUPLICATE_KEY = 11000;

/**
 * Update statements per command. FerretDB 1.x (PostgreSQL backend) holds a pool connection for
 * each statement of an update command until the command ends, so one command with as many
 * statements as its pool (FerretDB's default 50; 20 as scripts/services.sh starts it) waits
 * forever for a connection, and the whole store with it; concurrent commands add up. Small
 * commands sent one after another cost the same (the store runs statements one by one).
 */
const UPDATE_CHUNK = 4;

export interface ApplyOptions {
  now?: Date;
  /**
   * The batch is expected to be new (a first poll, a run of new pages): insert it straight away and
   * read only the records whose item turned out to exist. Same outcome as the default
   * read-then-write, cheaper when the records are new and dearer when they are not.
   */
  insertFirst?: boolean;
}

/** A new item as an inbound write creates it (origin remote, known to be held remotely). */
function newItem(id: string, organizationId: string, record: InboundRecord, versionFloor: number, now: Date): InventoryItemDoc {
  return {
    _id: id,
    organizationId,
    externalId: record.externalId,
    data: record.data,
    origin: 'remote',
    hash: record.hash,
    version: versionFloor,
    settledVersion: versionFloor,
    pendingEvent: null,
    remoteKnown: true,
    deletedAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Writes what the third party sent (polls and input webhooks). Every write here is origin
 * `remote` and never produces a delivery. Each batch holds its items' locks (every writer of an
 * item does), and writes are conditional on the version read, so a local change wins instead of
 * being overwritten.
 */
export class InboundItemsRepository {
  constructor(
    private readonly models: Pick<Models, 'inventoryItems' | 'deliveries'>,
    private readonly locks: RedisLocks,
  ) {}

  /**
   * Upserts a batch: inserts the new, updates the changed, skips the unchanged and conflicting.
   * `insertFirst`: the batch is expected to be new (see ApplyOptions).
   */
  async apply(organizationId: string, records: InboundRecord[], options: ApplyOptions = {}): Promise<InboundOutcome> {
    const now = options.now ?? new Date();
    // The last occurrence of an externalId in a batch wins.
    const byId = new Map<string, InboundRecord>();
    for (const r of records) byId.set(inventoryItemId(organizationId, r.externalId), r);
    const ids = [...byId.keys()];
    return this.locks.withLocks(ids.map(itemLockName), async (held) => {
      const outcome: InboundOutcome = { created: 0, updated: 0, unchanged: 0, conflicts: 0, deferred: 0 };
      const mine = new Map<string, InboundRecord>();
      for (const id of ids) {
        if (held.has(itemLockName(id))) mine.set(id, byId.get(id) as InboundRecord);
        else outcome.deferred++;
      }
      if (mine.size > 0) await this.applyLocked(organizationId, options.insertFirst ? await this.insertFirst(organizationId, mine, now, outcome) : mine, now, outcome);
      return outcome;
    });
  }

  /**
   * Inserts the whole batch as new items; returns the records refused because their item exists,
   * for the read-and-compare path. The store checks uniqueness through its _id index, whereas a
   * read by _id ($in) scans the whole collection on FerretDB 1.x: for a batch of new items this
   * skips a read that grows with the collection.
   */
  private async insertFirst(organizationId: string, byId: Map<string, InboundRecord>, now: Date, outcome: InboundOutcome): Promise<Map<string, InboundRecord>> {
    const floors = await versionFloors(this.models, [...byId.keys()]);
    const docs = [...byId].map(([id, record]) => newItem(id, organizationId, record, floors.get(id) ?? 0, now));
    const refused = await this.insertAll(docs);
    outcome.created += docs.length - refused.size;
    return new Map([...byId].filter(([id]) => refused.has(id)));
  }

  private async applyLocked(organizationId: string, byId: Map<string, InboundRecord>, now: Date, outcome: InboundOutcome): Promise<void> {
    if (byId.size === 0) return;
    const existing = await this.models.inventoryItems
      .find({ _id: { $in: [...byId.keys()] } }, SYNC_STATE)
      .lean<SyncState[]>();
    const current = new Map(existing.map((e) => [e._id, e]));
    // An externalId seen before continues its versions (versionFloors says why).
    const floors = await versionFloors(this.models, [...byId.keys()].filter((id) => !current.has(id)));

    const inserts: InventoryItemDoc[] = [];
    const contentUpdates: AnyBulkWriteOperation<InventoryItemDoc>[] = [];
    const markKnown: AnyBulkWriteOperation<InventoryItemDoc>[] = [];
    for (const [id, record] of byId) {
      const item = current.get(id);
      if (!item) {
        inserts.push(newItem(id, organizationId, record, floors.get(id) ?? 0, now));
      } else if (item.deletedAt !== null || hasUndeliveredLocalChange(item)) {
        outcome.conflicts++;
      } else if (item.hash === record.hash) {
        outcome.unchanged++;
        // Same content, now known to be held remotely too: remember it (deletion tracking needs it).
        if (!item.remoteKnown) {
          markKnown.push({ updateOne: { filter: { _id: id, version: item.version }, update: { $set: { remoteKnown: true } } } });
        }
      } else {
        contentUpdates.push({
          updateOne: {
            filter: { _id: id, version: item.version, pendingEvent: null, deletedAt: null },
            update: { $set: { data: record.data, hash: record.hash, origin: 'remote', remoteKnown: true, updatedAt: now } },
          },
        });
      }
    }

    if (inserts.length > 0) outcome.created += await this.insertNew(inserts, outcome);
    if (contentUpdates.length > 0) {
      const matched = await this.updateInChunks(contentUpdates);
      outcome.updated += matched;
      // Matched nothing: a local write changed the item after we read it; the local change wins.
      outcome.conflicts += contentUpdates.length - matched;
    }
    if (markKnown.length > 0) await this.updateInChunks(markKnown);
  }

  /** Sends updates UPDATE_CHUNK statements per command, one command at a time; returns the matched count. */
  private async updateInChunks(updates: AnyBulkWriteOperation<InventoryItemDoc>[]): Promise<number> {
    let matched = 0;
    for (let i = 0; i < updates.length; i += UPDATE_CHUNK) {
      const result = await this.models.inventoryItems.bulkWrite(updates.slice(i, i + UPDATE_CHUNK), { ordered: false });
      matched += result.matchedCount;
    }
    return matched;
  }

  /** Inserts; an item created locally in the meantime (duplicate key) counts as a conflict. */
  private async insertNew(docs: InventoryItemDoc[], outcome: InboundOutcome): Promise<number> {
    const refused = await this.insertAll(docs);
    outcome.conflicts += refused.size;
    return docs.length - refused.size;
  }

  /** Inserts every document it can; returns the ids refused as duplicates. Other errors throw. */
  private async insertAll(docs: InventoryItemDoc[]): Promise<Set<string>> {
    try {
      await this.models.inventoryItems.insertMany(docs, { ordered: false, lean: true });
      return new Set();
    } catch (error) {
      const e = error as { code?: number; writeErrors?: Array<{ code?: number; index?: number; err?: { code?: number; index?: number } }> };
      const writeErrors = e.writeErrors ?? [];
      const onlyDuplicates = writeErrors.length > 0 && writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY);
      if (!onlyDuplicates && e.code !== DUPLICATE_KEY) throw error;
      const refused = new Set<string>();
      for (const w of writeErrors) {
        const doc = docs[w.index ?? w.err?.index ?? -1];
        if (doc) refused.add(doc._id);
      }
      // A duplicate reported without its index: the whole batch goes the read-and-compare way.
      return refused.size > 0 ? refused : new Set(docs.map((d) => d._id));
    }
  }

  /** Removes items the third party deleted (input webhook DELETE). */
  async remove(organizationId: string, externalIds: string[]): Promise<InboundDeleteOutcome> {
    const all = [...new Set(externalIds.map((x) => inventoryItemId(organizationId, x)))];
    return this.locks.withLocks(all.map(itemLockName), async (held) => {
      const ids = all.filter((id) => held.has(itemLockName(id)));
      const outcome: InboundDeleteOutcome = { deleted: 0, absent: 0, conflicts: 0, deferred: all.length - ids.length };
      if (ids.length > 0) await this.removeLocked(ids, outcome);
      return outcome;
    });
  }

  private async removeLocked(ids: string[], outcome: InboundDeleteOutcome): Promise<void> {
    const existing = await this.models.inventoryItems.find({ _id: { $in: ids } }, SYNC_STATE).lean<SyncState[]>();
    outcome.absent = ids.length - existing.length;
    const deletions: AnyBulkWriteOperation<InventoryItemDoc>[] = [];
    for (const item of existing) {
      if (item.deletedAt !== null || hasUndeliveredLocalChange(item)) outcome.conflicts++;
      else deletions.push({ deleteOne: { filter: { _id: item._id, version: item.version, pendingEvent: null } } });
    }
    if (deletions.length > 0) {
      const result = await this.models.inventoryItems.bulkWrite(deletions, { ordered: false });
      outcome.deleted = result.deletedCount;
      outcome.conflicts += deletions.length - result.deletedCount;
    }
  }

  /** Whether the organization holds any item at all (tombstones included). */
  async hasAny(organizationId: string): Promise<boolean> {
    return (await this.models.inventoryItems.exists({ organizationId })) !== null;
  }

  /**
   * After a complete snapshot: the items the third party held before and no longer returns.
   * Only items untouched since the run started qualify, so a change made during the poll (a
   * local create delivered meanwhile, say) is never taken for a remote delete.
   */
  async findVanished(organizationId: string, seen: ReadonlySet<string>, startedAt: Date): Promise<{ vanished: SyncState[]; known: number }> {
    const vanished: SyncState[] = [];
    let known = 0;
    const cursor = this.models.inventoryItems.find({ organizationId }, SYNC_STATE).lean<SyncState[]>().cursor({ batchSize: 2000 });
    for await (const doc of cursor) {
      const item = doc as unknown as SyncState;
      if (!item.remoteKnown || item.deletedAt !== null) continue;
      known++;
      if (seen.has(item.externalId) || hasUndeliveredLocalChange(item) || item.updatedAt >= startedAt) continue;
      vanished.push(item);
    }
    if (vanished.length === 0) return { vanished, known };
    // A delivery landing since the run started is a change too, though it does not touch
    // updatedAt: a local create delivered between the fetch and now is missing from the snapshot
    // and has just become known remotely; it is not a remote delete.
    const delivered = await this.models.deliveries
      .find({ itemId: { $in: vanished.map((v) => v._id) }, deliveredAt: { $gte: startedAt } }, { _id: 0, itemId: 1 })
      .lean<Array<{ itemId: string }>>();
    const recent = new Set(delivered.map((d) => d.itemId));
    return { vanished: vanished.filter((v) => !recent.has(v._id)), known };
  }

  /** Deletes vanished items, each only if it is still as it was read (and not locked by a writer now). */
  async deleteVanished(items: SyncState[]): Promise<number> {
    if (items.length === 0) return 0;
    return this.locks.withLocks(items.map((i) => itemLockName(i._id)), async (held) => {
      const mine = items.filter((i) => held.has(itemLockName(i._id)));
      if (mine.length === 0) return 0;
      const result = await this.models.inventoryItems.bulkWrite(
        mine.map((i) => ({ deleteOne: { filter: { _id: i._id, version: i.version, updatedAt: i.updatedAt, pendingEvent: null } } })),
        { ordered: false },
      );
      return result.deletedCount;
    });
  }
}
