import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import { pollingEntryOf } from '../polling-entry';
import type { OrganizationStatus, SyncControls } from '../sync-controls';

export interface ResumeSyncCommand {
  /** An organization the caller owns. */
  organization: Organization;
  /** One polling entry; without it, the whole organization. */
  entryId?: string;
}

/** `POST /organization/:id/resume`: resumes the organization or one of its polling entries; the answer is its status. */
export class ResumeSyncUseCase {
  constructor(private readonly deps: { controls: SyncControls }) {}

  async execute(command: ResumeSyncCommand): Promise<Result<OrganizationStatus, AppError>> {
    const org = command.organization;
    const entry = pollingEntryOf(org, command.entryId);
    if (entry.isErr()) return Result.err(entry.unwrapErr());
    await this.deps.controls.resume(org, entry.unwrap());
    return Result.ok(await this.deps.controls.status(org));
  }
}
