import { Result } from '@sapphire/result';
import type { Organization, SyncRun } from '@music/domain';
import { AppError } from '@music/platform';
import type { SyncRunRepository } from '@music/persistence';

export interface GetSyncRunCommand {
  /** An organization the caller owns. */
  organization: Organization;
  runId: string;
}

/** `GET /organization/:id/sync-runs/:runId`: one of the organization's poll runs. */
export class GetSyncRunUseCase {
  constructor(private readonly deps: { runs: SyncRunRepository }) {}

  async execute(command: GetSyncRunCommand): Promise<Result<SyncRun, AppError>> {
    const run = await this.deps.runs.findForOrganization(command.organization.id, command.runId);
    return run ? Result.ok(run) : Result.err(new AppError('NOT_FOUND', 'Sync run not found'));
  }
}
