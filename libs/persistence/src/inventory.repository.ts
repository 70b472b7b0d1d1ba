import { randomUUID } from 'node:crypto';
import type { InventoryItem, PendingEvent } from '@music/domain';
import { contentHash, inventoryItemId } from '@music/domain';
import { currentContext, itemLockName, type RedisLocks } from '@music/platform';
import { toInventoryItem } from './mappers';
import type { InventoryItemDoc, Models } from './models';

/**
 * How a local write treats the outbox. `outbox: true` (two-way organizations) bumps `version` and
 * stores the outgoing event on the item in the same single-document write; `outbox: false`
 * (one-way) leaves `version` alone and stores no event.
 */
export interface LocalWriteOptions {
  outbox: boolean;
  now?: Date;
}

/** The item state a conditional write read and expects to find; a concurrent write changes it. */
export interface ExpectedState {
  externalId: string;
  version: number;
  /** Inbound (remote) writes change the hash without bumping `version`, so both are checked. */
  hash: string;
}

/** What `createLocal` did. `exists`: a live item already has this externalId in the organization. */
export type CreateLocalOutcome =
  | { kind: 'created'; item: InventoryItem }
  | { kind: 'revived'; item: InventoryItem }
  | { kind: 'exists'; item: InventoryItem }
  /** The externalId kept changing under us (tombstone revived or removed concurrently) for every attempt. */
  | { kind: 'contended' };

export interface InventoryPageRequest {
  limit: number;
  /** The id of the last item of the previous page; items are ordered by `_id`. */
  cursor?: string;
}

export interface InventoryPage {
  items: InventoryItem[];
  nextCursor: string | null;
}

const DUPLICATE_KEY = 11000;
const CREATE_ATTEMPTS = 3;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

function newEvent(op: PendingEvent['op'], version: number, at: Date): PendingEvent {
  // Local writes happen while serving a request: its id rides on the event, so the log lines of
  // the fan-out and deliveries it causes carry it too.
  const { requestId } = currentContext();
  return { id: randomUUID(), op, version, at, ...(requestId ? { requestId } : {}) };
}

/**
 * The highest version any delivery of each of these items carries (absent: none). A document
 * created again for an externalId (after its delivered DELETE removed the tombstone, or an inbound
 * delete removed it) starts from there instead of from 0: the deliveries of its earlier life stay,
 * and a delivery for which a higher version of the item exists is superseded, never sent, so a
 * version that restarted at 1 was never delivered. Every writer that inserts an item uses this.
 */
export async function versionFloors(models: Pick<Models, 'deliveries'>, itemIds: readonly string[]): Promise<Map<string, number>> {
  const floors = new Map<string, number>();
  if (itemIds.length === 0) return floors;
  const docs = await models.deliveries.find({ itemId: { $in: [...itemIds] } }, { _id: 0, itemId: 1, version: 1 }).lean<Array<{ itemId: string; version: number }>>();
  for (const d of docs) floors.set(d.itemId, Math.max(floors.get(d.itemId) ?? 0, d.version));
  return floors;
}

/**
 * Inventory items as written through the inventory API (local writes). Every query takes the
 * organization id(s) the caller may touch, so a query without a tenant does not compile.
 *
 * FerretDB has no multi-document transactions: the outgoing event is the `pendingEvent` field of
 * the item, written in the same single-document operation as the change, and every
 * read-modify-write is a conditional update on the state that was read (optimistic locking).
 */
export class InventoryRepository {
  /**
   * `locks`: every write holds the item's lock, as every other writer of items does (the
   * integration app's inbound and outbox writes). Conditions alone are not enough on a store that
   * applies updates as read-modify-write of the whole document (FerretDB 1.x loses concurrent
   * updates of one document, conditional ones included).
   */
  constructor(
    private readonly models: Pick<Models, 'inventoryItems' | 'deliveries'>,
    private readonly locks: RedisLocks,
  ) {}

  /**
   * Inserts a local item with `_id = inventoryItemId(organizationId, externalId)`. When that id is
   * taken by a tombstone the tombstone is revived (conditional on its version); by a live item the
   * outcome is `exists`.
   */
  async createLocal(
    organizationId: string,
    input: { externalId: string; data: Record<string, unknown> },
    options: LocalWriteOptions,
  ): Promise<CreateLocalOutcome> {
    const id = inventoryItemId(organizationId, input.externalId);
    return this.locks.withLock(itemLockName(id), () => this.createLocked(id, organizationId, input, options));
  }

  private async createLocked(
    id: string,
    organizationId: string,
    input: { externalId: string; data: Record<string, unknown> },
    options: LocalWriteOptions,
  ): Promise<CreateLocalOutcome> {
    const now = options.now ?? new Date();
    const hash = contentHash(input.externalId, input.data);
    // A new document continues the versions of the externalId's earlier life (see versionFloors).
    const floor = (await versionFloors(this.models, [id])).get(id) ?? 0;
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      const version = options.outbox ? floor + 1 : floor;
      const doc: InventoryItemDoc = {
        _id: id,
        organizationId,
        externalId: input.externalId,
        data: input.data,
        origin: 'local',
        hash,
        version,
        settledVersion: floor,
        pendingEvent: options.outbox ? newEvent('upsert', version, now) : null,
        remoteKnown: false,
        deletedAt: null,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await this.models.inventoryItems.create(doc);
        return { kind: 'created', item: toInventoryItem(doc) };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }

      const existing = await this.models.inventoryItems.findOne({ _id: id, organizationId }).lean<InventoryItemDoc>();
      // Hard-deleted between the insert and this read (a delivered tombstone): insert again.
      if (!existing) continue;
      if (existing.deletedAt === null || existing.deletedAt === undefined) {
        return { kind: 'exists', item: toInventoryItem(existing) };
      }
      const revived = await this.revive(existing, input.data, hash, options.outbox, now);
      if (revived) return { kind: 'revived', item: revived };
      // The tombstone changed since it was read: look again.
    }
    return { kind: 'contended' };
  }

  private async revive(
    tombstone: InventoryItemDoc,
    data: Record<string, unknown>,
    hash: string,
    outbox: boolean,
    now: Date,
  ): Promise<InventoryItem | null> {
    const version = outbox ? tombstone.version + 1 : tombstone.version;
    const doc = await this.models.inventoryItems
      .findOneAndUpdate(
        { _id: tombstone._id, organizationId: tombstone.organizationId, version: tombstone.version, deletedAt: { $ne: null } },
        {
          $set: {
            data,
            hash,
            origin: 'local',
            deletedAt: null,
            version,
            // One-way: nothing is delivered, and the tombstone's undelivered DELETE must not survive
            // on a live item (it would delete it once "delivered").
            pendingEvent: outbox ? newEvent('upsert', version, now) : null,
            createdAt: now,
            updatedAt: now,
          },
        },
        { returnDocument: 'after' },
      )
      .lean<InventoryItemDoc>();
    return doc ? toInventoryItem(doc) : null;
  }

  /**
   * Replaces the data of a live item if it is still in the `expected` state. Returns the updated
   * item, or null when nothing matched (a concurrent write, a delete, or another organization).
   */
  async updateLocal(
    organizationId: string,
    id: string,
    expected: ExpectedState,
    data: Record<string, unknown>,
    options: LocalWriteOptions,
  ): Promise<InventoryItem | null> {
    const now = options.now ?? new Date();
    const set: Record<string, unknown> = {
      data,
      hash: contentHash(expected.externalId, data),
      origin: 'local',
      updatedAt: now,
    };
    if (options.outbox) {
      set['version'] = expected.version + 1;
      set['pendingEvent'] = newEvent('upsert', expected.version + 1, now);
    } else {
      set['pendingEvent'] = null;
    }
    const doc = await this.locks.withLock(itemLockName(id), () =>
      this.models.inventoryItems
        .findOneAndUpdate(
          { _id: id, organizationId, externalId: expected.externalId, version: expected.version, hash: expected.hash, deletedAt: null },
          { $set: set },
          { returnDocument: 'after' },
        )
        .lean<InventoryItemDoc>(),
    );
    return doc ? toInventoryItem(doc) : null;
  }

  /**
   * Marks a live item deleted and stores the DELETE event on it (two-way organizations). The
   * integration app removes the tombstone once the DELETE is delivered. Null when the item is no
   * longer at `expectedVersion` or already deleted.
   */
  async tombstone(organizationId: string, id: string, expectedVersion: number, now = new Date()): Promise<InventoryItem | null> {
    const version = expectedVersion + 1;
    const doc = await this.locks.withLock(itemLockName(id), () =>
      this.models.inventoryItems
        .findOneAndUpdate(
          { _id: id, organizationId, version: expectedVersion, deletedAt: null },
          { $set: { deletedAt: now, origin: 'local', version, pendingEvent: newEvent('delete', version, now), updatedAt: now } },
          { returnDocument: 'after' },
        )
        .lean<InventoryItemDoc>(),
    );
    return doc ? toInventoryItem(doc) : null;
  }

  /**
   * Removes an item for good (one-way deletes; delivered tombstones). With `expected.version` it
   * only removes the item if it is still at that version. True when a document was removed.
   */
  async hardDelete(organizationId: string, id: string, expected?: { version: number }): Promise<boolean> {
    const filter: Record<string, unknown> = { _id: id, organizationId };
    if (expected) filter['version'] = expected.version;
    const result = await this.locks.withLock(itemLockName(id), () => this.models.inventoryItems.deleteOne(filter));
    return result.deletedCount === 1;
  }

  /** A live (not tombstoned) item of one of these organizations, or null. */
  async findInOrganizations(organizationIds: readonly string[], id: string): Promise<InventoryItem | null> {
    if (organizationIds.length === 0) return null;
    const doc = await this.models.inventoryItems
      .findOne({ _id: id, organizationId: { $in: [...organizationIds] }, deletedAt: null })
      .lean<InventoryItemDoc>();
    return doc ? toInventoryItem(doc) : null;
  }

  /** Live items of these organizations ordered by id, one page at a time. */
  async listForOrganizations(organizationIds: readonly string[], page: InventoryPageRequest): Promise<InventoryPage> {
    if (organizationIds.length === 0) return { items: [], nextCursor: null };
    const filter: Record<string, unknown> = { organizationId: { $in: [...organizationIds] }, deletedAt: null };
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
