import { webhookTakes, type Delivery, type HeldChange, type InventoryItem, type Organization } from '@music/domain';
import type { InventoryItemDoc, Models, OrganizationRepository } from '@music/persistence';
import type { RedisLocks } from '@music/platform';
import type { DeliveryFailures } from './failures';
import type { ItemStore, ItemTarget } from './item-store';
import { sendLeaseName, type Outbound } from './outbound';
import { applyAtRevision } from './revision-fence';
import type { SyncEvent } from './transitions';

const BATCH = 500;

/** What the configuration reconciliation decides on (of a held change, only the entries it came from: its data is not read for it). */
type Decided = Pick<InventoryItem, 'state' | 'pendingEvent' | 'awaiting' | 'seenBy' | 'missedBy'> & { held: Pick<HeldChange, 'entries'> | null };

/** What `reconcileEntriesRemovedSince` found. */
export interface EntriesRemovedSince {
  /** The entries read by the write that the organization no longer has. */
  gone: string[];
  /**
   * The organization as read when its revision had moved (its secrets not decrypted; null: it was
   * deleted); absent when the revision was the one the write read, and nothing else was read.
   */
  organization?: Organization | null;
  /**
   * The reconciliation run because an entry is gone (null: the organization is not live); absent
   * when none ran. Not complete, the revision it read must not stay remembered as reconciled: the
   * change's own reconciliation, remembered, did not see this write.
   */
  reconciled?: ConfigurationReconciled | null;
}

/** What a configuration reconciliation did to an organization's pending work. */
export interface ConfigurationReconciled {
  /** The organization's revision it read and applied. */
  revision: number;
  /**
   * False when the organization changed while it ran (it stopped there, and the newer revision's
   * own reconciliation applies what is left), or some items' locks were not had in time (left for
   * the periodic pass): this revision is not to be remembered as reconciled.
   */
  complete: boolean;
  /** Deliveries cancelled (their webhook removed or no longer taking their kind, or one-way now). */
  cancelled: number;
  /** Items that stopped awaiting a webhook, or were settled by the switch to one-way. */
  items: number;
  /** Items that left the `seenBy` of a removed polling entry. */
  entriesRemoved: number;
}

/** What one item step wrote, and whether it stopped because the organization's revision moved. */
interface Written {
  changed: number;
  moved: boolean;
  /** Items left as they were: their lock was not had within the lock wait. */
  deferred: number;
}

export interface PurgeResult {
  items: number;
  deliveries: number;
  inboundMessages: number;
  pollMemory: number;
}

/**
 * Housekeeping of item state: tombstones expiring (row 36), configuration changes applied to
 * pending work (rule 8), an organization's data purged, and documents of earlier versions migrated.
 */
export class Maintenance {
  constructor(
    private readonly store: ItemStore,
    private readonly outbound: Outbound,
    private readonly models: Pick<Models, 'inventoryItems' | 'deliveries' | 'inboundMessages' | 'pollMemory'>,
    private readonly failures: DeliveryFailures,
    /** Read fresh by every configuration reconciliation, after the work it applies to is listed. */
    private readonly organizations: Pick<OrganizationRepository, 'findById' | 'revisionOf'>,
    /** The items' send leases: what a reconciliation withdraws is never on its way to the third party. */
    private readonly locks: Pick<RedisLocks, 'withLocks'>,
    /**
     * `cancelBatch`: deliveries a reconciliation cancels per batch, their send leases held together
     * (default BATCH; tests make it small to cross batch boundaries). `sendLeaseWaitMs`: how long the
     * entries step waits for a send lease held by a send on its way, the longest a send may hold it
     * (the app's send lease TTL: the outbound timeout plus a margin, which also frees a crashed
     * sender's; default: the locks' usual wait).
     */
    private readonly options: { cancelBatch?: number; sendLeaseWaitMs?: number } = {},
  ) {}

  /** Removes settled tombstones fenced before `cutoff` (store time minus TOMBSTONE_RETENTION_MS). */
  async expireTombstones(cutoff: Date): Promise<number> {
    let removed = 0;
    for (;;) {
      const docs = await this.models.inventoryItems
        .find({ deleted: true, state: 'synced', fenceAt: { $lt: cutoff } }, { _id: 1, organizationId: 1, externalId: 1 })
        .limit(BATCH)
        .lean<Array<{ _id: string; organizationId: string; externalId: string }>>();
      if (docs.length === 0) return removed;
      const { applied } = await this.store.applyMany(
        docs.map((d) => ({
          target: { id: d._id, organizationId: d.organizationId, externalId: d.externalId },
          // Read again under the lock: a tombstone revived meanwhile is not expired.
          decide: (item): SyncEvent | null => (item && item.fenceAt !== null && item.fenceAt.getTime() < cutoff.getTime() ? { type: 'tombstone-expired' } : null),
        })),
      );
      const expired = applied.filter((a) => a.transition.outcome === 'expired').length;
      removed += expired;
      if (expired === 0 || docs.length < BATCH) return removed;
    }
  }

  /**
   * Applies an organization's current configuration to its pending work (rule 8): deliveries to a
   * removed webhook (or one that no longer takes their kind of change) are cancelled and their
   * items stop awaiting it; a one-way organization cancels every pending delivery and settles its
   * items; items stop being listed by removed polling entries. Idempotent: it reads the state, not
   * a diff, so it runs after every organization change and periodically. Null when the
   * organization is not live (its purge cancels its work).
   *
   * The organization is read here, after its pending deliveries are listed, never taken from the
   * caller: a copy read before them may miss a webhook that a listed delivery was fanned out to
   * (the owner replaced the webhook after that copy was read), and would cancel the delivery as if
   * its webhook had been removed (docs/reliability.md, "Bugs found"). A listed delivery was stored
   * by a fan-out that found its webhook in the organization, so that webhook existed before the
   * organization is read here: absent from this read, it was removed since (an edit keeps a
   * webhook's id, and a new webhook gets a new random one), and no longer taking the delivery's
   * kind of change, it was edited so: this read is no older than the delivery, and cancelling
   * follows it (rule 8). A delivery stored after the listing is not cancelled here: the
   * reconciliation of any later change, or its own delivery job (which reads the organization
   * before every send), sees it. The item steps are written a batch at a time under the items'
   * locks, only while the organization is still at the revision read (see `applyAt`).
   */
  async reconcileConfiguration(organizationId: string): Promise<ConfigurationReconciled | null> {
    const pending = await this.outbound.listPending(organizationId);
    const org = await this.organizations.findById(organizationId);
    if (!org) return null;
    const result: ConfigurationReconciled = { revision: org.revision, complete: true, cancelled: 0, items: 0, entriesRemoved: 0 };
    const allEntries = org.polling.map((p) => p.id);
    let moved = false;
    const step = async (run: () => Promise<Written>, count: 'items' | 'entriesRemoved'): Promise<void> => {
      if (moved) return;
      const written = await run();
      result[count] += written.changed;
      moved = written.moved;
      // Items whose lock was not had in time are left as they are: not complete, so the periodic
      // pass comes back (the revision is not remembered), rather than a day later.
      if (written.moved || written.deferred > 0) result.complete = false;
    };
    const cancel = async (deliveries: readonly Delivery[], reason: string): Promise<void> => {
      const { cancelled, busy } = await this.cancelIdle(deliveries, reason, allEntries);
      result.cancelled += cancelled;
      // On their way: their job records the answer, or finds the configuration at its next attempt.
      if (busy > 0) result.complete = false;
    };
    if (org.synchronization !== 'two-way') {
      await cancel(pending, 'the organization switched to one-way');
      await step(() => this.switchToOneWay(org), 'items');
    } else {
      for (const [reason, deliveries] of this.withdrawnDeliveries(org, pending)) await cancel(deliveries, reason);
      // Items still awaiting a webhook that is gone (its delivery ended without the item learning it).
      const live = new Set(org.webhooks.filter((w) => w.type === 'output').map((w) => w.id));
      await step(
        () =>
          this.applyAt(
            org,
            { state: 'pending' },
            (item) => {
              const gone = item.awaiting.filter((w) => !live.has(w));
              return gone.length > 0 && item.pendingEvent === null ? { type: 'webhooks-withdrawn', webhooks: gone, allEntries } : null;
            },
            { idleSendsOnly: true },
          ),
        'items',
      );
      // Failures whose item has a newer version or no document any more (left by an earlier version,
      // or by a write interrupted between the item and its deliveries): none needs a person.
      await this.failures.resolveOutdated(org.id);
    }
    const entries = new Set(allEntries);
    await step(async () => {
      // Before the items are listed: an acknowledgement settles its item with every entry its job
      // read before the send (row 15), a removed one included when that read came first.
      const underWay = await this.sendsUnderWay(org.id);
      const written = await this.applyAt(org, {}, (item) => {
        // A held change's entries too: applied later, it would list the item under a removed entry again.
        const removed = [...new Set([...item.seenBy, ...item.missedBy, ...(item.held?.entries ?? [])])].filter((e) => !entries.has(e));
        return removed.length > 0 ? { type: 'entries-removed', entries: removed } : null;
      });
      // A send still on its way may yet put a removed entry back: not done, the periodic pass comes back.
      return { ...written, deferred: written.deferred + underWay };
    }, 'entriesRemoved');
    return result;
  }

  /**
   * For a write that read the organization at `revision` and listed the items it wrote under the
   * polling entries `entries` (their `seenBy`: a poll run, an input webhook call): when the
   * organization's revision moved since, and one of those entries is gone, its configuration is
   * applied again (`reconcileConfiguration`). That entry's removal may have been reconciled before
   * the write put it back into items' `seenBy`, keeping them from the other entries' deletion
   * passes (rule 6). `gone`: the entries gone, none while the revision is the one read (then the
   * organization is not read), all of them when the organization is deleted; `organization`: the
   * organization as read when the revision moved (null: deleted), for the caller's own checks;
   * `reconciled`: what that reconciliation did (its `complete` is for the caller's memory of
   * reconciled revisions).
   */
  async reconcileEntriesRemovedSince(organizationId: string, revision: number, entries: readonly string[]): Promise<EntriesRemovedSince> {
    if ((await this.organizations.revisionOf(organizationId)) === revision) return { gone: [] };
    const organization = await this.organizations.findById(organizationId);
    const live = new Set(organization?.polling.map((p) => p.id) ?? []);
    const gone = entries.filter((id) => !live.has(id));
    if (gone.length === 0) return { gone, organization };
    return { gone, organization, reconciled: await this.reconcileConfiguration(organizationId) };
  }

  /**
   * How many of the organization's pending items still have a send on its way once the sends under
   * way now were waited for: each item's send lease is taken at once, and those held are waited
   * for, each on its own and all at the same time, up to the longest a send may hold one
   * (`sendLeaseWaitMs`: its call may take the whole outbound timeout, and a crashed sender's lease
   * frees after its TTL), each given back as soon as it is had. A send's job reads the organization
   * under its item's lease and records its answer before giving it back, so once the lease was had
   * after this reconciliation's read of the organization, any send that read the organization
   * earlier has written its item, and the entries step, which lists the items after this, sees what
   * it wrote (docs/reliability.md, "Bugs found"). Without the wait, an organization whose sends
   * never stop would never be remembered as reconciled; with a shorter one (the locks' usual wait),
   * nor would one whose third party answers more slowly than that, and the periodic pass would
   * repeat its reconciliation for good.
   */
  private async sendsUnderWay(organizationId: string): Promise<number> {
    const ids = await this.models.inventoryItems.find({ organizationId, state: 'pending' }, { _id: 1 }).lean<Array<{ _id: string }>>();
    const busy: string[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const names = ids.slice(i, i + BATCH).map((d) => sendLeaseName(d._id));
      busy.push(...(await this.locks.withLocks(names, async (held) => names.filter((n) => !held.has(n)), 0)));
    }
    // Mostly few: an organization's sends in flight are capped (ORG_MAX_INFLIGHT_DELIVERIES), but a
    // concurrent reconciliation holds a batch of leases at once (this step's own first phase, its
    // cancellations, its item steps), each for the time of a batch's store work.
    const wait = this.options.sendLeaseWaitMs;
    const still = await Promise.all(busy.map((name) => this.locks.withLocks([name], async (held) => !held.has(name), wait)));
    return still.filter(Boolean).length;
  }

  /** The listed deliveries whose webhook the organization no longer has, or that no longer takes their kind of change, by reason. */
  private withdrawnDeliveries(org: Organization, pending: readonly Delivery[]): Map<string, Delivery[]> {
    const reasons = new Map<string, Delivery[]>();
    for (const d of pending) {
      const webhook = org.webhooks.find((w) => w.id === d.webhookId);
      if (webhook && webhookTakes(webhook, d.op)) continue;
      const reason = webhook ? `the output webhook no longer takes ${d.op === 'delete' ? 'deletes' : 'creates and updates'}` : 'the output webhook was removed';
      reasons.set(reason, [...(reasons.get(reason) ?? []), d]);
    }
    return reasons;
  }

  /**
   * Cancels the deliveries whose item no send is on its way for, under the items' send leases
   * (taken at once, not waited for). A delivery being sent is left to its job: cancelled under it,
   * its answer would then be recorded on a cancelled delivery and an item that no longer awaits
   * it, the third party holding a change our side gave up (docs/reliability.md, "Bugs found").
   * `busy`: how many were left so.
   */
  private async cancelIdle(deliveries: readonly Delivery[], reason: string, allEntries: string[]): Promise<{ cancelled: number; busy: number }> {
    const total = { cancelled: 0, busy: 0 };
    // A batch at a time: an organization paused, or with a webhook down, may have many pending, and
    // each batch's leases are held only while its deliveries are cancelled.
    const batch = this.options.cancelBatch ?? BATCH;
    for (let i = 0; i < deliveries.length; i += batch) {
      const slice = deliveries.slice(i, i + batch);
      const names = [...new Set(slice.map((d) => sendLeaseName(d.itemId)))];
      const done = await this.locks.withLocks(
        names,
        async (held) => {
          const idle = slice.filter((d) => held.has(sendLeaseName(d.itemId)));
          return { cancelled: await this.outbound.cancel(idle, reason, allEntries), busy: slice.length - idle.length };
        },
        0,
      );
      total.cancelled += done.cancelled;
      total.busy += done.busy;
    }
    return total;
  }

  /**
   * One-way: items with a local change not settled (pending, deleting, diverged, or an event not
   * fanned out) are settled, and nothing being sent, no failed delivery can be replayed and none
   * needs a person (rule 5). The failures are resolved under the locks of their items, after the
   * revision check, like the items: a replay (which takes its item's lock) after a switch back to
   * two-way is then either seen as the revision moved, or comes after and finds them resolved.
   * (An item whose lock was not had in time has its failures resolved all the same: which locks a
   * batch holds is known only once it is written.)
   */
  private async switchToOneWay(org: Organization): Promise<Written> {
    const failed = await this.failures.failedItems(org.id);
    return this.applyAt(org, {}, (item) => (item.state !== 'synced' || item.pendingEvent !== null ? { type: 'switched-to-one-way' } : null), {
      targets: failed,
      underLocks: (itemIds) => this.failures.resolve({ organizationId: org.id, itemIds }, 'the organization switched to one-way'),
      idleSendsOnly: true,
    });
  }

  /**
   * Applies `decide` to the organization's items matching `filter` (and to `also.targets`); returns
   * how many changed. The items are first read without their data and only those `decide` picks are
   * locked and read whole (so the periodic reconciliation of a large organization stays one scan).
   *
   * Each batch is written only while the organization is still at the revision `decide` follows,
   * checked once the batch's locks are held (`applyAtRevision`): every item write is made under its
   * lock, so a change made under a newer configuration (a local change after a switch back to
   * two-way, a poll of an entry added since) was written either before the locks were taken, after
   * that configuration was stored, and the check sees the revision moved; or after the batch, and
   * the batch's write (decided on the items as read under the locks) did not see it. When the
   * revision moved, the batch is abandoned and nothing more is written: the newer revision's own
   * reconciliation (its change event, or the periodic pass that finds it not reconciled) applies
   * its configuration.
   */
  private async applyAt(
    org: Pick<Organization, 'id' | 'revision'>,
    filter: Record<string, unknown>,
    decide: (item: Decided) => SyncEvent | null,
    also: {
      targets?: readonly ItemTarget[];
      underLocks?: (itemIds: string[]) => Promise<unknown>;
      /**
       * Only items no send is on its way for (their send leases taken at once, held while the batch
       * is written): settling or withdrawing an item under a send would leave the third party with
       * a change our side gave up. The others are deferred, as items whose lock was not had.
       */
      idleSendsOnly?: boolean;
    } = {},
  ): Promise<Written> {
    const docs = await this.models.inventoryItems
      .find({ organizationId: org.id, ...filter }, { _id: 1, externalId: 1, state: 1, pendingEvent: 1, awaiting: 1, seenBy: 1, missedBy: 1, 'held.entries': 1 })
      .lean<Array<Pick<InventoryItemDoc, '_id' | 'externalId' | 'state' | 'pendingEvent' | 'awaiting' | 'seenBy' | 'missedBy'> & { held?: Partial<Pick<HeldChange, 'entries'>> | null }>>();
    const picked = new Map<string, ItemTarget>();
    for (const d of docs) {
      const held = d.held ? { entries: d.held.entries ?? [] } : null;
      if (decide({ state: d.state, pendingEvent: d.pendingEvent ?? null, awaiting: d.awaiting ?? [], seenBy: d.seenBy ?? [], missedBy: d.missedBy ?? [], held }) !== null) {
        picked.set(d._id, { id: d._id, organizationId: org.id, externalId: d.externalId });
      }
    }
    for (const t of also.targets ?? []) picked.set(t.id, t);
    const targets = [...picked.values()];
    let changed = 0;
    let deferred = 0;
    for (let i = 0; i < targets.length; i += BATCH) {
      const slice = targets.slice(i, i + BATCH);
      const names = also.idleSendsOnly ? slice.map((t) => sendLeaseName(t.id)) : [];
      const outcome = await this.locks.withLocks(
        names,
        async (held): Promise<Written | 'moved'> => {
          const idle = also.idleSendsOnly ? slice.filter((t) => held.has(sendLeaseName(t.id))) : slice;
          const batch = await this.store.prepareMany(
            // Decided again on the item as it is under its lock.
            idle.map((target) => ({ target, decide: (item: InventoryItem | null) => (item ? decide(item) : null) })),
          );
          // `underLocks` runs before the batch is applied: its locks are held until then (released once it is written).
          const underLocks = also.underLocks;
          const written = await applyAtRevision(this.organizations, { organizationId: org.id, revision: org.revision }, batch, underLocks && (() => underLocks(idle.map((t) => t.id))));
          if (!written) return 'moved';
          return { changed: written.applied.filter((a) => a.transition.changed).length, moved: false, deferred: written.deferred.length + slice.length - idle.length };
        },
        0,
      );
      if (outcome === 'moved') return { changed, moved: true, deferred };
      changed += outcome.changed;
      deferred += outcome.deferred;
    }
    return { changed, moved: false, deferred };
  }

  /**
   * Removes an organization's items, deliveries and inbound messages, a batch at a time (the purge
   * job repeats it until nothing is left; the organization is hidden from every API already).
   */
  async purgeOrganization(organizationId: string): Promise<PurgeResult> {
    const items = await this.store.marked(organizationId, () => this.removeAll('inventoryItems', organizationId));
    // What its polls remembered goes with the items.
    const pollMemory = (await this.models.pollMemory.deleteMany({ organizationId })).deletedCount;
    return {
      items,
      pollMemory,
      deliveries: await this.removeAll('deliveries', organizationId),
      inboundMessages: await this.removeAll('inboundMessages', organizationId),
    };
  }

  private async removeAll(collection: 'inventoryItems' | 'deliveries' | 'inboundMessages', organizationId: string): Promise<number> {
    let removed = 0;
    // Every one of them has a string _id and an organizationId.
    const m = this.models[collection] as unknown as Models['deliveries'];
    for (;;) {
      const ids = (await m.find({ organizationId }, { _id: 1 }).limit(BATCH).lean<Array<{ _id: string }>>()).map((d) => d._id);
      if (ids.length === 0) return removed;
      removed += (await m.deleteMany({ _id: { $in: ids } })).deletedCount;
    }
  }

  /**
   * Documents written by earlier versions (no `rev`): their sync state is derived from what they
   * kept (`settledVersion`, `deletedAt`), the webhooks still owing an answer from their pending
   * deliveries, and the entries that may list them from their organization. Runs at start-up;
   * idempotent. Returns how many were migrated.
   */
  async migrateLegacyItems(pollingEntriesOf: (organizationId: string) => Promise<string[] | null>): Promise<number> {
    const collection = this.models.inventoryItems.collection;
    let migrated = 0;
    const entries = new Map<string, string[]>();
    for (;;) {
      const docs = (await collection.find({ rev: { $exists: false } }).limit(BATCH).toArray()) as unknown as Array<InventoryItemDoc & { settledVersion?: number; deletedAt?: Date | null }>;
      if (docs.length === 0) return migrated;
      for (const doc of docs) {
        if (!entries.has(doc.organizationId)) entries.set(doc.organizationId, (await pollingEntriesOf(doc.organizationId)) ?? []);
        const unsettled = doc.pendingEvent !== null && doc.pendingEvent !== undefined ? true : doc.version > (doc.settledVersion ?? 0);
        const awaiting =
          unsettled && !doc.pendingEvent
            ? [
                ...new Set(
                  (await this.models.deliveries.find({ itemId: doc._id, version: doc.version, status: 'pending' }, { webhookId: 1 }).lean<Array<{ webhookId: string }>>()).map((d) => d.webhookId),
                ),
              ]
            : [];
        const pending = unsettled && (doc.pendingEvent !== null && doc.pendingEvent !== undefined ? true : awaiting.length > 0);
        const deleted = doc.deletedAt !== null && doc.deletedAt !== undefined;
        const set = {
          state: pending ? 'pending' : 'synced',
          deleted,
          pendingEvent: doc.pendingEvent ?? null,
          awaiting,
          gaveUp: [],
          acked: false,
          fenceAt: deleted && !pending ? doc.deletedAt : null,
          held: null,
          seenBy: doc.remoteKnown ? (entries.get(doc.organizationId) ?? []) : [],
          missedBy: [],
          rev: 0,
        };
        const result = await collection.updateOne({ _id: doc._id as never, rev: { $exists: false } }, { $set: set, $unset: { settledVersion: '', deletedAt: '' } });
        migrated += result.modifiedCount;
      }
    }
  }
}
