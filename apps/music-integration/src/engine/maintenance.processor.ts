import type { Job } from 'bullmq';
import { JOBS, purgeOrganizationJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, waitFor, type JobOutcome } from './job-outcome';
import type { SyncEngine } from '../sync-engine';

/**
 * The `maintenance` queue: `purge-organization` (one pass of a deleted organization's purge; the
 * same job runs its next pass `recheckMs` later, so work in flight when the organization was
 * deleted lands meanwhile) or `sweep-outbox` (lost work re-queued, periodic reconciliation).
 */
export async function processMaintenance(job: Job, engine: SyncEngine, recheckMs: number): Promise<JobOutcome> {
  if (job.name !== JOBS.purgeOrganization.name) return complete(await engine.sweep());
  const data = purgeOrganizationJobSchema.parse(job.data);
  return withContext({ orgId: data.organizationId, jobId: job.id }, async () => {
    const pass = await engine.purgeOrganization(data);
    if (pass.done) return complete(pass);
    await job.updateData({ ...data, pass: data.pass + 1 });
    return waitFor(recheckMs);
  });
}
