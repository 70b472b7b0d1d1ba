import type { Job } from 'bullmq';
import { notifyJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, type JobOutcome } from '../engine/job-outcome';
import type { SendNotificationUseCase } from './use-cases/send-notification.use-case';

/** The `notifications` queue's `notify` job: one event sent to one notification webhook. */
export async function processNotify(job: Job, deps: { sendNotification: Pick<SendNotificationUseCase, 'execute'> }): Promise<JobOutcome> {
  const data = notifyJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async (): Promise<JobOutcome> => {
    const result = await deps.sendNotification.execute(data);
    if (result.isOk()) return complete(result.unwrap());
    const failure = result.unwrapErr();
    return failure.kind === 'retry' ? { kind: 'retry', message: failure.message } : { kind: 'fail', message: failure.message };
  });
}
