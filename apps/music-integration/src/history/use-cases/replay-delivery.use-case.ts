import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { webhookTakes, type Delivery, type Organization } from '@music/domain';
import { AppError, currentContext } from '@music/platform';
import { ensureJob, JOBS, type JobSettings } from '@music/queue';
import type { SyncState } from '@music/sync-state';
import type { DeliveryRepository } from '../../delivery/delivery.repository';

export interface ReplayDeliveryDeps {
  deliveries: DeliveryRepository;
  /** The one writer of item state. */
  sync: Pick<SyncState, 'items' | 'outbound'>;
  outputQueue: Queue;
  jobSettings: JobSettings;
}

export interface ReplayDeliveryCommand {
  /** An organization the caller owns. */
  organization: Organization;
  deliveryId: string;
}

/**
 * `POST /organization/:id/deliveries/:deliveryId/replay`: sends a finished delivery again, with the
 * same `webhook-id` (so a receiver that already has it can drop it), to its webhook's current URL.
 * Refused when a newer change of the item exists (replaying would send an older state) or when its
 * webhook no longer takes it. The answer is the delivery, pending again.
 */
export class ReplayDeliveryUseCase {
  constructor(private readonly deps: ReplayDeliveryDeps) {}

  async execute(command: ReplayDeliveryCommand): Promise<Result<Delivery, AppError>> {
    const { deps } = this;
    const org = command.organization;
    const delivery = await deps.deliveries.findForOrganization(org.id, command.deliveryId);
    if (!delivery) return Result.err(new AppError('NOT_FOUND', 'Delivery not found'));
    if (delivery.status === 'pending') return Result.err(new AppError('CONFLICT', 'Delivery is still pending'));
    const item = await deps.sync.items.read(delivery.itemId);
    if (!item || item.version !== delivery.version || item.pendingEvent !== null) {
      return Result.err(new AppError('CONFLICT', 'A newer change of this item was delivered or is pending; replaying would send an older state'));
    }
    // Same version, but the item no longer holds what the delivery carried: the third party's own
    // version was applied since (a poll, an input webhook, an accepted remote version: none raises
    // the version), or the item was deleted or revived that way.
    if (item.origin !== 'local' || item.deleted !== (delivery.op === 'delete')) {
      return Result.err(new AppError('CONFLICT', "The third party's version of this item was applied since; replaying would send an older state"));
    }
    const webhook = org.webhooks.find((w) => w.id === delivery.webhookId);
    if (org.synchronization !== 'two-way' || !webhook || !webhookTakes(webhook, delivery.op)) {
      return Result.err(new AppError('CONFLICT', 'The output webhook of this delivery was removed (or the organization is one-way); there is nowhere to send it'));
    }
    if (!(await deps.sync.outbound.replay(item, [delivery]))) return Result.err(new AppError('CONFLICT', 'The item changed meanwhile; read it again'));
    // A replay is caused by this request: its delivery lines carry this request's id.
    const { requestId } = currentContext();
    await ensureJob(deps.outputQueue, JOBS.deliver, { version: 1, organizationId: org.id, deliveryId: delivery.id, externalId: delivery.externalId, ...(requestId ? { requestId } : {}) }, deps.jobSettings);
    return Result.ok({ ...delivery, status: 'pending' });
  }
}
