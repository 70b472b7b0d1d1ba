import type { Result } from '@sapphire/result';
import type { AppError } from '@music/platform';
import type { DeliverySignature } from '../delivery-signature';
import { receiveDelivery, type DeliveryReceipt, type ReceiveDeliveryCommand } from './receive-delivery';

/**
 * `POST|PUT /sync/create`: each item stored or updated by id (fields sent replace stored ones);
 * the receipt counts `created` and `updated`.
 */
export class ReceiveUpsertsUseCase {
  constructor(private readonly deps: { signature: DeliverySignature }) {}

  execute(command: ReceiveDeliveryCommand): Result<DeliveryReceipt, AppError> {
    return receiveDelivery(this.deps.signature, command, (state, items) => {
      let created = 0;
      for (const item of items) if (state.upsert(item) === 'created') created++;
      return { created, updated: items.length - created };
    });
  }
}
