import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';

export interface ListOrganizationsCommand {
  ownerId: string;
}

/** The caller's organizations, oldest first. */
export class ListOrganizationsUseCase {
  constructor(private readonly deps: { organizations: OrganizationRepository }) {}

  async execute(command: ListOrganizationsCommand): Promise<Result<Organization[], AppError>> {
    return Result.ok(await this.deps.organizations.listOwned(command.ownerId));
  }
}
