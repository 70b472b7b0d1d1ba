import type { Job } from 'bullmq';
import { pollJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, inSlot, waitFor, type JobOutcome } from '../engine/job-outcome';
import type { OrganizationSlots } from '../engine/organization-slots';
import type { PollingSchedules } from './polling-schedules';
import type { RunPollUseCase } from './use-cases/run-poll.use-case';

export interface PollProcessorDeps {
  slots: Pick<OrganizationSlots, 'acquire'>;
  schedules: Pick<PollingSchedules, 'remove'>;
  runPoll: Pick<RunPollUseCase, 'execute'>;
}

/** The `polling` queue's `poll` job: one run of an organization's polling entry, within its poll slots. */
export async function processPoll(job: Job, deps: PollProcessorDeps): Promise<JobOutcome> {
  const data = pollJobSchema.parse(job.data);
  return inSlot(deps.slots, 'poll', data.organizationId, job, () =>
    withContext({ orgId: data.organizationId, jobId: job.id }, async (): Promise<JobOutcome> => {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const result = await deps.runPoll.execute({
        job: data,
        ensureRunId: async (runId) => {
          if (data.runId !== runId) await job.updateData({ ...data, runId });
        },
        lastAttempt,
      });
      if (result.isErr()) return { kind: 'retry', message: result.unwrapErr().message };
      const outcome = result.unwrap();
      switch (outcome.kind) {
        case 'paused':
          return complete({ paused: true });
        case 'stale':
          await deps.schedules.remove(data.organizationId, data.pollingId).catch(() => undefined);
          return complete({ stale: true });
        case 'busy':
          // A manual run waits for the run in progress rather than being skipped: a person asked
          // for a poll that starts after their request.
          return waitFor(1000);
        case 'done':
          return complete({ runId: outcome.runId, status: outcome.status, counts: outcome.counts });
      }
    }),
  );
}
