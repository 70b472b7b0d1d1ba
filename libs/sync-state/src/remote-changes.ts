import { inventoryItemId, type InventoryItem } from '@music/domain';
import type { Models, OrganizationRepository } from '@music/persistence';
import { syncMutant } from './mutants';
import type { Applied, BatchResult, DecideContext, ItemStore, ItemTarget, WriteGuard } from './item-store';
import { applyAtRevision } from './revision-fence';
import type { Outcome, SyncEvent } from './transitions';
import type { MarkTally } from './write-marks';

/** One third-party record after mapping. */
export interface InboundRecord {
  externalId: string;
  data: Record<string, unknown>;
  hash: string;
}

/**
 * Where a batch of inbound changes came from and how fresh it is (store clock): a poll's snapshot
 * of one polling entry (freshness: when the snapshot began), or an input webhook call (freshness:
 * when it was accepted; `entries`: every polling entry of the organization, which may list it).
 */
export type InboundOrigin = { kind: 'poll'; entry: string; freshness: Date } | { kind: 'webhook'; freshness: Date; entries: string[] };

/** What a batch of inbound changes did, by outcome (the run and webhook counts). */
export interface InboundCounts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Deletes of items we do not have (row 3) or no longer have (row 35). */
  absent: number;
  /** Held: a local change not yet settled wins (rows 12, 25). */
  conflicts: number;
  /** Held: the item diverged (row 18). */
  diverged: number;
  /** Not fresher than the item's fence (rule 2). */
  stale: number;
  /** Not applied now: another writer held the item's lock too long (a retry or the next run applies them). */
  deferred: number;
}

export const emptyInboundCounts = (): InboundCounts => ({ created: 0, updated: 0, unchanged: 0, deleted: 0, absent: 0, conflicts: 0, diverged: 0, stale: 0, deferred: 0 });

/** A batch of upserts whose items are locked, not yet written (`RemoteChanges.prepareUpserts`). */
export interface PreparedUpserts {
  /**
   * Writes it; resolves once written (`released`: once its locks are released and the write mark
   * raised after it). `confirmed`: the write waits for it and writes nothing when it rejects (`PreparedBatch.apply`).
   */
  apply(confirmed?: Promise<void>): Promise<InboundCounts>;
  /** Releases its locks, writing nothing. */
  abandon(): Promise<void>;
  readonly released: Promise<void>;
}

export interface ApplyOptions {
  /** Checked before every write: a poll stops writing once its lease is lost. */
  guard?: WriteGuard;
  /** The batch is expected to be new (a first poll): inserted first, only the refused read back. */
  insertFirst?: boolean;
  /**
   * Store time from which these changes create no absent item (their freshness plus
   * TOMBSTONE_RETENTION_MS: the tombstone that fenced them may have expired). Compared with the
   * store's time read by the write under the item's lock, once the item is found absent (inserted
   * first: before the insert, the lock held until it), never with a time read before the lock: a
   * tombstone expiring meanwhile was expired on a clock read earlier still, so by then the change is
   * past this time too (docs/sync-model.md, rule 2). Input webhook calls and poll runs give it.
   */
  createBefore?: Date;
  /** Counts the write-mark raises of these writes (a poll tells its own writes from others'). */
  marks?: MarkTally;
}

/** A complete snapshot of one polling entry, for its deletion pass. */
export interface Snapshot {
  entry: string;
  /** Every externalId the snapshot listed (records that failed mapping included): only asked whether it holds one, and how many. */
  seen: { has(externalId: string): boolean; readonly size: number };
  /** When it began (store clock). */
  startedAt: Date;
  /** The entry's walks cannot see a delete before a page boundary: an item is removed after two consecutive misses. */
  twoMiss: boolean;
}

/**
 * The organization's revision at which the caller last found a snapshot still its entry's (rule 6:
 * the entry not removed, nor given other settings). Each deletion batch is written only while the
 * organization is still at it, checked under the batch's items' locks (`applyAtRevision`).
 */
export interface SnapshotFence {
  revision: number;
  /**
   * Asked when the revision moved (the batch abandoned, none of its locks held): the revision at
   * which the snapshot still is the entry's (the pass goes on at it: a change that leaves the
   * entry's listing as it was does not stop it), or why it no longer is (the pass stops there).
   */
  recheck(): Promise<{ revision: number } | { stop: string }>;
}

/** What a deletion pass did, or why it did nothing. */
export interface DeletionVerdict {
  held: boolean;
  /**
   * Stopped by its fence, having deleted nothing more: the snapshot was no longer the entry's, or
   * the organization kept changing while a batch was written (`message` says which).
   */
  stopped: boolean;
  /** Items the entry may list that the snapshot considered (synced, fenced before it began). */
  considered: number;
  /** Of those, absent from the snapshot. */
  absent: number;
  deleted: number;
  /** Left the entry's `seenBy` but still listed by another entry. */
  left: number;
  /** First miss of the two-miss rule (page numbers without a total). */
  missed: number;
  deferred: number;
  message: string | null;
}

const DELETION_BATCH = 200;
/** Rechecks of one deletion batch's fence, the organization having moved each time, before the pass stops (a configuration that never rests). */
const FENCE_RECHECKS = 3;
/** Candidates of a deletion pass read per batch from the store. */
const CANDIDATE_BATCH = 5000;

function count(counts: InboundCounts, outcome: Outcome): void {
  switch (outcome) {
    case 'created':
    case 'updated':
    case 'unchanged':
    case 'deleted':
    case 'absent':
    case 'diverged':
    case 'stale':
      counts[outcome]++;
      return;
    case 'conflict':
      counts.conflicts++;
      return;
    default:
      counts.unchanged++;
  }
}

/**
 * What the third party tells us (polls and input webhooks): rows 2, 3, 7-10, 12, 18, 25, 34, 35
 * and the stale rule. Every write here is origin `remote` and never produces a delivery.
 */
export class RemoteChanges {
  constructor(
    private readonly store: ItemStore,
    private readonly models: Pick<Models, 'inventoryItems'>,
    /** A deletion pass's fence reads the organization's revision once per batch. */
    private readonly organizations: Pick<OrganizationRepository, 'revisionOf'>,
    /**
     * `candidateBatch`: candidates of a deletion pass read per batch (default CANDIDATE_BATCH);
     * `deletionBatch`: items it deletes per batch (default DELETION_BATCH). Tests make them small to cross batch boundaries.
     */
    private readonly options: { candidateBatch?: number; deletionBatch?: number } = {},
  ) {}

  /** Upserts a batch (the last occurrence of an externalId wins). */
  async applyUpserts(organizationId: string, records: readonly InboundRecord[], origin: InboundOrigin, options: ApplyOptions = {}): Promise<InboundCounts> {
    const batch = await this.prepareUpserts(organizationId, records, origin, options);
    const counts = await batch.apply();
    await batch.released;
    return counts;
  }

  /**
   * `applyUpserts` in two steps (`ItemStore.prepareMany`): the batch's items locked (and, with
   * `insertFirst`, their version floors read and documents built) now, written by `apply`. A poll
   * prepares its next page while this one is written; exactly one of `apply` and `abandon` is called.
   */
  async prepareUpserts(organizationId: string, records: readonly InboundRecord[], origin: InboundOrigin, options: ApplyOptions = {}): Promise<PreparedUpserts> {
    const byId = new Map<string, InboundRecord>();
    for (const r of records) byId.set(inventoryItemId(organizationId, r.externalId), r);
    const entries = origin.kind === 'poll' ? [origin.entry] : origin.entries;
    const createBefore = options.createBefore;
    const targets = [...byId].map(([id, record]) => ({
      target: { id, organizationId, externalId: record.externalId },
      decide: (_item: InventoryItem | null, context: DecideContext): SyncEvent => ({
        type: 'inbound-upsert',
        externalId: record.externalId,
        data: record.data,
        hash: record.hash,
        freshness: origin.freshness,
        entries,
        source: origin.kind,
        versionFloor: context.versionFloor,
        mayCreate: createBefore === undefined || (context.now !== undefined && context.now.getTime() < createBefore.getTime()),
      }),
    }));
    const batch = await this.store.prepareMany(targets, {
      needsFloor: true,
      ...(createBefore ? { needsNow: true } : {}),
      ...(options.guard ? { guard: options.guard } : {}),
      ...(options.insertFirst ? { insertFirst: true } : {}),
      ...(options.marks ? { marks: options.marks } : {}),
    });
    return {
      apply: async (confirmed) => {
        const { applied, deferred } = await batch.apply(confirmed);
        return this.tally(applied, deferred);
      },
      abandon: () => batch.abandon(),
      released: batch.released,
    };
  }

  /** Deletes by externalId (an input webhook DELETE). */
  async applyDeletes(organizationId: string, externalIds: readonly string[], origin: InboundOrigin, options: Pick<ApplyOptions, 'guard'> = {}): Promise<InboundCounts> {
    const entries = origin.kind === 'poll' ? [origin.entry] : origin.entries;
    const unique = [...new Set(externalIds)];
    const targets = unique.map((externalId) => ({
      target: { id: inventoryItemId(organizationId, externalId), organizationId, externalId },
      decide: (): SyncEvent => ({ type: 'inbound-delete', freshness: origin.freshness, entries, source: origin.kind }),
    }));
    const { applied, deferred } = await this.store.applyMany(targets, options.guard ? { guard: options.guard } : {});
    return this.tally(applied, deferred);
  }

  /**
   * The deletion pass after a complete, consistent snapshot (rule 6, row 10): only the items the
   * entry may list, synced, fenced before the snapshot began. Held back entirely (`held`) when the
   * snapshot came back empty while such items exist, or would remove more than `guardRatio` of them.
   * `fence`: each batch is written only while the snapshot is still the entry's (`SnapshotFence`):
   * the entry removed or given other settings after the caller's check deletes nothing more.
   */
  async reconcileSnapshot(
    organizationId: string,
    snapshot: Snapshot,
    options: { guardRatio: number; guard?: WriteGuard; marks?: MarkTally; fence?: SnapshotFence },
  ): Promise<DeletionVerdict> {
    // Read in batches and only the absent kept: an entry of a million items would otherwise hold a
    // million documents at once, more than a worker's heap is sized for (docs/deployment.md, "Sizing").
    const candidates = this.models.inventoryItems
      .find({ organizationId, ...(syncMutant() === 'cross-entry-deletion' ? {} : { seenBy: snapshot.entry }), deleted: false, state: 'synced' }, { _id: 1, externalId: 1, fenceAt: 1 })
      .lean<{ _id: string; externalId: string; fenceAt: Date | null }>()
      .cursor({ batchSize: this.options.candidateBatch ?? CANDIDATE_BATCH });
    let considered = 0;
    const absent: Array<{ _id: string; externalId: string }> = [];
    for await (const c of candidates) {
      if (c.fenceAt !== null && c.fenceAt !== undefined && c.fenceAt.getTime() >= snapshot.startedAt.getTime()) continue;
      considered++;
      if (!snapshot.seen.has(c.externalId)) absent.push({ _id: c._id, externalId: c.externalId });
    }
    const verdict: DeletionVerdict = { held: false, stopped: false, considered, absent: absent.length, deleted: 0, left: 0, missed: 0, deferred: 0, message: null };
    if (absent.length === 0) return verdict;
    if (snapshot.seen.size === 0) {
      return { ...verdict, held: true, message: `the snapshot came back empty while ${considered} item(s) of this polling entry are known; deleted nothing` };
    }
    if (absent.length > considered * options.guardRatio) {
      return {
        ...verdict,
        held: true,
        message: `the snapshot dropped ${absent.length} of ${considered} known item(s) of this polling entry, more than the guard ratio ${options.guardRatio}; deleted nothing`,
      };
    }
    const batch = this.options.deletionBatch ?? DELETION_BATCH;
    const writeOptions = { ...(options.guard ? { guard: options.guard } : {}), ...(options.marks ? { marks: options.marks } : {}) };
    let fence = options.fence;
    let rechecks = 0;
    for (let i = 0; i < absent.length; ) {
      const targets = absent.slice(i, i + batch).map((c) => ({
        target: { id: c._id, organizationId, externalId: c.externalId } satisfies ItemTarget,
        decide: (): SyncEvent => ({ type: 'snapshot-absent', entry: snapshot.entry, snapshotStart: snapshot.startedAt, twoMiss: snapshot.twoMiss }),
      }));
      let written: BatchResult | null;
      if (fence) {
        written = await applyAtRevision(this.organizations, { organizationId, revision: fence.revision }, await this.store.prepareMany(targets, writeOptions));
        if (!written) {
          // The organization changed since the caller's check: asked again, with no lock held.
          if (++rechecks > FENCE_RECHECKS) return { ...verdict, stopped: true, message: 'the organization kept changing during the deletion pass; the rest of the deletions skipped' };
          const now = await fence.recheck();
          if ('stop' in now) return { ...verdict, stopped: true, message: now.stop };
          fence = { ...fence, revision: now.revision };
          continue;
        }
      } else {
        written = await this.store.applyMany(targets, writeOptions);
      }
      rechecks = 0;
      i += batch;
      const { applied, deferred } = written;
      verdict.deferred += deferred.length;
      for (const a of applied) {
        if (a.transition.outcome === 'deleted') verdict.deleted++;
        else if (a.transition.outcome === 'left') verdict.left++;
        else if (a.transition.outcome === 'missed') verdict.missed++;
      }
    }
    return verdict;
  }

  private tally(applied: Applied[], deferred: ItemTarget[]): InboundCounts {
    const counts = emptyInboundCounts();
    for (const a of applied) count(counts, a.transition.outcome);
    counts.deferred = deferred.length;
    return counts;
  }
}
