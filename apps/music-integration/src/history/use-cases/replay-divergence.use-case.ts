import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import type { ItemState, Organization } from '@music/domain';
import { AppError, currentContext } from '@music/platform';
import { ensureJob, JOBS, type JobSettings } from '@music/queue';
import type { SyncState } from '@music/sync-state';

export interface ReplayDivergenceCommand {
  /** An organization the caller owns. */
  organization: Organization;
  externalId: string;
}

/** What `POST /organization/:id/divergences/:externalId/replay` answers. */
export interface DivergenceReplaying {
  externalId: string;
  state: ItemState;
  /** The ids of the deliveries sent again. */
  deliveries: string[];
}

/**
 * The owner replays a divergence (rule 5): its failed deliveries are sent again (same `webhook-id`),
 * each as a new `deliver` job.
 */
export class ReplayDivergenceUseCase {
  constructor(private readonly deps: { sync: Pick<SyncState, 'divergences'>; outputQueue: Queue; jobSettings: JobSettings }) {}

  async execute(command: ReplayDivergenceCommand): Promise<Result<DivergenceReplaying, AppError>> {
    const org = command.organization;
    const outcome = await this.deps.sync.divergences.replay(org, command.externalId);
    switch (outcome.kind) {
      case 'replaying': {
        // The failed jobs are still kept under the same ids: replaced by new ones, with every attempt.
        // A replay is caused by this request: the delivery lines carry its id.
        const { requestId } = currentContext();
        for (const d of outcome.deliveries) {
          await ensureJob(this.deps.outputQueue, JOBS.deliver, { version: 1, organizationId: org.id, deliveryId: d.id, externalId: d.externalId, ...(requestId ? { requestId } : {}) }, this.deps.jobSettings);
        }
        return Result.ok({ externalId: outcome.applied.target.externalId, state: outcome.applied.transition.to, deliveries: outcome.deliveries.map((d) => d.id) });
      }
      case 'nothing-to-replay':
        return Result.err(new AppError('CONFLICT', 'No failed delivery of this item can be sent again (its output webhooks were removed, or the organization is one-way); accept the remote version instead'));
      case 'not-diverged':
      case 'resolved':
        return Result.err(new AppError('NOT_FOUND', 'No divergence for this externalId'));
      default: {
        const unreachable: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
