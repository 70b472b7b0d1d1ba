import { contentHash, emptyCounts, type Organization, type PollingEntry, type RecordError, type SyncRunCounts, type SyncRunStatus } from '@music/domain';
import type { OutboundClient, Logger, RedisLocks } from '@music/platform';
import type { OrganizationRepository, SyncRunRepository } from '@music/persistence';
import type { PollJob } from '@music/queue';
import type { InboundItemsRepository, InboundRecord } from './inbound-items.repository';
import type { MappingCache } from './mapping-cache';
import { fetchPages, PollFetchError } from './poll-pages';

const ERROR_SAMPLE = 20;
const LOCK_TTL_MS = 120_000;
const PROGRESS_EVERY_MS = 1000;

export interface PollRunDeps {
  organizations: OrganizationRepository;
  runs: SyncRunRepository;
  items: InboundItemsRepository;
  http: OutboundClient;
  mappings: MappingCache;
  locks: RedisLocks;
  logger: Logger;
  deleteGuardRatio: number;
}

export type PollRunOutcome =
  | { kind: 'done'; runId: string; status: SyncRunStatus; counts: SyncRunCounts }
  /** The organization or its polling entry is gone: the scheduler should be removed. */
  | { kind: 'stale' }
  /** A transient failure: the job should be retried (the run is marked failed meanwhile). */
  | { kind: 'retry'; runId: string; message: string }
  /** A manual run found another run of the entry in progress: try again shortly. */
  | { kind: 'busy'; runId: string };

/**
 * One poll of one polling entry: fetch every page, map each record, write what changed, then -
 * only after a complete snapshot - delete what the third party no longer has, unless that looks
 * like an accident (an empty snapshot, or more than the guard ratio of the known items).
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

    const lockName = `poll:${org.id}:${entry.id}`;
    // The lease's token is the run id. A job BullMQ runs again after its process died (stalled-job
    // recovery) carries the same run id, and takes its own lease back rather than wait up to
    // LOCK_TTL_MS for the dead process's lease to expire (its run would be skipped meanwhile).
    const leased = (await this.deps.locks.acquire(lockName, runId, LOCK_TTL_MS)) || (await this.deps.locks.extend(lockName, runId, LOCK_TTL_MS));
    if (!leased) {
      if (job.trigger === 'manual') return { kind: 'busy', runId };
      await runs.finish(runId, { status: 'skipped', counts: emptyCounts(), pages: 0, errors: [], message: 'another run of this polling entry is in progress' });
      return { kind: 'done', runId, status: 'skipped', counts: emptyCounts() };
    }
    try {
      return await this.walk(org, entry, runId, lockName);
    } catch (error) {
      logger.error('poll failed unexpectedly', { runId, err: (error as Error).message });
      throw error;
    } finally {
      await this.deps.locks.release(lockName, runId).catch(() => undefined);
    }
  }

  private async walk(org: Organization, entry: PollingEntry, runId: string, lockName: string): Promise<PollRunOutcome> {
    const { runs, items, logger } = this.deps;
    const startedAt = new Date();
    await runs.markRunning(runId, startedAt);
    const mapping = this.deps.mappings.for(org);
    // An organization holding no item when the run starts: every item in it afterwards was written
    // during the run, so nothing can have vanished and every record is new (see insertFirst below).
    const startedEmpty = !(await items.hasAny(org.id));
    // Insert a page first, reading back only what already existed, while pages come all new.
    let insertFirst = startedEmpty;
    // Only the deletion pass needs the externalIds seen (a million of them take tens of MB).
    const tracking = entry.trackDeletes && !startedEmpty;
    const counts = emptyCounts();
    const errors: RecordError[] = [];
    const seen = new Set<string>();
    let unidentified = 0;
    let pages = 0;
    let lastProgress = Date.now();
    const walk = { complete: false };

    const mapPage = (records: unknown[]): InboundRecord[] => {
      const batch: InboundRecord[] = [];
      records.forEach((record) => {
        counts.fetched++;
        const outcome = mapping.toItem(record);
        if (outcome.ok) {
          if (tracking) seen.add(outcome.externalId);
          batch.push({ externalId: outcome.externalId, data: outcome.data, hash: contentHash(outcome.externalId, outcome.data) });
          return;
        }
        counts.invalid++;
        // An invalid record still proves its item exists remotely, when its id can be read.
        const externalId = outcome.externalId ?? mapping.externalIdOf(record);
        if (externalId === undefined) unidentified++;
        else if (tracking) seen.add(externalId);
        for (const e of outcome.errors) {
          if (errors.length < ERROR_SAMPLE) errors.push({ index: counts.fetched - 1, ...(externalId ? { externalId } : {}), path: e.path, message: e.message });
        }
      });
      return batch;
    };

    try {
      const source = fetchPages(this.deps.http, entry, walk);
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
        pages++;
        next = ahead();
        const applied = await items.apply(org.id, batch, { insertFirst });
        insertFirst = batch.length > 0 && applied.created === batch.length;
        counts.created += applied.created;
        counts.updated += applied.updated;
        counts.unchanged += applied.unchanged;
        counts.conflicts += applied.conflicts + applied.deferred;
        if (Date.now() - lastProgress > PROGRESS_EVERY_MS) {
          lastProgress = Date.now();
          await runs.recordProgress(runId, counts, pages);
          await this.deps.locks.extend(lockName, runId, LOCK_TTL_MS);
        }
      }
    } catch (error) {
      const transient = error instanceof PollFetchError ? error.transient : false;
      if (!(error instanceof PollFetchError)) throw error;
      // Never delete after a failed or partial fetch.
      const status: SyncRunStatus = pages > 0 ? 'partial' : 'failed';
      await runs.finish(runId, { status, counts, pages, errors, message: error.message });
      logger.warn('poll fetch failed', { runId, endpoint: entry.endpoint, err: error.message, transient });
      return transient ? { kind: 'retry', runId, message: error.message } : { kind: 'done', runId, status, counts };
    }

    let status: SyncRunStatus = 'succeeded';
    let message: string | null = null;
    if (!walk.complete) {
      status = 'partial';
      message = `stopped at maxPages (${pages}); deletions skipped`;
    } else if (unidentified > 0) {
      message = `${unidentified} record(s) without a readable externalId; deletions skipped`;
    } else if (tracking) {
      const verdict = await this.trackDeletes(org.id, seen, startedAt, counts);
      status = verdict.status;
      message = verdict.message;
    }
    await runs.finish(runId, { status, counts, pages, errors, message });
    logger.info('poll finished', { runId, status, ...counts });
    return { kind: 'done', runId, status, counts };
  }

  private async trackDeletes(organizationId: string, seen: Set<string>, startedAt: Date, counts: SyncRunCounts): Promise<{ status: SyncRunStatus; message: string | null }> {
    const { vanished, known } = await this.deps.items.findVanished(organizationId, seen, startedAt);
    if (vanished.length === 0) return { status: 'succeeded', message: null };
    if (seen.size === 0) {
      return { status: 'attention', message: `the snapshot came back empty while ${known} item(s) are known remotely; deleted nothing` };
    }
    if (vanished.length > known * this.deps.deleteGuardRatio) {
      return {
        status: 'attention',
        message: `the snapshot dropped ${vanished.length} of ${known} known item(s), more than the guard ratio ${this.deps.deleteGuardRatio}; deleted nothing`,
      };
    }
    counts.deleted = await this.deps.items.deleteVanished(vanished);
    return { status: 'succeeded', message: null };
  }
}
