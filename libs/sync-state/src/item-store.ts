import type { AnyBulkWriteOperation } from 'mongoose';
import type { InventoryItem } from '@music/domain';
import { collectionOf, isDuplicateKey, refusedDuplicates, toInventoryItem, type InventoryItemDoc, type Models, type OrganizationRepository } from '@music/persistence';
import { itemLockName, type RedisLocks } from '@music/platform';
import { StoreClock } from './store-clock';
import { divergenceChange, noTransition, transition, transitionAll, type ItemFacts, type SyncEvent, type Transition } from './transitions';
import type { MarkTally, WriteMarks } from './write-marks';

/** Something that must still hold before a write: a lease (`Lease.assertHeld` throws when it was lost). */
export interface WriteGuard {
  assertHeld(): void;
}

/** The item an event is about. */
export interface ItemTarget {
  id: string;
  organizationId: string;
  externalId: string;
}

/** What the caller knows when it decides an item's event. */
export interface DecideContext {
  /** The highest version the item's deliveries carry (absent items, with `needsFloor`). */
  versionFloor: number;
  /**
   * The store's time, read under the item's lock, after it was found absent (or, inserted first,
   * before an insert that finds it absent) (absent items, with `needsNow`): anything that removed
   * the item's document (a tombstone expiring, under the same lock) did so before it.
   */
  now?: Date;
}

/** Decides the event for the item as it is now (null: nothing to do for it); several are applied in order, in one write. */
export type Decide = (item: InventoryItem | null, context: DecideContext) => SyncEvent | readonly SyncEvent[] | null;

/** What the decided event(s) make of the item. */
function transitionOf(item: InventoryItem | null, event: SyncEvent | readonly SyncEvent[] | null): Transition {
  const facts = factsOf(item);
  if (!event) return noTransition(facts);
  return Array.isArray(event) ? transitionAll(facts, event) : transition(facts, event as SyncEvent);
}

export interface Applied {
  target: ItemTarget;
  before: InventoryItem | null;
  transition: Transition;
  /** The item as written (fenceAt/updatedAt may be the store's, unknown here, when not read back). */
  after: InventoryItem | null;
}

/** Told about items becoming diverged and divergences resolved (metrics). */
export interface TransitionObserver {
  divergence(change: 'diverged' | 'resolved', count: number): void;
}

/** What a batch write did: the items applied, and those whose lock could not be had in time. */
export interface BatchResult {
  applied: Applied[];
  deferred: ItemTarget[];
}

export interface ApplyManyOptions {
  guard?: WriteGuard;
  insertFirst?: boolean;
  needsFloor?: boolean;
  /**
   * Absent items are decided with the store's time (`DecideContext.now`), read under their locks:
   * one clock read per round that finds some absent, and (`insertFirst`) one beside the version
   * floors of the batch expected to be new.
   */
  needsNow?: boolean;
  marks?: MarkTally;
}

/**
 * A batch whose item locks are held (and, for new items, whose version floors are read and
 * documents built), not yet written. Exactly one of `apply` and `abandon` is called.
 */
export interface PreparedBatch {
  /**
   * Writes the batch; resolves once it is written (the locks are released, and the write mark raised
   * after it, by `released`). `confirmed`: the caller's own check that it may still write (a poll's
   * lease, confirmed while the batch is applied): the first write waits for it, and nothing is
   * written when it rejects (the batch fails with its error).
   */
  apply(confirmed?: Promise<void>): Promise<BatchResult>;
  /** Releases the locks without writing anything. */
  abandon(): Promise<void>;
  /** Settles once the locks are released and the write mark raised after the write (rejects when the write failed). */
  readonly released: Promise<void>;
}

/** New documents built under their locks, waiting for their insert. */
interface FreshDocs {
  docs: InventoryItemDoc[];
  pending: Map<string, Applied>;
  notNew: Set<string>;
}

/**
 * Update statements per command. FerretDB 1.x (PostgreSQL backend) holds a pool connection for
 * each statement of an update command until the command ends, so one command with as many
 * statements as its pool (FerretDB's default 50; 20 as scripts/services.sh starts it) waits
 * forever for a connection, and the whole store with it; concurrent commands add up. Small
 * commands sent one after another cost the same (the store runs statements one by one).
 */
export const UPDATE_CHUNK = 4;

/** Rounds of read-decide-write for items whose revision moved between the read and the write. */
const ROUNDS = 3;

const FACT_KEYS = ['externalId', 'data', 'hash', 'origin', 'version', 'state', 'deleted', 'pendingEvent', 'awaiting', 'gaveUp', 'acked', 'fenceAt', 'held', 'remoteKnown', 'seenBy', 'missedBy'] as const satisfies ReadonlyArray<keyof ItemFacts>;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function factsOf(item: InventoryItem | null): ItemFacts | null {
  if (!item) return null;
  const facts = {} as Record<string, unknown>;
  for (const key of FACT_KEYS) facts[key] = item[key];
  return facts as ItemFacts;
}

/**
 * The highest version any delivery of each of these items carries (absent: none). A document
 * created again for an externalId continues from there instead of from 0: the deliveries of its
 * earlier life stay, and a delivery for which a higher version of the item exists is superseded,
 * so a version restarting at 1 would never be delivered.
 */
export async function versionFloors(models: Pick<Models, 'deliveries'>, itemIds: readonly string[]): Promise<Map<string, number>> {
  const floors = new Map<string, number>();
  if (itemIds.length === 0) return floors;
  const docs = await models.deliveries.find({ itemId: { $in: [...itemIds] } }, { _id: 0, itemId: 1, version: 1 }).lean<Array<{ itemId: string; version: number }>>();
  for (const d of docs) floors.set(d.itemId, Math.max(floors.get(d.itemId) ?? 0, d.version));
  return floors;
}

/**
 * Executes the state table against the store: each item's event is decided on the item as read,
 * `transition` says what it becomes, and the write is conditional on the revision that was read
 * (`rev`, +1 on every write), under the item's lock (renewed while held, and checked before every
 * write together with the caller's lease). This is the only code that writes `inventory_items`.
 */
export class ItemStore {
  /** Read for absent items of a batch with `needsNow`, after they were found absent. */
  private readonly clock: StoreClock;

  constructor(
    private readonly models: Pick<Models, 'inventoryItems' | 'deliveries'>,
    private readonly locks: RedisLocks,
    /** Asked after every item created: one created for an organization no longer live is removed again. */
    private readonly live: Pick<OrganizationRepository, 'isLive'>,
    private readonly observer?: TransitionObserver,
    /** The organizations' write marks: raised before and after every write of their items. */
    readonly marks?: WriteMarks,
  ) {
    this.clock = new StoreClock(models);
  }

  /**
   * Runs `write` between two raises of the organization's write mark (docs/sync-model.md, "Unchanged
   * pages skip the store"): a poll reading the mark while the write is on its way sees it moved.
   */
  async marked<T>(organizationId: string, write: () => Promise<T>, tally?: MarkTally): Promise<T> {
    if (!this.marks) return write();
    await this.marks.raise(organizationId, tally);
    try {
      return await write();
    } finally {
      await this.marks.raise(organizationId, tally);
    }
  }

  async read(id: string): Promise<InventoryItem | null> {
    const doc = await collectionOf(this.models.inventoryItems).findOne({ _id: id });
    return doc ? toInventoryItem(doc) : null;
  }

  async readMany(ids: readonly string[]): Promise<Map<string, InventoryItem>> {
    if (ids.length === 0) return new Map();
    const docs = await this.models.inventoryItems.find({ _id: { $in: [...ids] } }).lean<InventoryItemDoc[]>();
    return new Map(docs.map((d) => [d._id, toInventoryItem(d)]));
  }

  /** Items whose outbox event has waited since before `olderThan` (their fan-out job may be lost: the sweeper queues it again). */
  async listStaleEvents(olderThan: Date, limit: number): Promise<InventoryItem[]> {
    const docs = await this.models.inventoryItems.find({ 'pendingEvent.at': { $lt: olderThan } }).limit(limit).lean<InventoryItemDoc[]>();
    return docs.map(toInventoryItem);
  }

  /**
   * One item, under its lock. `preread`: the item as the caller read it (undefined: read it here;
   * null: the caller expects none, e.g. a create tries the insert first). The write is conditional
   * on that revision; when it moved, the item is read again and the event decided again.
   */
  async applyOne(
    target: ItemTarget,
    decide: Decide,
    options: {
      preread?: InventoryItem | null;
      guard?: WriteGuard;
      needsFloor?: boolean;
      /** Runs under the item's lock right before the item is written (e.g. the fan-out inserts its deliveries). */
      beforeWrite?: (t: Transition, item: InventoryItem | null) => Promise<void>;
      /** Counts this call's raises of the write mark. */
      marks?: MarkTally;
    } = {},
  ): Promise<Applied> {
    return this.locks.withLock(itemLockName(target.id), async (lease) => {
      let current = options.preread !== undefined ? options.preread : await this.read(target.id);
      for (let round = 0; ; round++) {
        const floor = current === null && options.needsFloor ? ((await versionFloors(this.models, [target.id])).get(target.id) ?? 0) : 0;
        const t = transitionOf(current, decide(current, { versionFloor: floor }));
        if (!t.changed) return { target, before: current, transition: t, after: current };
        options.guard?.assertHeld();
        lease.assertHeld();
        if (options.beforeWrite) {
          await options.beforeWrite(t, current);
          lease.assertHeld();
        }
        const written = await this.marked(target.organizationId, () => this.writeOne(target, current, t), options.marks);
        if (written !== undefined) {
          this.observe([t]);
          return { target, before: current, transition: t, after: written };
        }
        if (round + 1 >= ROUNDS) throw new Error(`item ${target.id} changed under its lock ${ROUNDS} times (lock lost?)`);
        current = await this.read(target.id);
      }
    });
  }

  /**
   * Many items of one organization, under the locks that can be had within the lock wait (the
   * others are `deferred`: the caller retries or leaves them to the next run). `insertFirst`: the
   * items are expected to be new: inserted straight away, and only the refused ones read.
   */
  async applyMany(targets: ReadonlyArray<{ target: ItemTarget; decide: Decide }>, options: ApplyManyOptions = {}): Promise<BatchResult> {
    const batch = await this.prepareMany(targets, options);
    const result = await batch.apply();
    await batch.released;
    return result;
  }

  /**
   * `applyMany` in two steps, so a caller can prepare one batch while it writes another (a poll
   * prepares its next page while the store inserts this one). Preparing takes the batch's locks
   * and, with `insertFirst`, reads the version floors and builds the new documents; the locks stay
   * held (and renewed) until the batch is written or abandoned, so nothing can write these items
   * between the floor read and the insert (docs/sync-model.md, rule 4). The caller must call
   * `apply` or `abandon` exactly once: until then the locks are held.
   */
  async prepareMany(targets: ReadonlyArray<{ target: ItemTarget; decide: Decide }>, options: ApplyManyOptions = {}): Promise<PreparedBatch> {
    const byId = new Map(targets.map((t) => [t.target.id, t]));
    const ids = [...byId.keys()];
    // The write mark is raised before the first write of the batch and after the last (none: no raise).
    const organizations = [...new Set(targets.map((t) => t.target.organizationId))];
    let raised = false;
    let ready!: (batch: PreparedBatch) => void;
    let notReady!: (error: unknown) => void;
    const prepared = new Promise<PreparedBatch>((resolve, reject) => {
      ready = resolve;
      notReady = reject;
    });
    let decide!: (write: boolean) => void;
    const decided = new Promise<boolean>((resolve) => {
      decide = resolve;
    });
    let wrote!: (result: BatchResult) => void;
    let notWritten!: (error: unknown) => void;
    const written = new Promise<BatchResult>((resolve, reject) => {
      wrote = resolve;
      notWritten = reject;
    });
    written.catch(() => undefined);
    // Settles once the batch's locks are released and its write mark raised after the write.
    let released: Promise<void> = Promise.resolve();
    let once = false;
    let confirmation: Promise<void> = Promise.resolve();
    const batch: PreparedBatch = {
      apply: (confirmed) => {
        if (once) throw new Error('a prepared batch is applied or abandoned once');
        once = true;
        if (confirmed) confirmation = confirmed;
        decide(true);
        return written;
      },
      abandon: async () => {
        if (once) throw new Error('a prepared batch is applied or abandoned once');
        once = true;
        decide(false);
        await released.catch(() => undefined);
      },
      get released() {
        return released;
      },
    };
    const work = this.locks
      .withLocks(ids.map(itemLockName), async (held, lease) => {
        // The liveness checks after the batch's inserts (rule 8), awaited before the locks are released.
        const liveChecks: Array<Promise<void>> = [];
        try {
          const deferred = ids.filter((id) => !held.has(itemLockName(id))).map((id) => (byId.get(id) as { target: ItemTarget }).target);
          const mine = ids.filter((id) => held.has(itemLockName(id)));
          const check = async (): Promise<void> => {
            options.guard?.assertHeld();
            lease.assertHeld();
            // The first write's mark is raised while the caller's confirmation is on its way, not
            // after it (a raise with no write after it only makes a poll doubt its remembered pages).
            const marks = this.marks;
            let raising: Promise<void> | null = null;
            if (!raised && marks) {
              raised = true;
              raising = (async () => {
                for (const o of organizations) await marks.raise(o, options.marks);
              })();
            }
            for (const settled of await Promise.allSettled([confirmation, raising])) if (settled.status === 'rejected') throw settled.reason;
            options.guard?.assertHeld();
            lease.assertHeld();
          };
          // The store checks uniqueness through its _id index, whereas a read by _id ($in) scans the
          // collection on FerretDB 1.x: for a batch of new items this skips a read that grows with it.
          const fresh = options.insertFirst && mine.length > 0 ? await this.freshDocs(mine, byId, options.needsNow === true) : null;
          ready(batch);
          if (!(await decided)) return;
          const applied: Applied[] = [];
          let todo = mine;
          if (fresh) {
            const refused = await this.insertFresh(fresh, check, applied, liveChecks);
            todo = mine.filter((id) => refused.has(id));
          }
          let current: Map<string, InventoryItem | null> = await this.readMany(todo);
          for (let round = 0; todo.length > 0; round++) {
            const absent = todo.filter((id) => !current.get(id));
            // The clock is read after the items were read absent: whatever removed them was earlier.
            const [floors, now] = await Promise.all([
              options.needsFloor ? versionFloors(this.models, absent) : new Map<string, number>(),
              options.needsNow && absent.length > 0 ? this.clock.now() : undefined,
            ]);
            const retry = await this.writeRound(todo, byId, current, { floors, now }, check, applied);
            if (retry.length === 0) break;
            if (round + 1 >= ROUNDS) throw new Error(`${retry.length} item(s) changed under their locks ${ROUNDS} times (locks lost?)`);
            const reread = await this.readMany(retry);
            current = new Map(retry.map((id) => [id, reread.get(id) ?? null]));
            todo = retry;
          }
          this.observe(applied.map((a) => a.transition));
          wrote({ applied, deferred });
        } catch (error) {
          // A failed write is reported once what it may have stored was checked (rule 8).
          await Promise.allSettled(liveChecks);
          notReady(error);
          notWritten(error);
          throw error;
        }
        // A check that failed fails the batch (`released` rejects), after its answer was given.
        for (const settled of await Promise.allSettled(liveChecks)) if (settled.status === 'rejected') throw settled.reason;
      })
      .finally(async () => {
        if (raised && this.marks) for (const o of organizations) await this.marks.raise(o, options.marks);
      });
    work.catch((error: unknown) => {
      notReady(error);
      notWritten(error);
    });
    released = work.then(() => undefined);
    released.catch(() => undefined);
    return prepared;
  }

  /**
   * The new documents of a batch expected to be new: their version floors read and their events
   * decided on an absent item. `needsNow`: with the store's time, read beside the floors under the
   * batch's locks: what removed an item's document (a tombstone expiring, under the item's lock)
   * did so before the locks were taken, so before that read, and nothing removes it until the
   * insert; an item that exists after all has its insert refused, and is read and decided again.
   */
  private async freshDocs(ids: string[], byId: Map<string, { target: ItemTarget; decide: Decide }>, needsNow: boolean): Promise<FreshDocs> {
    const [floors, storeNow] = await Promise.all([versionFloors(this.models, ids), needsNow ? this.clock.now() : undefined]);
    const docs: InventoryItemDoc[] = [];
    const pending = new Map<string, Applied>();
    const notNew = new Set<string>();
    const now = new Date();
    for (const id of ids) {
      const { target, decide } = byId.get(id) as { target: ItemTarget; decide: Decide };
      const event = decide(null, { versionFloor: floors.get(id) ?? 0, ...(storeNow ? { now: storeNow } : {}) });
      const t = event ? transitionOf(null, event) : null;
      if (!t || !t.changed || !t.next) {
        notNew.add(id);
        continue;
      }
      const doc = this.newDoc(target, t.next, now);
      docs.push(doc);
      pending.set(id, { target, before: null, transition: t, after: toInventoryItem(doc) });
    }
    return { docs, pending, notNew };
  }

  /** Inserts the fresh documents; returns the ids refused (they exist) or decided as not new (still read: the item may exist). */
  private async insertFresh(fresh: FreshDocs, check: () => Promise<void>, applied: Applied[], liveChecks: Array<Promise<void>>): Promise<Set<string>> {
    const refused = fresh.docs.length > 0 ? await this.insertAll(fresh.docs, check, liveChecks) : new Set<string>();
    for (const [id, a] of fresh.pending) if (!refused.has(id)) applied.push(a);
    return new Set([...refused, ...fresh.notNew]);
  }

  /** One round of decide + write for `todo`; returns the ids whose write matched nothing (revision moved). */
  private async writeRound(
    todo: string[],
    byId: Map<string, { target: ItemTarget; decide: Decide }>,
    current: Map<string, InventoryItem | null>,
    context: { floors: Map<string, number>; now: Date | undefined },
    check: () => Promise<void>,
    applied: Applied[],
  ): Promise<string[]> {
    const inserts: Array<{ doc: InventoryItemDoc; applied: Applied }> = [];
    const updates: Array<{ op: AnyBulkWriteOperation<InventoryItemDoc>; applied: Applied }> = [];
    const deletes: Array<{ op: AnyBulkWriteOperation<InventoryItemDoc>; applied: Applied }> = [];
    const now = new Date();
    for (const id of todo) {
      const { target, decide } = byId.get(id) as { target: ItemTarget; decide: Decide };
      const before = current.get(id) ?? null;
      const event = decide(before, { versionFloor: context.floors.get(id) ?? 0, ...(context.now && !before ? { now: context.now } : {}) });
      if (!event) continue;
      const t = transitionOf(before, event);
      if (!t.changed) {
        applied.push({ target, before, transition: t, after: before });
        continue;
      }
      if (!before && t.next) {
        const doc = this.newDoc(target, t.next, now);
        inserts.push({ doc, applied: { target, before, transition: t, after: toInventoryItem(doc) } });
      } else if (before && !t.next) {
        deletes.push({ op: { deleteOne: { filter: { _id: id, rev: before.rev } } }, applied: { target, before, transition: t, after: null } });
      } else if (before && t.next) {
        const { update, after } = this.updateOf(before, t);
        updates.push({ op: { updateOne: { filter: { _id: id, rev: before.rev }, update } }, applied: { target, before, transition: t, after } });
      }
    }
    const retry: string[] = [];
    if (inserts.length > 0) {
      const refused = await this.insertAll(
        inserts.map((i) => i.doc),
        check,
      );
      for (const i of inserts) (refused.has(i.doc._id) ? retry.push(i.doc._id) : applied.push(i.applied));
    }
    for (const group of [updates, deletes]) {
      for (let i = 0; i < group.length; i += UPDATE_CHUNK) {
        const chunk = group.slice(i, i + UPDATE_CHUNK);
        await check();
        const result = await this.models.inventoryItems.bulkWrite(
          chunk.map((c) => c.op),
          { ordered: false },
        );
        const done = group === updates ? result.matchedCount : result.deletedCount;
        if (done === chunk.length) {
          applied.push(...chunk.map((c) => c.applied));
          continue;
        }
        // Some revision moved (only possible when a lock was lost or Redis was down): find which.
        const reread = await this.readMany(chunk.map((c) => c.applied.target.id));
        for (const c of chunk) {
          const now = reread.get(c.applied.target.id);
          const before = c.applied.before as InventoryItem;
          const ours = group === updates ? now !== undefined && now.rev === before.rev + 1 : now === undefined;
          if (ours) applied.push(c.applied);
          else retry.push(c.applied.target.id);
        }
      }
    }
    return retry;
  }

  /** Writes one transition; the item written, or undefined when the revision moved (or the id is taken). */
  private async writeOne(target: ItemTarget, before: InventoryItem | null, t: Transition): Promise<InventoryItem | null | undefined> {
    if (!before) {
      if (!t.next) return null;
      const doc = this.newDoc(target, t.next, new Date());
      try {
        await this.models.inventoryItems.create(doc);
      } catch (error) {
        if (isDuplicateKey(error)) return undefined;
        // It may be stored all the same (the answer lost): checked as if it were.
        await this.removeIfOrganizationGone([doc]);
        throw error;
      }
      await this.removeIfOrganizationGone([doc]);
      return toInventoryItem(doc);
    }
    if (!t.next) {
      const result = await this.models.inventoryItems.deleteOne({ _id: before.id, rev: before.rev });
      return result.deletedCount === 1 ? null : undefined;
    }
    const { update } = this.updateOf(before, t);
    const doc = await collectionOf(this.models.inventoryItems).findOneAndUpdate({ _id: before.id, rev: before.rev }, update, { returnDocument: 'after' });
    return doc ? toInventoryItem(doc) : undefined;
  }

  /** The update that turns `before` into the transition's result: changed fields only, revision + 1. */
  private updateOf(before: InventoryItem, t: Transition): { update: Record<string, unknown>; after: InventoryItem } {
    const next = t.next as ItemFacts;
    const set: Record<string, unknown> = {};
    for (const key of FACT_KEYS) {
      if (key === 'fenceAt' && t.fenceNow) continue;
      if (!same(before[key], next[key])) set[key] = next[key];
    }
    const currentDate: Record<string, true> = { updatedAt: true };
    if (t.fenceNow) currentDate['fenceAt'] = true;
    const update: Record<string, unknown> = { $inc: { rev: 1 }, $currentDate: currentDate };
    if (Object.keys(set).length > 0) update['$set'] = set;
    return { update, after: { ...before, ...next, rev: before.rev + 1 } };
  }

  private newDoc(target: ItemTarget, next: ItemFacts, now: Date): InventoryItemDoc {
    return {
      _id: target.id,
      organizationId: target.organizationId,
      ...next,
      externalId: target.externalId,
      // A new document is never fenced "now" (no row creates one that way); the fence is the change's.
      rev: 0,
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Inserts every document it can; returns the ids refused as duplicates. The organization's
   * liveness is checked after the insert (`removeIfOrganizationGone`); given `liveChecks`, that check
   * is left running there for the caller to await before it releases the items' locks, so the
   * insert's answer is not held back by it (a poll writes its next page meanwhile).
   */
  private async insertAll(docs: InventoryItemDoc[], check: () => Promise<void>, liveChecks?: Array<Promise<void>>): Promise<Set<string>> {
    await check();
    let refused = new Set<string>();
    // Until the store says which were refused, any of them may be stored (an error other than a
    // duplicate, after some were inserted): all are checked then.
    let created: readonly InventoryItemDoc[] = docs;
    try {
      try {
        await this.models.inventoryItems.insertMany(docs, { ordered: false, lean: true });
      } catch (error) {
        refused = refusedDuplicates(
          error,
          docs.map((d) => d._id),
        );
      }
      created = docs.filter((d) => !refused.has(d._id));
    } finally {
      const live = this.removeIfOrganizationGone(created);
      if (liveChecks) {
        live.catch(() => undefined);
        liveChecks.push(live);
      } else await live;
    }
    return refused;
  }

  /**
   * Items just created, removed again when their organization is no longer live (marked deleted, or
   * gone): a write under way when it was deleted may land after its purge's pass, and only its own
   * writer can still see it (docs/sync-model.md, "Deleting an organization"). Reported as written:
   * the organization's purge would have removed them the same way. Any of them that existed before
   * may go too: every item of such an organization is to be removed.
   */
  private async removeIfOrganizationGone(created: readonly InventoryItemDoc[]): Promise<void> {
    for (const organizationId of new Set(created.map((d) => d.organizationId))) {
      if (await this.live.isLive(organizationId)) continue;
      await this.models.inventoryItems.deleteMany({ _id: { $in: created.filter((d) => d.organizationId === organizationId).map((d) => d._id) }, organizationId });
    }
  }

  private observe(transitions: Transition[]): void {
    if (!this.observer) return;
    let diverged = 0;
    let resolved = 0;
    for (const t of transitions) {
      const change = divergenceChange(t);
      if (change === 'diverged') diverged++;
      if (change === 'resolved') resolved++;
    }
    if (diverged > 0) this.observer.divergence('diverged', diverged);
    if (resolved > 0) this.observer.divergence('resolved', resolved);
  }
}

