import type { Queue } from 'bullmq';
import type { OrganizationRepository, SyncControlRepository, SyncRunRepository } from '@music/persistence';
import { JOBS, type PurgeOrganizationJob } from '@music/queue';
import type { Logger, RedisLocks } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import { pollLeaseName } from '../../polling/poll-run';
import type { PollingSchedules } from '../../polling/polling-schedules';

/** What one pass of an organization's purge did; `done` once the organization itself is gone. */
export interface PurgePass {
  removed: number;
  done: boolean;
}

export interface PurgeOrganizationDeps {
  organizations: Pick<OrganizationRepository, 'findDeleted' | 'removeDeleted'>;
  schedules: Pick<PollingSchedules, 'reconcile'>;
  locks: Pick<RedisLocks, 'revoke'>;
  sync: Pick<SyncState, 'outbound' | 'maintenance'>;
  outputQueue: Queue;
  runs: Pick<SyncRunRepository, 'deleteForOrganization'>;
  syncControls: Pick<SyncControlRepository, 'deleteForOrganization'>;
  logger: Logger;
}

/**
 * One pass of a deleted organization's purge: its schedules removed, its running polls' leases
 * revoked (they stop before their next write), its pending delivery jobs removed, then its items,
 * deliveries, inbound messages, poll memory, runs and controls deleted. The job repeats after PURGE_RECHECK_MS until a
 * pass after the first finds nothing left (work in flight when it was deleted lands meanwhile);
 * then the organization itself is removed.
 */
export class PurgeOrganizationUseCase {
  constructor(private readonly deps: PurgeOrganizationDeps) {}

  async execute(job: PurgeOrganizationJob): Promise<PurgePass> {
    const deps = this.deps;
    const org = await deps.organizations.findDeleted(job.organizationId);
    if (!org) return { removed: 0, done: true };
    await deps.schedules.reconcile(org.id, null);
    for (const entry of org.polling) await deps.locks.revoke(pollLeaseName(org.id, entry.id));
    for (const d of await deps.sync.outbound.listPending(org.id)) {
      const queued = await deps.outputQueue.getJob(JOBS.deliver.jobId({ version: 1, organizationId: org.id, deliveryId: d.id }));
      await queued?.remove().catch(() => undefined);
    }
    const purged = await deps.sync.maintenance.purgeOrganization(org.id);
    const runs = await deps.runs.deleteForOrganization(org.id);
    const controls = await deps.syncControls.deleteForOrganization(org.id);
    // Poll memory and controls count too: a poll under way may still write them (each writer removes
    // what it creates for an organization not live, docs/sync-model.md "Deleting an organization").
    const removed = purged.items + purged.deliveries + purged.inboundMessages + purged.pollMemory + runs + controls;
    deps.logger.info('organization purge pass', { orgId: org.id, pass: job.pass, ...purged, runs, controls });
    if (job.pass > 1 && removed === 0) {
      await deps.organizations.removeDeleted(org.id);
      deps.logger.info('organization purged', { orgId: org.id });
      return { removed, done: true };
    }
    return { removed, done: false };
  }
}
