import { Result } from '@sapphire/result';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { keepStoredSecrets, mergePatch } from './organization-body';
import { pollingQuotaProblem, type OrganizationQuotaSettings } from './organization-quotas';
import type { OrgEventsPublisher } from './org-events.publisher';
import { issueCredentials, type WrittenOrganization } from './webhook-credentials';

/**
 * PATCH: the body's top-level keys replace the stored ones and the merged organization is
 * validated as a whole. Last writer wins between concurrent writes (the repository has no
 * compare-and-set on `revision`).
 */
export class PatchOrganizationUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
    private readonly quotas: OrganizationQuotaSettings,
  ) {}

  async execute(ownerId: string, id: string, patch: unknown): Promise<Result<WrittenOrganization, AppError>> {
    const current = await this.organizations.findOwned(ownerId, id);
    if (!current) return Result.err(notFound('Organization'));
    const update = mergePatch(current, patch);
    if (update.isErr()) return Result.err(update.unwrapErr());
    const kept = keepStoredSecrets(update.unwrap(), current);
    const overQuota = pollingQuotaProblem(kept, current, this.quotas);
    if (overQuota) return Result.err(overQuota);
    const { settings, revealed } = issueCredentials(kept);
    const org = await this.organizations.replace(ownerId, id, settings);
    if (!org) return Result.err(notFound('Organization'));
    await this.events.publish(org, 'updated', org.revision);
    return Result.ok({ org, revealed });
  }
}
