import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import type { OrgEventsPublisher } from './org-events.publisher';

/** Deletes one of the caller's organizations and announces it. */
export class DeleteOrganizationUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
  ) {}

  async execute(ownerId: string, id: string): Promise<Result<Organization, AppError>> {
    const org = await this.organizations.deleteOwned(ownerId, id);
    if (!org) return Result.err(notFound('Organization'));
    // A deletion is one more change: its revision is above every earlier event's, so a consumer
    // that skips revisions it has already seen never skips the delete.
    await this.events.publish(org, 'deleted', org.revision + 1);
    return Result.ok(org);
  }
}
