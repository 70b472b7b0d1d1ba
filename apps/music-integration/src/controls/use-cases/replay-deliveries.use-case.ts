import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { DeliveryRepository } from '../../delivery/delivery.repository';
import type { ReplayDeliveryUseCase } from '../../history/use-cases/replay-delivery.use-case';

export interface ReplayDeliveriesCommand {
  /** An organization the caller owns. */
  organization: Organization;
  /** `failed`: every delivery that gave up; `dead_lettered`: only those that ran out of attempts. */
  status: 'dead_lettered' | 'failed';
  webhookId?: string;
  externalId?: string;
  since?: Date;
  until?: Date;
  limit: number;
}

/** What `POST /organization/:id/deliveries/replay` answers. */
export interface DeliveriesReplayed {
  replayed: number;
  skipped: number;
}

/**
 * `POST /organization/:id/deliveries/replay`: sends the organization's matching finished deliveries
 * again, oldest first, each by the single replay's rules (a newer change of the item, or a removed
 * webhook: skipped).
 */
export class ReplayDeliveriesUseCase {
  constructor(private readonly deps: { deliveries: DeliveryRepository; replayDelivery: ReplayDeliveryUseCase }) {}

  async execute(command: ReplayDeliveriesCommand): Promise<Result<DeliveriesReplayed, AppError>> {
    const { organization, status, limit, ...filter } = command;
    const matching = await this.deps.deliveries.listForOrganization(organization.id, { ...filter, status: 'failed', ...(status === 'dead_lettered' ? { deadLettered: true } : {}), limit });
    let replayed = 0;
    let skipped = 0;
    for (const delivery of matching.reverse()) {
      const outcome = await this.deps.replayDelivery.execute({ organization, deliveryId: delivery.id });
      if (outcome.isOk()) replayed++;
      else skipped++;
    }
    return Result.ok({ replayed, skipped });
  }
}
