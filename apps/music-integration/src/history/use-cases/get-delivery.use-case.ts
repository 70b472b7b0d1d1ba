import { Result } from '@sapphire/result';
import type { Delivery, Organization } from '@music/domain';
import { AppError } from '@music/platform';
import type { DeliveryRepository } from '../../delivery/delivery.repository';

export interface GetDeliveryCommand {
  /** An organization the caller owns. */
  organization: Organization;
  deliveryId: string;
}

/** `GET /organization/:id/deliveries/:deliveryId`: one of the organization's deliveries. */
export class GetDeliveryUseCase {
  constructor(private readonly deps: { deliveries: DeliveryRepository }) {}

  async execute(command: GetDeliveryCommand): Promise<Result<Delivery, AppError>> {
    const delivery = await this.deps.deliveries.findForOrganization(command.organization.id, command.deliveryId);
    return delivery ? Result.ok(delivery) : Result.err(new AppError('NOT_FOUND', 'Delivery not found'));
  }
}
