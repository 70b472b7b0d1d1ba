import type { Job } from 'bullmq';
import { notifyJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, type JobOutcome } from '../engine/job-outcome';
import type { SyncEngine } from '../sync-engine';

/** The `notifications` queue's `notify` job: one event sent to one notification webhook. */
export async function processNotify(job: Job, engine: SyncEngine): Promise<JobOutcome> {
  const data = notifyJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async (): Promise<JobOutcome> => {
    const outcome = await engine.notify(data);
    if (outcome.kind === 'retry') return { kind: 'retry', message: outcome.message };
    if (outcome.kind === 'failed') return { kind: 'fail', message: outcome.message };
    return complete(outcome);
  });
}
