import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { keepStoredSecrets, type OrganizationUpdate } from '../organization-body';
import type { OrgEventsPublisher } from '../org-events.publisher';
import { issueCredentials, type IssuedSettings, type WrittenOrganization } from '../webhook-credentials';
import { checkPollingQuotas, type OrganizationQuotaSettings } from './organization-quotas';

/** What the use cases that write an organization work with. */
export interface OrganizationWriteDeps {
  organizations: OrganizationRepository;
  events: OrgEventsPublisher;
  quotas: OrganizationQuotaSettings;
}

/** One of the caller's organizations; any other id is NOT_FOUND (never FORBIDDEN), so other tenants' ids look like ids that do not exist. */
export async function findOwnedOrganization(organizations: OrganizationRepository, ownerId: string, organizationId: string): Promise<Result<Organization, AppError>> {
  const org = await organizations.findOwned(ownerId, organizationId);
  return org ? Result.ok(org) : Result.err(notFound('Organization'));
}

/**
 * The settings an update read against the stored organization comes to: stored secrets kept,
 * polling quotas checked, input webhooks' credentials issued.
 */
export function settingsToStore(update: OrganizationUpdate, stored: Organization | null, quotas: OrganizationQuotaSettings): Result<IssuedSettings, AppError> {
  const kept = keepStoredSecrets(update, stored);
  return checkPollingQuotas(kept, stored, quotas).map(() => issueCredentials(kept));
}

/** Stores new settings of an existing organization and announces the change. */
export async function storeSettings(deps: Pick<OrganizationWriteDeps, 'organizations' | 'events'>, current: Organization, issued: IssuedSettings): Promise<Result<WrittenOrganization, AppError>> {
  const org = await deps.organizations.replace(current.ownerId, current.id, issued.settings);
  // Deleted between the read and the write.
  if (!org) return Result.err(notFound('Organization'));
  await deps.events.publish(org, 'updated', org.revision);
  return Result.ok({ org, revealed: issued.revealed });
}
