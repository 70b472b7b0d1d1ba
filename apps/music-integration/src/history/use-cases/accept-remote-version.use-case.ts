import { Result } from '@sapphire/result';
import type { ItemState, Organization } from '@music/domain';
import { AppError } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { ConfigurationMemory } from '../../maintenance/configuration-memory';

export interface AcceptRemoteVersionCommand {
  /** An organization the caller owns. */
  organization: Organization;
  externalId: string;
}

/** What `POST /organization/:id/divergences/:externalId/accept-remote` answers: the item as it is now (null data: deleted). */
export interface RemoteVersionAccepted {
  externalId: string;
  state: ItemState;
  data: Record<string, unknown> | null;
}

/** The owner ends a divergence (rule 5) by taking the third party's version of the item. */
export class AcceptRemoteVersionUseCase {
  constructor(private readonly deps: { sync: Pick<SyncState, 'divergences'>; configuration: Pick<ConfigurationMemory, 'afterWriteMade'> }) {}

  async execute(command: AcceptRemoteVersionCommand): Promise<Result<RemoteVersionAccepted, AppError>> {
    const { organization } = command;
    const outcome = await this.deps.sync.divergences.acceptRemote(organization, command.externalId);
    if (outcome.kind !== 'resolved') return Result.err(new AppError('NOT_FOUND', 'No divergence for this externalId'));
    // Kept ours (rows 23, 31), the item is now listed by every entry of the organization as this
    // request read it, without the item's send lease: the reconciliation of an entry removed since
    // did not wait for this write, and the entry would keep the item from the other entries'
    // deletion passes (rule 6). The configuration is applied again then (Maintenance). The accept
    // is made: a failure there is left to the periodic pass, never answered as the accept's.
    await this.deps.configuration.afterWriteMade(organization.id, organization.revision, organization.polling.map((p) => p.id), { externalId: command.externalId });
    const after = outcome.applied.after;
    return Result.ok({ externalId: outcome.applied.target.externalId, state: outcome.applied.transition.to, data: after && !after.deleted ? after.data : null });
  }
}
