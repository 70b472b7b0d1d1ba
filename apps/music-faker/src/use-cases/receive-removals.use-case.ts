import type { Result } from '@sapphire/result';
import type { AppError } from '@music/platform';
import type { DeliverySignature } from '../delivery-signature';
import { receiveDelivery, type DeliveryReceipt, type ReceiveDeliveryCommand } from './receive-delivery';

/**
 * `DELETE /sync/delete` (also `/sync/create`, `/sync/:id`): each item removed by id; the receipt
 * counts those that were there (`removed`).
 */
export class ReceiveRemovalsUseCase {
  constructor(private readonly deps: { signature: DeliverySignature }) {}

  execute(command: ReceiveDeliveryCommand): Result<DeliveryReceipt, AppError> {
    return receiveDelivery(this.deps.signature, command, (state, items) => ({
      removed: items.filter((item) => state.remove(item.id) !== undefined).length,
    }));
  }
}
