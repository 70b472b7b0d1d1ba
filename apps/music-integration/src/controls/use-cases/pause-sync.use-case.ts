import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import { pollingEntryOf } from '../polling-entry';
import type { OrganizationStatus, SyncControls } from '../sync-controls';

export interface PauseSyncCommand {
  /** An organization the caller owns. */
  organization: Organization;
  /** One polling entry; without it, the whole organization (polls and deliveries). */
  entryId?: string;
  reason?: string;
}

/** `POST /organization/:id/pause`: pauses the organization or one of its polling entries; the answer is its status. */
export class PauseSyncUseCase {
  constructor(private readonly deps: { controls: SyncControls }) {}

  async execute(command: PauseSyncCommand): Promise<Result<OrganizationStatus, AppError>> {
    const org = command.organization;
    const entry = pollingEntryOf(org, command.entryId);
    if (entry.isErr()) return Result.err(entry.unwrapErr());
    const entryId = entry.unwrap();
    // Pausing what is paused changes nothing (its reason and time stay; nobody is told twice).
    if (!(await this.deps.controls.isScopePaused(org.id, entryId))) await this.deps.controls.pause(org, entryId, command.reason ?? null);
    return Result.ok(await this.deps.controls.status(org));
  }
}
