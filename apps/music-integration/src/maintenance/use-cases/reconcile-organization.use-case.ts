import type { Queue } from 'bullmq';
import type { OrganizationRepository } from '@music/persistence';
import type { JobSettings } from '@music/queue';
import type { OrganizationCache } from '../../engine/organization-cache';
import type { PollingSchedules } from '../../polling/polling-schedules';
import type { ConfigurationMemory } from '../configuration-memory';
import { queuePurge } from '../purge-jobs';

export interface ReconcileOrganizationDeps {
  organizations: Pick<OrganizationRepository, 'findById' | 'findDeleted'>;
  organizationCache: Pick<OrganizationCache, 'forget'>;
  schedules: Pick<PollingSchedules, 'reconcile'>;
  configuration: Pick<ConfigurationMemory, 'reconcile'>;
  maintenanceQueue: Queue;
  jobSettings: JobSettings;
}

/**
 * An organization was created, changed or deleted: its polling schedules follow its entries, and
 * its pending work follows its configuration (removed webhooks, a switch to one-way, removed
 * entries: rule 8). A deleted one gets its purge queued.
 */
export class ReconcileOrganizationUseCase {
  constructor(private readonly deps: ReconcileOrganizationDeps) {}

  async execute(organizationId: string): Promise<{ upserted: number; removed: number }> {
    this.deps.organizationCache.forget(organizationId);
    const org = await this.deps.organizations.findById(organizationId);
    const schedules = await this.deps.schedules.reconcile(organizationId, org);
    if (org) await this.deps.configuration.reconcile(org);
    else if (await this.deps.organizations.findDeleted(organizationId)) await queuePurge(this.deps.maintenanceQueue, organizationId, this.deps.jobSettings);
    return schedules;
  }
}
