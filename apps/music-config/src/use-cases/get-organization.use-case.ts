import type { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { findOwnedOrganization } from './organization-access';

export interface GetOrganizationCommand {
  ownerId: string;
  organizationId: string;
}

/** One of the caller's organizations; any other id is NOT_FOUND (never FORBIDDEN). */
export class GetOrganizationUseCase {
  constructor(private readonly deps: { organizations: OrganizationRepository }) {}

  execute(command: GetOrganizationCommand): Promise<Result<Organization, AppError>> {
    return findOwnedOrganization(this.deps.organizations, command.ownerId, command.organizationId);
  }
}
