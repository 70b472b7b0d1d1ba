import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { keepStoredSecrets, type OrganizationUpdate } from './organization-body';
import type { OrgEventsPublisher } from './org-events.publisher';

/** PUT: replaces the settings of one of the caller's organizations (stored secrets kept, see keepStoredSecrets). */
export class ReplaceOrganizationUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
  ) {}

  async execute(ownerId: string, id: string, update: OrganizationUpdate): Promise<Result<Organization, AppError>> {
    const current = await this.organizations.findOwned(ownerId, id);
    if (!current) return Result.err(notFound('Organization'));
    const org = await this.organizations.replace(ownerId, id, keepStoredSecrets(update, current));
    // Deleted between the read and the write.
    if (!org) return Result.err(notFound('Organization'));
    await this.events.publish(org, 'updated', org.revision);
    return Result.ok(org);
  }
}
