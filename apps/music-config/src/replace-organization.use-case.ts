import { Result } from '@sapphire/result';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { keepStoredSecrets, parseOrganizationBody } from './organization-body';
import { pollingQuotaProblem, type OrganizationQuotaSettings } from './organization-quotas';
import type { OrgEventsPublisher } from './org-events.publisher';
import { issueCredentials, type WrittenOrganization } from './webhook-credentials';

/**
 * PUT: replaces the settings of one of the caller's organizations. The body is read against the
 * stored organization: masked URLs and credential hints GET showed stand for the stored values,
 * and stored secrets are kept (see keepStoredSecrets).
 */
export class ReplaceOrganizationUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
    private readonly quotas: OrganizationQuotaSettings,
  ) {}

  async execute(ownerId: string, id: string, body: unknown): Promise<Result<WrittenOrganization, AppError>> {
    const current = await this.organizations.findOwned(ownerId, id);
    if (!current) return Result.err(notFound('Organization'));
    const update = parseOrganizationBody(body, current);
    if (update.isErr()) return Result.err(update.unwrapErr());
    const kept = keepStoredSecrets(update.unwrap(), current);
    const overQuota = pollingQuotaProblem(kept, current, this.quotas);
    if (overQuota) return Result.err(overQuota);
    const { settings, revealed } = issueCredentials(kept);
    const org = await this.organizations.replace(ownerId, id, settings);
    // Deleted between the read and the write.
    if (!org) return Result.err(notFound('Organization'));
    await this.events.publish(org, 'updated', org.revision);
    return Result.ok({ org, revealed });
  }
}
