import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';

/** One of the caller's organizations; any other id is NOT_FOUND (never FORBIDDEN). */
export class GetOrganizationUseCase {
  constructor(private readonly organizations: OrganizationRepository) {}

  async execute(ownerId: string, id: string): Promise<Result<Organization, AppError>> {
    const org = await this.organizations.findOwned(ownerId, id);
    return org ? Result.ok(org) : Result.err(notFound('Organization'));
  }
}
