import type { Queue } from 'bullmq';
import { ensureJob, JOBS, type JobSettings } from '@music/queue';

/** Queues a deleted organization's purge unless one is queued or running. */
export function queuePurge(maintenance: Queue, organizationId: string, settings: JobSettings): Promise<boolean> {
  return ensureJob(maintenance, JOBS.purgeOrganization, { version: 1, organizationId, pass: 1 }, settings);
}
