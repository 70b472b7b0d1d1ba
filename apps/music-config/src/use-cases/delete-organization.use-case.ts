import { Result } from '@sapphire/result';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationWriteDeps } from './organization-access';

export interface DeleteOrganizationCommand {
  ownerId: string;
  organizationId: string;
}

/** What `DELETE /organization/:id` answers: the organization is gone from every API; its data goes by a durable job. */
export interface OrganizationDeleted {
  id: string;
  deleted: true;
  cleanup: 'scheduled';
}

/**
 * Deletes one of the caller's organizations: hidden from every API at once, then its schedules,
 * pending work, items, deliveries, runs and inbound messages are removed by a purge job. The job is
 * durable: the organization stays marked deleted until its purge finishes, and the integration
 * app's sweeper queues the purge again if the job was lost (Redis down now, or restarted later).
 */
export class DeleteOrganizationUseCase {
  constructor(private readonly deps: Pick<OrganizationWriteDeps, 'organizations' | 'events'>) {}

  async execute(command: DeleteOrganizationCommand): Promise<Result<OrganizationDeleted, AppError>> {
    const org = await this.deps.organizations.markDeleted(command.ownerId, command.organizationId);
    if (!org) return Result.err(notFound('Organization'));
    // A deletion is one more change (markDeleted bumped the revision): a consumer that skips
    // revisions it has already seen never skips the delete.
    await this.deps.events.publish(org, 'deleted', org.revision);
    await this.deps.events.schedulePurge(org);
    return Result.ok({ id: org.id, deleted: true, cleanup: 'scheduled' });
  }
}
