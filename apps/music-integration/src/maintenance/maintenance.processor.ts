import type { Job } from 'bullmq';
import { JOBS, purgeOrganizationJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, waitFor, type JobOutcome } from '../engine/job-outcome';
import type { PurgeOrganizationUseCase } from './use-cases/purge-organization.use-case';
import type { SweepLostWorkUseCase } from './use-cases/sweep-lost-work.use-case';

export interface MaintenanceProcessorDeps {
  sweepLostWork: SweepLostWorkUseCase;
  purgeOrganization: PurgeOrganizationUseCase;
  /** PURGE_RECHECK_MS */
  recheckMs: number;
}

/**
 * The `maintenance` queue: `purge-organization` (one pass of a deleted organization's purge; the
 * same job runs its next pass `recheckMs` later, so work in flight when the organization was
 * deleted lands meanwhile) or `sweep-outbox` (lost work re-queued, periodic reconciliation).
 */
export async function processMaintenance(job: Job, deps: MaintenanceProcessorDeps): Promise<JobOutcome> {
  if (job.name !== JOBS.purgeOrganization.name) return complete(await deps.sweepLostWork.execute());
  const data = purgeOrganizationJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async () => {
    const pass = await deps.purgeOrganization.execute(data);
    if (pass.done) return complete(pass);
    await job.updateData({ ...data, pass: data.pass + 1 });
    return waitFor(deps.recheckMs);
  });
}
