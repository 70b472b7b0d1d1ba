import type { Job } from 'bullmq';
import { inboundWebhookJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, type JobOutcome } from '../engine/job-outcome';
import type { ApplyInboundWebhookUseCase } from './use-cases/apply-inbound-webhook.use-case';

/** The `inbound` queue's `inbound-webhook` job: applies a stored input webhook call. */
export async function processInbound(job: Job, deps: { applyInbound: Pick<ApplyInboundWebhookUseCase, 'execute'> }): Promise<JobOutcome> {
  const data = inboundWebhookJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async (): Promise<JobOutcome> => {
    const result = await deps.applyInbound.execute(data);
    return result.isOk() ? complete(result.unwrap()) : { kind: 'retry', message: result.unwrapErr().message };
  });
}
