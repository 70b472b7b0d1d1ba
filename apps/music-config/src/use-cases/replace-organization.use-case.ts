import { Result } from '@sapphire/result';
import type { AppError } from '@music/platform';
import { parseOrganizationBody } from '../organization-body';
import type { WrittenOrganization } from '../webhook-credentials';
import { findOwnedOrganization, settingsToStore, storeSettings, type OrganizationWriteDeps } from './organization-access';

export interface ReplaceOrganizationCommand {
  ownerId: string;
  organizationId: string;
  /** The request body as sent: it is read against the stored organization. */
  body: unknown;
}

/**
 * PUT: replaces the settings of one of the caller's organizations. The body is read against the
 * stored organization: masked URLs and credential hints GET showed stand for the stored values,
 * and stored secrets are kept (see keepStoredSecrets). Last writer wins between concurrent writes
 * (the repository has no compare-and-set on `revision`).
 */
export class ReplaceOrganizationUseCase {
  constructor(private readonly deps: OrganizationWriteDeps) {}

  async execute(command: ReplaceOrganizationCommand): Promise<Result<WrittenOrganization, AppError>> {
    const current = await findOwnedOrganization(this.deps.organizations, command.ownerId, command.organizationId);
    if (current.isErr()) return Result.err(current.unwrapErr());
    const stored = current.unwrap();
    const issued = parseOrganizationBody(command.body, stored).andThen((update) => settingsToStore(update, stored, this.deps.quotas));
    if (issued.isErr()) return Result.err(issued.unwrapErr());
    return storeSettings(this.deps, stored, issued.unwrap());
  }
}
