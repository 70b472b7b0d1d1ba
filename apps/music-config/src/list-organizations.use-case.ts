import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';

/** The caller's organizations, oldest first. */
export class ListOrganizationsUseCase {
  constructor(private readonly organizations: OrganizationRepository) {}

  async execute(ownerId: string): Promise<Result<Organization[], AppError>> {
    return Result.ok(await this.organizations.listOwned(ownerId));
  }
}
