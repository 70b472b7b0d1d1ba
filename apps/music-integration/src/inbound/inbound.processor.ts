import type { Job } from 'bullmq';
import { inboundWebhookJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, type JobOutcome } from '../engine/job-outcome';
import type { SyncEngine } from '../sync-engine';

/** The `inbound` queue's `inbound-webhook` job: applies a stored input webhook call. */
export async function processInbound(job: Job, engine: SyncEngine): Promise<JobOutcome> {
  const data = inboundWebhookJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async () => complete(await engine.applyInbound(data)));
}
