import type { Job } from 'bullmq';
import { orgChangedJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, type JobOutcome } from '../engine/job-outcome';
import type { ReconcileOrganizationUseCase } from './use-cases/reconcile-organization.use-case';

/** The `org-events` queue's `org-changed` job: the organization's schedules and pending work follow its configuration. */
export async function processOrgChanged(job: Job, deps: { reconcileOrganization: ReconcileOrganizationUseCase }): Promise<JobOutcome> {
  const data = orgChangedJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async () => complete(await deps.reconcileOrganization.execute(data.organizationId)));
}
