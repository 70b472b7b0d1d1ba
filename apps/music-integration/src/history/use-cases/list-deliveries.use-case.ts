import { Result } from '@sapphire/result';
import type { Delivery, Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { DeliveryFilter, DeliveryRepository } from '../../delivery/delivery.repository';
import { pageOf, type Page } from '../history-page';

export interface ListDeliveriesCommand {
  /** An organization the caller owns. */
  organization: Organization;
  filter: DeliveryFilter;
}

/** `GET /organization/:id/deliveries`: the organization's deliveries, newest first, a page at a time. */
export class ListDeliveriesUseCase {
  constructor(private readonly deps: { deliveries: DeliveryRepository }) {}

  async execute(command: ListDeliveriesCommand): Promise<Result<Page<Delivery>, AppError>> {
    const deliveries = await this.deps.deliveries.listForOrganization(command.organization.id, command.filter);
    return Result.ok(pageOf(deliveries, command.filter.limit, (d) => d.createdAt));
  }
}
