import type { Queue } from 'bullmq';
import type { Organization } from '@music/domain';
import { withinDeadline, type Logger } from '@music/platform';
import { JOB_NAMES, jobIds, type OrgChangedJob } from '@music/queue';

export type OrgChangeKind = OrgChangedJob['kind'];

/**
 * Tells the integration app an organization changed (it re-registers the polling schedules).
 * Best effort: a failure is logged and swallowed, because the database already holds the change
 * and the integration app reconciles schedules from it at start-up and periodically.
 */
export class OrgEventsPublisher {
  constructor(
    private readonly queue: Queue<OrgChangedJob>,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  async publish(org: Pick<Organization, 'id'>, kind: OrgChangeKind, revision: number): Promise<void> {
    const job: OrgChangedJob = { version: 1, organizationId: org.id, kind, revision };
    const jobId = jobIds.orgChanged(org.id, revision, kind);
    try {
      await withinDeadline(this.queue.add(JOB_NAMES.orgChanged, job, { jobId }), this.timeoutMs, 'org-changed');
    } catch (error) {
      this.logger.warn('org-changed event not enqueued; schedules catch up at the next reconciliation', {
        orgId: org.id,
        kind,
        revision,
        err: (error as Error).message,
      });
    }
  }
}
