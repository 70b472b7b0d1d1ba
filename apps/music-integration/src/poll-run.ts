import { contentHash, emptyCounts, type Organization, type PollingEntry, type RecordError, type SyncRunCounts, type SyncRunStatus } from '@music/domain';
import { LeaseLostError, type Lease, type Logger, type RedisLocks } from '@music/platform';
import type { InventoryRepository, OrganizationRepository, SyncRunRepository } from '@music/persistence';
import type { AccountOutbound } from './account-outbound';
import type { PollJob } from '@music/queue';
import type { InboundCounts, InboundRecord, SyncState } from '@music/sync-state';
import type { MappingCache } from './mapping-cache';
import { fetchPages, needsTwoMisses, newWalkState, PollFetchError } from './poll-pages';

const ERROR_SAMPLE = 20;
const PROGRESS_EVERY_MS = 1000;

export interface PollRunDeps {
  organizations: OrganizationRepository;
  runs: SyncRunRepository;
  items: InventoryRepository;
  sync: Pick<SyncState, 'clock' | 'remote'>;
  /** The guarded client, held to each owner's outbound quota, presenting each entry's credentials. */
  http: AccountOutbound;
  mappings: MappingCache;
  locks: RedisLocks;
  logger: Logger;
  deleteGuardRatio: number;
  /** A run stops writing after this long and ends `partial` (POLL_RUN_MAX_MS). */
  maxRunMs: number;
  /** The per-entry lease's TTL (renewed every third of it while the run works). */
  leaseTtlMs: number;
  /** QUOTA_PAGES_PER_RUN: no run reads more pages, whatever the entry's maxPages. */
  pagesPerRun: number;
}

/** The entry with its maxPages capped by the pages-per-run quota. */
function withPageQuota(entry: PollingEntry, pagesPerRun: number): PollingEntry {
  if (!entry.pagination || entry.pagination.maxPages <= pagesPerRun) return entry;
  return { ...entry, pagination: { ...entry.pagination, maxPages: pagesPerRun } };
}

export type PollRunOutcome =
  | { kind: 'done'; runId: string; status: SyncRunStatus; counts: SyncRunCounts }
  /** The organization or its polling entry is gone: the scheduler should be removed. */
  | { kind: 'stale' }
  /** A transient failure: the job should be retried (the run is marked failed meanwhile). */
  | { kind: 'retry'; runId: string; message: string }
  /** A manual run found another run of the entry in progress: try again shortly. */
  | { kind: 'busy'; runId: string };

/** The lease a run of one polling entry holds (one run per entry at a time). */
export const pollLeaseName = (organizationId: string, pollingId: string): string => `poll:${organizationId}:${pollingId}`;

function addCounts(counts: SyncRunCounts, applied: InboundCounts): void {
  counts.created += applied.created;
  counts.updated += applied.updated;
  counts.unchanged += applied.unchanged;
  counts.stale += applied.stale;
  counts.diverged += applied.diverged;
  // Not applied now (another writer held the item too long): like a conflict, the next run applies it.
  counts.conflicts += applied.conflicts + applied.deferred;
}

/**
 * One poll of one polling entry (docs/sync-model.md, "Polling"): record the start on the store
 * clock, fetch every page, map each record, apply each page by the state table with the start as
 * the records' freshness, then - only after a complete, consistent snapshot - run the entry's
 * deletion pass, unless the delete guard holds. The run holds the entry's lease (renewed while it
 * works) and stops before its next write once the lease is lost or POLL_RUN_MAX_MS has passed.
 */
export class PollRun {
  constructor(private readonly deps: PollRunDeps) {}

  async execute(job: PollJob, ensureRunId: (runId: string) => Promise<void>): Promise<PollRunOutcome> {
    const { organizations, runs, logger } = this.deps;
    const org = await organizations.findById(job.organizationId);
    const entry = org?.polling.find((p) => p.id === job.pollingId);
    if (!org || !entry) {
      if (job.runId) await runs.finish(job.runId, { status: 'skipped', counts: emptyCounts(), pages: 0, errors: [], message: 'organization or polling entry no longer exists' });
      return { kind: 'stale' };
    }
    if (job.runId) {
      // music-config marks a manual run failed when its enqueue timed out; BullMQ may still have
      // added the job once Redis answered. That run was reported failed: don't run it.
      const run = await runs.findForOrganization(org.id, job.runId);
      if (!run || (run.status === 'failed' && run.startedAt === null)) return { kind: 'done', runId: job.runId, status: 'skipped', counts: emptyCounts() };
    }
    const runId = job.runId ?? (await runs.createQueued(org.id, entry, job.trigger)).id;
    await ensureRunId(runId);

    // The lease's token is the run id: a job BullMQ runs again after its process died (stalled-job
    // recovery) carries the same run id and takes its own lease back rather than wait for it to expire.
    const lease = await this.deps.locks.lease(pollLeaseName(org.id, entry.id), runId, this.deps.leaseTtlMs);
    if (!lease) {
      if (job.trigger === 'manual') return { kind: 'busy', runId };
      await runs.finish(runId, { status: 'skipped', counts: emptyCounts(), pages: 0, errors: [], message: 'another run of this polling entry is in progress' });
      return { kind: 'done', runId, status: 'skipped', counts: emptyCounts() };
    }
    try {
      return await this.walk(org, entry, runId, lease);
    } catch (error) {
      logger.error('poll failed unexpectedly', { runId, err: (error as Error).message });
      throw error;
    } finally {
      await lease.release();
    }
  }

  private async walk(org: Organization, entry: PollingEntry, runId: string, lease: Lease): Promise<PollRunOutcome> {
    const { runs, items, logger, sync } = this.deps;
    // Before the first request: every record of this snapshot is at least this fresh (rule 2).
    const startedAt = await sync.clock.now();
    const deadline = performance.now() + this.deps.maxRunMs;
    await runs.markRunning(runId, startedAt);
    const mapping = this.deps.mappings.for(org);
    // An organization holding no item when the run starts: every record is new (insert first, no
    // read back), and nothing can have vanished.
    const startedEmpty = !(await items.hasAny(org.id));
    let insertFirst = startedEmpty;
    // Only the deletion pass needs the externalIds seen (a million of them take tens of MB).
    const tracking = entry.trackDeletes && !startedEmpty;
    const counts = emptyCounts();
    const errors: RecordError[] = [];
    const seen = new Set<string>();
    // An object, not a `let`: the closure below sets it, which flow analysis does not follow.
    const walkIds = { duplicate: null as string | null };
    let unidentified = 0;
    let pages = 0;
    let lastProgress = performance.now();
    const walk = newWalkState();
    const see = (externalId: string): void => {
      if (!tracking) return;
      if (seen.has(externalId)) walkIds.duplicate ??= externalId;
      seen.add(externalId);
    };

    const mapPage = (records: unknown[]): InboundRecord[] => {
      const batch: InboundRecord[] = [];
      records.forEach((record) => {
        counts.fetched++;
        const outcome = mapping.toItem(record);
        if (outcome.ok) {
          see(outcome.externalId);
          batch.push({ externalId: outcome.externalId, data: outcome.data, hash: contentHash(outcome.externalId, outcome.data) });
          return;
        }
        counts.invalid++;
        // An invalid record still proves its item exists remotely, when its id can be read.
        const externalId = outcome.externalId ?? mapping.externalIdOf(record);
        if (externalId === undefined) unidentified++;
        else see(externalId);
        for (const e of outcome.errors) {
          if (errors.length < ERROR_SAMPLE) errors.push({ index: counts.fetched - 1, ...(externalId ? { externalId } : {}), path: e.path, message: e.message });
        }
      });
      return batch;
    };
    const finish = async (status: SyncRunStatus, message: string | null): Promise<PollRunOutcome> => {
      await runs.finish(runId, { status, counts, pages, errors, message });
      logger.info('poll finished', { runId, status, ...counts, ...(message ? { message } : {}) });
      return { kind: 'done', runId, status, counts };
    };
    const capped = (): boolean => performance.now() > deadline;
    const cappedMessage = `stopped after POLL_RUN_MAX_MS (${this.deps.maxRunMs} ms) at page ${pages}; deletions skipped`;

    try {
      const source = fetchPages(this.deps.http.forPoll(org, entry), withPageQuota(entry, this.deps.pagesPerRun), walk, (record) => mapping.externalIdOf(record));
      // The next page is fetched and mapped while this one is written, so the third party, this
      // process and the store work at the same time (two pages are held at most).
      const ahead = (): Promise<InboundRecord[] | null> => {
        const next = source.next().then((r) => (r.done ? null : mapPage(r.value.records)));
        // Awaited below, after the page being written: a failed fetch surfaces there, in page order.
        next.catch(() => undefined);
        return next;
      };
      let next = ahead();
      for (let batch = await next; batch !== null; batch = await next) {
        if (capped()) return await finish('partial', cappedMessage);
        // A lease taken away (a purge, or another process after ours lapsed) is seen before this page is written.
        await lease.confirm();
        pages++;
        next = ahead();
        const applied = await sync.remote.applyUpserts(org.id, batch, { kind: 'poll', entry: entry.id, freshness: startedAt }, { guard: lease, insertFirst });
        insertFirst = batch.length > 0 && applied.created === batch.length;
        addCounts(counts, applied);
        if (performance.now() - lastProgress > PROGRESS_EVERY_MS) {
          lastProgress = performance.now();
          await runs.recordProgress(runId, counts, pages);
        }
      }
    } catch (error) {
      if (error instanceof LeaseLostError) {
        logger.warn('poll lost its lease; stopped before writing more', { runId, err: error.message });
        return await finish('partial', `lost its lease (${error.message}); stopped before writing more; deletions skipped`);
      }
      if (!(error instanceof PollFetchError)) throw error;
      // Never delete after a failed or partial fetch.
      const status: SyncRunStatus = pages > 0 ? 'partial' : 'failed';
      await runs.finish(runId, { status, counts, pages, errors, message: error.message });
      logger.warn('poll fetch failed', { runId, endpoint: entry.endpoint, err: error.message, transient: error.transient });
      return error.transient ? { kind: 'retry', runId, message: error.message } : { kind: 'done', runId, status, counts };
    }

    if (!walk.complete) return finish('partial', `stopped at maxPages (${pages}); deletions skipped`);
    if (unidentified > 0) return finish('succeeded', `${unidentified} record(s) without a readable externalId; deletions skipped`);
    if (!tracking) return finish('succeeded', null);
    const duplicate = walkIds.duplicate;
    const shifted = walk.inconsistent ?? (duplicate !== null ? `externalId "${duplicate.slice(0, 100)}" appeared twice: the list shifted while it was read` : null);
    if (shifted) return finish('succeeded', `${shifted}; deletions skipped`);
    if (capped()) return finish('partial', cappedMessage);
    try {
      await lease.confirm();
      const verdict = await sync.remote.reconcileSnapshot(
        org.id,
        { entry: entry.id, seen, startedAt, twoMiss: needsTwoMisses(entry) },
        { guardRatio: this.deps.deleteGuardRatio, guard: lease },
      );
      counts.deleted += verdict.deleted;
      if (verdict.held) return finish('attention', verdict.message);
      const deferred = verdict.deferred > 0 ? `${verdict.deferred} vanished item(s) were being written by others; the next run considers them` : null;
      return finish('succeeded', deferred);
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      return finish('partial', `lost its lease during the deletion pass (${error.message}); stopped`);
    }
  }
}
