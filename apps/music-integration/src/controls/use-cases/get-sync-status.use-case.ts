import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { OrganizationStatus, SyncControls } from '../sync-controls';

export interface GetSyncStatusCommand {
  /** An organization the caller owns. */
  organization: Organization;
}

/** `GET /organization/:id/status`: what is paused (and why), and how the organization's sync is doing. */
export class GetSyncStatusUseCase {
  constructor(private readonly deps: { controls: SyncControls }) {}

  async execute(command: GetSyncStatusCommand): Promise<Result<OrganizationStatus, AppError>> {
    return Result.ok(await this.deps.controls.status(command.organization));
  }
}
