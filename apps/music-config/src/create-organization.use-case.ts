import { Result } from '@sapphire/result';
import type { AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { keepStoredSecrets, type OrganizationUpdate } from './organization-body';
import { pollingQuotaProblem, type OrganizationQuotaSettings, type OrganizationsPerOwner } from './organization-quotas';
import type { OrgEventsPublisher } from './org-events.publisher';
import { issueCredentials, type WrittenOrganization } from './webhook-credentials';

/** Creates an organization owned by the caller (within its quotas), issues its input webhooks' credentials, and announces it. */
export class CreateOrganizationUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
    private readonly perOwner: OrganizationsPerOwner,
    private readonly quotas: OrganizationQuotaSettings,
  ) {}

  async execute(ownerId: string, update: OrganizationUpdate): Promise<Result<WrittenOrganization, AppError>> {
    const kept = keepStoredSecrets(update, null);
    const overQuota = pollingQuotaProblem(kept, null, this.quotas);
    if (overQuota) return Result.err(overQuota);
    const { settings, revealed } = issueCredentials(kept);
    const created = await this.perOwner.withRoomFor(ownerId, () => this.organizations.create(ownerId, settings));
    if (created.isErr()) return Result.err(created.unwrapErr());
    const org = created.unwrap();
    await this.events.publish(org, 'created', org.revision);
    return Result.ok({ org, revealed });
  }
}
