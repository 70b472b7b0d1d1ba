import { Result } from '@sapphire/result';
import type { Organization, SyncRun } from '@music/domain';
import type { AppError } from '@music/platform';
import type { SyncRunFilter, SyncRunRepository } from '@music/persistence';
import { pageOf, type Page } from '../history-page';

export interface ListSyncRunsCommand {
  /** An organization the caller owns. */
  organization: Organization;
  filter: SyncRunFilter;
}

/** `GET /organization/:id/sync-runs`: the organization's poll runs, newest first, a page at a time. */
export class ListSyncRunsUseCase {
  constructor(private readonly deps: { runs: SyncRunRepository }) {}

  async execute(command: ListSyncRunsCommand): Promise<Result<Page<SyncRun>, AppError>> {
    const runs = await this.deps.runs.listForOrganization(command.organization.id, command.filter);
    return Result.ok(pageOf(runs, command.filter.limit, (r) => r.queuedAt));
  }
}
