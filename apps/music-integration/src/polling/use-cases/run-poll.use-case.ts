import { Result } from '@sapphire/result';
import { emptyCounts } from '@music/domain';
import type { OrganizationRepository, SyncRunRepository } from '@music/persistence';
import type { PollJob } from '@music/queue';
import type { SyncControls } from '../../controls/sync-controls';
import type { SyncMetrics } from '../../engine/sync-metrics';
import type { PollRun, PollRunOutcome } from '../poll-run';

export interface RunPollDeps {
  organizations: Pick<OrganizationRepository, 'findById'>;
  runs: Pick<SyncRunRepository, 'finish'>;
  controls: Pick<SyncControls, 'isPollPaused' | 'runEnded'>;
  pollRun: Pick<PollRun, 'execute'>;
  metrics: SyncMetrics | null;
}

export interface RunPollCommand {
  job: PollJob;
  /** Called with the run's id once it has one (the job keeps it for its next attempts). */
  ensureRunId: (runId: string) => Promise<void>;
  /** A transient failure now is the run's end. */
  lastAttempt: boolean;
}

/** How an attempt ended short of a transient failure: the run's outcome, or nothing run while paused. */
export type RunPollOutcome = Exclude<PollRunOutcome, { kind: 'retry' }> | { kind: 'paused' };
/** A transient failure: the job retries (the run ends `failed` when it was the last attempt). */
export type PollRetry = Extract<PollRunOutcome, { kind: 'retry' }>;

/**
 * One attempt of a poll job: nothing runs while the organization or the entry is paused (a
 * queued manual run is marked skipped); the run's end counts towards the auto-pause.
 */
export class RunPollUseCase {
  constructor(private readonly deps: RunPollDeps) {}

  async execute(command: RunPollCommand): Promise<Result<RunPollOutcome, PollRetry>> {
    const { job, ensureRunId, lastAttempt } = command;
    if (await this.deps.controls.isPollPaused(job.organizationId, job.pollingId)) {
      if (job.runId) await this.deps.runs.finish(job.runId, { status: 'skipped', counts: emptyCounts(), pages: 0, errors: [], message: 'the organization or this polling entry is paused' });
      return Result.ok({ kind: 'paused' });
    }
    const started = performance.now();
    const outcome = await this.deps.pollRun.execute(job, ensureRunId);
    const ended = outcome.kind === 'done' ? outcome.status : outcome.kind === 'retry' && lastAttempt ? ('failed' as const) : null;
    if (outcome.kind === 'done' || outcome.kind === 'retry') this.deps.metrics?.pollRunDuration((performance.now() - started) / 1000, ended ?? 'failed');
    if (ended !== null && (outcome.kind === 'done' || outcome.kind === 'retry')) {
      const org = await this.deps.organizations.findById(job.organizationId);
      if (org) await this.deps.controls.runEnded(org, job.pollingId, outcome.runId, ended);
    }
    return outcome.kind === 'retry' ? Result.err(outcome) : Result.ok(outcome);
  }
}
