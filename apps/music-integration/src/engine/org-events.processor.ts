import type { Job } from 'bullmq';
import { orgChangedJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, type JobOutcome } from './job-outcome';
import type { SyncEngine } from '../sync-engine';

/** The `org-events` queue's `org-changed` job: the organization's schedules and pending work follow its configuration. */
export async function processOrgChanged(job: Job, engine: SyncEngine): Promise<JobOutcome> {
  const data = orgChangedJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async () => complete(await engine.reconcileOrganization(data.organizationId)));
}
