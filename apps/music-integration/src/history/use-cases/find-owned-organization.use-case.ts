import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import { addToContext, AppError } from '@music/platform';

export interface FindOwnedOrganizationCommand {
  ownerId: string;
  organizationId: string;
}

/**
 * The organization of an `/organization/:id/...` route if the caller owns it; NOT_FOUND otherwise,
 * whoever owns it, so other tenants' ids look like ids that do not exist. The other use cases of
 * these routes take the organization it found.
 */
export class FindOwnedOrganizationUseCase {
  constructor(private readonly deps: { organizations: OrganizationRepository }) {}

  async execute(command: FindOwnedOrganizationCommand): Promise<Result<Organization, AppError>> {
    const org = await this.deps.organizations.findOwned(command.ownerId, command.organizationId);
    if (!org) return Result.err(new AppError('NOT_FOUND', 'Organization not found'));
    // The request's log lines name the organization from here on.
    addToContext({ orgId: org.id });
    return Result.ok(org);
  }
}
