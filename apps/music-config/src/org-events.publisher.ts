import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { withinDeadline, type Logger } from '@music/platform';
import { addJob, JOBS, type JobSettings, type OrgChangedJob, type PurgeOrganizationJob } from '@music/queue';

export type OrgChangeKind = OrgChangedJob['kind'];

/**
 * Tells the integration app an organization changed (its schedules and pending work follow the new
 * configuration), and queues the purge of a deleted one. Best effort: a failure is logged and
 * swallowed, because the database already holds the change and the integration app reconciles
 * from it periodically (and queues unfinished purges from the organizations marked deleted).
 */
export class OrgEventsPublisher {
  constructor(
    private readonly queues: { orgEvents: Queue<OrgChangedJob>; maintenance?: Queue<PurgeOrganizationJob> },
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    private readonly jobSettings: JobSettings,
  ) {}

  async publish(org: Pick<Organization, 'id'>, kind: OrgChangeKind, revision: number): Promise<void> {
    await this.add('org-changed', { orgId: org.id, kind, revision }, () =>
      addJob(this.queues.orgEvents as Queue, JOBS.orgChanged, { version: 1, organizationId: org.id, kind, revision }, this.jobSettings),
    );
  }

  async schedulePurge(org: Pick<Organization, 'id'>): Promise<void> {
    const queue = this.queues.maintenance;
    // Without a queue here, the integration app's sweeper queues it from the organization marked deleted.
    if (!queue) return;
    await this.add('purge', { orgId: org.id }, () => addJob(queue as Queue, JOBS.purgeOrganization, { version: 1, organizationId: org.id, pass: 1 }, this.jobSettings));
  }

  private async add(what: string, context: Record<string, unknown>, add: () => Promise<void>): Promise<void> {
    const added = add();
    // Past the deadline nobody awaits it: its late failure must not go unhandled.
    added.catch(() => undefined);
    const enqueued = await Result.fromAsync(() => withinDeadline(added, this.timeoutMs, what));
    if (enqueued.isErr()) {
      this.logger.warn(`${what} job not enqueued; the integration app catches up from the database`, { ...context, err: (enqueued.unwrapErr() as Error).message });
    }
  }
}
