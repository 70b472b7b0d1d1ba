import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { keepStoredSecrets, mergePatch } from './organization-body';
import type { OrgEventsPublisher } from './org-events.publisher';

/**
 * PATCH: the body's top-level keys replace the stored ones and the merged organization is
 * validated as a whole. Last writer wins between concurrent writes (the repository has no
 * compare-and-set on `revision`).
 */
export class PatchOrganizationUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
  ) {}

  async execute(ownerId: string, id: string, patch: unknown): Promise<Result<Organization, AppError>> {
    const current = await this.organizations.findOwned(ownerId, id);
    if (!current) return Result.err(notFound('Organization'));
    const update = mergePatch(current, patch);
    if (update.isErr()) return Result.err(update.unwrapErr());
    const org = await this.organizations.replace(ownerId, id, keepStoredSecrets(update.unwrap(), current));
    if (!org) return Result.err(notFound('Organization'));
    await this.events.publish(org, 'updated', org.revision);
    return Result.ok(org);
  }
}
