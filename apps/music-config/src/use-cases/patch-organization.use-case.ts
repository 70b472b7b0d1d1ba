import { Result } from '@sapphire/result';
import type { AppError } from '@music/platform';
import { mergePatch } from '../organization-body';
import type { WrittenOrganization } from '../webhook-credentials';
import { findOwnedOrganization, settingsToStore, storeSettings, type OrganizationWriteDeps } from './organization-access';

export interface PatchOrganizationCommand {
  ownerId: string;
  organizationId: string;
  /** The request body as sent: its top-level keys replace the stored ones. */
  patch: unknown;
}

/**
 * PATCH: the body's top-level keys replace the stored ones and the merged organization is
 * validated as a whole. Last writer wins between concurrent writes (the repository has no
 * compare-and-set on `revision`).
 */
export class PatchOrganizationUseCase {
  constructor(private readonly deps: OrganizationWriteDeps) {}

  async execute(command: PatchOrganizationCommand): Promise<Result<WrittenOrganization, AppError>> {
    const current = await findOwnedOrganization(this.deps.organizations, command.ownerId, command.organizationId);
    if (current.isErr()) return Result.err(current.unwrapErr());
    const stored = current.unwrap();
    const issued = mergePatch(stored, command.patch).andThen((update) => settingsToStore(update, stored, this.deps.quotas));
    if (issued.isErr()) return Result.err(issued.unwrapErr());
    return storeSettings(this.deps, stored, issued.unwrap());
  }
}
