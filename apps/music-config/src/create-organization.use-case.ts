import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { keepStoredSecrets, type OrganizationUpdate } from './organization-body';
import type { OrgEventsPublisher } from './org-events.publisher';

/** Creates an organization owned by the caller and announces it. */
export class CreateOrganizationUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
  ) {}

  async execute(ownerId: string, update: OrganizationUpdate): Promise<Result<Organization, AppError>> {
    const org = await this.organizations.create(ownerId, keepStoredSecrets(update, null));
    await this.events.publish(org, 'created', org.revision);
    return Result.ok(org);
  }
}
