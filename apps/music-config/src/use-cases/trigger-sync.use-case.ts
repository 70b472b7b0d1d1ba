import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { emptyCounts, type SyncRun } from '@music/domain';
import { AppError, conflict, withinDeadline, type Logger, type RateLimiter } from '@music/platform';
import type { OrganizationRepository, SyncControlRepository, SyncRunRepository } from '@music/persistence';
import { jobRequest, JOBS, type JobSettings, type PollJob } from '@music/queue';
import { findOwnedOrganization } from './organization-access';

export interface TriggerSyncCommand {
  ownerId: string;
  organizationId: string;
}

export interface TriggerSyncDeps {
  organizations: OrganizationRepository;
  syncRuns: SyncRunRepository;
  /** Paused organizations and polling entries run no poll, manual ones included. */
  controls: SyncControlRepository;
  pollingQueue: Queue<PollJob>;
  /** The poll job's settings: a manual run retries like a scheduled one. */
  jobSettings: JobSettings;
  logger: Logger;
  /** How long the queue may take to accept the jobs (QUEUE_ENQUEUE_TIMEOUT_MS). */
  enqueueTimeoutMs: number;
  /** Manual syncs per organization per window: each one polls the organization's endpoints now. */
  perOrganization?: RateLimiter;
  /** Manual syncs per account per window, across its organizations (a quota: QUOTA_EXCEEDED). */
  perOwner?: RateLimiter;
}

/**
 * `POST /organization/:id/sync`: one queued run and one poll job per polling entry, now. The
 * jobs go in with one `addBulk` (a single MULTI): either every run is queued or none is, and then
 * every run is marked failed and the caller gets 503.
 */
export class TriggerSyncUseCase {
  constructor(private readonly deps: TriggerSyncDeps) {}

  async execute(command: TriggerSyncCommand): Promise<Result<SyncRun[], AppError>> {
    const found = await findOwnedOrganization(this.deps.organizations, command.ownerId, command.organizationId);
    if (found.isErr()) return Result.err(found.unwrapErr());
    const org = found.unwrap();
    if (org.polling.length === 0) return Result.err(conflict('organization has no polling entries'));
    // A paused organization runs no poll; a paused entry is left out (all of them paused: refused).
    if (await this.deps.controls.isPaused(org.id)) return Result.err(new AppError('SYNC_PAUSED', 'The organization is paused: resume it (POST /organization/:id/resume) to sync'));
    const entries = [];
    for (const entry of org.polling) if (!(await this.deps.controls.isPaused(org.id, entry.id))) entries.push(entry);
    if (entries.length === 0) return Result.err(new AppError('SYNC_PAUSED', 'Every polling entry of the organization is paused: resume one (POST /organization/:id/resume) to sync'));
    // Counted per organization, and only for its owner (a stranger's 404 spends nothing): without
    // it, one client could make us poll any endpoint it configured as fast as it can ask.
    const allowed = this.deps.perOrganization ? await this.deps.perOrganization.consume(org.id) : Result.ok(undefined);
    if (allowed.isErr()) return Result.err(allowed.unwrapErr());
    // ...and per account, so many organizations do not multiply one account's budget.
    const withinQuota = this.deps.perOwner ? await this.deps.perOwner.consume(command.ownerId) : Result.ok(undefined);
    if (withinQuota.isErr()) return Result.err(withinQuota.unwrapErr());

    const runs: SyncRun[] = [];
    for (const entry of entries) runs.push(await this.deps.syncRuns.createQueued(org.id, entry, 'manual'));

    const jobs = runs.map((run) => jobRequest(JOBS.poll, { version: 1, organizationId: org.id, pollingId: run.pollingId, trigger: 'manual', runId: run.id } satisfies PollJob, this.deps.jobSettings));
    const queued = await Result.fromAsync(() => withinDeadline(this.deps.pollingQueue.addBulk(jobs), this.deps.enqueueTimeoutMs, 'manual poll'));
    if (queued.isErr()) {
      // The run's message is read by users: say what is down, not ioredis' words about its queue.
      const message = 'the job queue (Redis) did not accept the poll in time; nothing was polled: check Redis (REDIS_URL) and sync again';
      this.deps.logger.warn('manual sync not enqueued', { orgId: org.id, err: (queued.unwrapErr() as Error).message });
      for (const run of runs) {
        await this.deps.syncRuns.finish(run.id, { status: 'failed', counts: emptyCounts(), pages: 0, errors: [], message });
      }
      return Result.err(new AppError('SERVICE_UNAVAILABLE', 'The job queue is unavailable; try again shortly'));
    }
    return Result.ok(runs);
  }
}
