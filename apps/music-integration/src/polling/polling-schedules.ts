import type { Queue } from 'bullmq';
import type { Organization, PollingEntry } from '@music/domain';
import { jobIds, jobRequest, JOBS, type JobSettings, type PollJob } from '@music/queue';

const UNIT_MINUTES = { minute: 1, hour: 60, day: 24 * 60 } as const;

/** Every polling entry is one BullMQ job scheduler `poll:<orgId>:<pollingId>` on the polling queue. */
export class PollingSchedules {
  constructor(
    private readonly queue: Queue,
    /** The length of a polling "minute" (60,000 ms; tests shorten it). */
    private readonly minuteMs: number,
    private readonly jobSettings: JobSettings,
  ) {}

  everyMs(entry: Pick<PollingEntry, 'interval' | 'type'>): number {
    return entry.interval * UNIT_MINUTES[entry.type] * this.minuteMs;
  }

  /** Makes the organization's schedulers match its polling entries (added, changed, removed). */
  async reconcile(organizationId: string, org: Organization | null): Promise<{ upserted: number; removed: number }> {
    const wanted = new Map((org?.polling ?? []).map((p) => [jobIds.pollScheduler(organizationId, p.id), p]));
    let removed = 0;
    for (const id of await this.schedulerIdsOf(organizationId)) {
      if (!wanted.has(id)) {
        await this.queue.removeJobScheduler(id);
        removed++;
      }
    }
    for (const [id, entry] of wanted) {
      const data: PollJob = { version: 1, organizationId, pollingId: entry.id, trigger: 'schedule' };
      // The job definition's options (attempts, backoff, removal), without its id: the scheduler names its jobs.
      const { name, opts } = jobRequest(JOBS.poll, data, this.jobSettings);
      const { jobId: _id, ...template } = opts;
      await this.queue.upsertJobScheduler(id, { every: this.everyMs(entry) }, { name, data, opts: template });
    }
    return { upserted: wanted.size, removed };
  }

  /** Reconciles every organization, and removes schedulers of organizations that no longer exist. */
  async reconcileAll(orgs: Organization[]): Promise<{ upserted: number; removed: number }> {
    const known = new Set(orgs.map((o) => o.id));
    let upserted = 0;
    let removed = 0;
    for (const org of orgs) {
      const r = await this.reconcile(org.id, org);
      upserted += r.upserted;
      removed += r.removed;
    }
    for (const id of await this.allSchedulerIds()) {
      const orgId = id.split(':')[1];
      if (orgId !== undefined && !known.has(orgId)) {
        await this.queue.removeJobScheduler(id);
        removed++;
      }
    }
    return { upserted, removed };
  }

  async remove(organizationId: string, pollingId: string): Promise<void> {
    await this.queue.removeJobScheduler(jobIds.pollScheduler(organizationId, pollingId));
  }

  private async schedulerIdsOf(organizationId: string): Promise<string[]> {
    const prefix = `poll:${organizationId}:`;
    return (await this.allSchedulerIds()).filter((id) => id.startsWith(prefix));
  }

  async allSchedulerIds(): Promise<string[]> {
    const ids: string[] = [];
    const pageSize = 500;
    for (let start = 0; ; start += pageSize) {
      const page = await this.queue.getJobSchedulers(start, start + pageSize - 1, true);
      for (const s of page) if (s.key.startsWith('poll:')) ids.push(s.key);
      if (page.length < pageSize) return ids;
    }
  }
}
