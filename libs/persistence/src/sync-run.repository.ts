import type { PollingEntry, RecordError, SyncRun, SyncRunCounts, SyncRunStatus, SyncTrigger } from '@music/domain';
import { emptyCounts, newId } from '@music/domain';
import { maskUrl, maskUrlsIn } from '@music/platform';
import { toSyncRun } from './mappers';
import type { Models, SyncRunDoc } from './models';
import { OrganizationRepository } from './organization.repository';

export interface SyncRunFilter {
  status?: SyncRunStatus;
  since?: Date;
  until?: Date;
  /** Runs queued strictly before this time. */
  before?: Date;
  /** Runs after this one in the listing order (pagination: the last run of the previous page). */
  after?: { at: Date; id: string };
  limit: number;
}

/**
 * Poll runs: created queued (manual) or running (scheduled), finished with counts and status. A
 * run's endpoint and message are stored with any credentials in URLs masked: runs are shown to
 * users and logged, and credentials belong in the polling entry's sealed `auth`.
 */
export class SyncRunRepository {
  private readonly organizations: OrganizationRepository;

  constructor(private readonly models: Pick<Models, 'syncRuns' | 'organizations'>) {
    this.organizations = new OrganizationRepository(models);
  }

  async createQueued(organizationId: string, entry: PollingEntry, trigger: SyncTrigger, now = new Date()): Promise<SyncRun> {
    const doc: SyncRunDoc = {
      _id: newId(),
      organizationId,
      pollingId: entry.id,
      endpoint: maskUrl(entry.endpoint),
      trigger,
      status: 'queued',
      counts: { ...emptyCounts() },
      pages: 0,
      errors: [],
      message: null,
      queuedAt: now,
      startedAt: null,
      finishedAt: null,
    };
    try {
      await this.models.syncRuns.create(doc);
    } finally {
      // A poll that read its organization before it was deleted may record its run after the
      // purge's pass: the run is removed again (docs/sync-model.md, "Deleting an organization").
      if (!(await this.organizations.isLive(organizationId))) await this.models.syncRuns.deleteOne({ _id: doc._id, organizationId });
    }
    return toSyncRun(doc);
  }

  async markRunning(id: string, now = new Date()): Promise<void> {
    await this.models.syncRuns.updateOne({ _id: id }, { $set: { status: 'running', startedAt: now } });
  }

  /** Records progress while a long poll runs, so a person watching sees counts move. */
  async recordProgress(id: string, counts: SyncRunCounts, pages: number): Promise<void> {
    await this.models.syncRuns.updateOne({ _id: id }, { $set: { counts, pages } });
  }

  /** Records the outcome; `finishedAt` is the store's time (like `startedAt`), unless `now` is given. */
  async finish(
    id: string,
    outcome: { status: SyncRunStatus; counts: SyncRunCounts; pages: number; errors: RecordError[]; message: string | null },
    now?: Date,
  ): Promise<void> {
    const masked = { ...outcome, message: outcome.message === null ? null : maskUrlsIn(outcome.message) };
    const update = now ? { $set: { ...masked, finishedAt: now } } : { $set: masked, $currentDate: { finishedAt: true as const } };
    await this.models.syncRuns.updateOne({ _id: id }, update);
  }

  /** A purge: the runs of a deleted organization, a batch at a time; returns how many were removed. */
  async deleteForOrganization(organizationId: string, batch = 500): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = (await this.models.syncRuns.find({ organizationId }, { _id: 1 }).limit(batch).lean<Array<{ _id: string }>>()).map((d) => d._id);
      if (ids.length === 0) return removed;
      removed += (await this.models.syncRuns.deleteMany({ _id: { $in: ids } })).deletedCount;
    }
  }

  async findForOrganization(organizationId: string, id: string): Promise<SyncRun | null> {
    const doc = await this.models.syncRuns.findOne({ _id: id, organizationId }).lean<SyncRunDoc>();
    return doc ? toSyncRun(doc) : null;
  }

  /** The polling entry's newest run that got as far as running (queued and skipped ones passed over), or null. */
  async findLatestStarted(organizationId: string, pollingId: string): Promise<SyncRun | null> {
    const [doc] = await this.models.syncRuns
      .find({ organizationId, pollingId, status: { $nin: ['queued', 'skipped'] } })
      .sort({ queuedAt: -1, _id: -1 })
      .limit(1)
      .lean<SyncRunDoc[]>();
    return doc ? toSyncRun(doc) : null;
  }

  /** When the polling entry's newest succeeded run finished, or null (none, or not recorded). */
  async lastSucceededAt(organizationId: string, pollingId: string): Promise<Date | null> {
    const [doc] = await this.models.syncRuns
      .find({ organizationId, pollingId, status: 'succeeded' }, { finishedAt: 1 })
      .sort({ queuedAt: -1, _id: -1 })
      .limit(1)
      .lean<Array<Pick<SyncRunDoc, 'finishedAt'>>>();
    return doc?.finishedAt ?? null;
  }

  /** Newest first. */
  async listForOrganization(organizationId: string, filter: SyncRunFilter): Promise<SyncRun[]> {
    const queuedAt: Record<string, Date> = {};
    if (filter.since) queuedAt['$gte'] = filter.since;
    if (filter.until) queuedAt['$lte'] = filter.until;
    if (filter.before) queuedAt['$lt'] = filter.before;
    const query: Record<string, unknown> = { organizationId };
    if (filter.status) query['status'] = filter.status;
    if (Object.keys(queuedAt).length > 0) query['queuedAt'] = queuedAt;
    // Runs queued in the same millisecond are ordered by id, so a page boundary between them loses none.
    if (filter.after) query['$or'] = [{ queuedAt: { $lt: filter.after.at } }, { queuedAt: filter.after.at, _id: { $lt: filter.after.id } }];
    const docs = await this.models.syncRuns.find(query).sort({ queuedAt: -1, _id: -1 }).limit(filter.limit).lean<SyncRunDoc[]>();
    return docs.map(toSyncRun);
  }
}
