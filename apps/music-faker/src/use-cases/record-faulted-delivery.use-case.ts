import type { FakerState } from '../faker-state';
import { recordDelivery, type DeliveryRequest } from './receive-delivery';

export interface RecordFaultedDeliveryCommand {
  /** The request's namespace. */
  state: FakerState;
  delivery: DeliveryRequest;
  /** The injected fault's status, answered instead. */
  status: number;
}

/** A delivery an injected fault (test-only) answered: logged as `fault`, never applied. */
export class RecordFaultedDeliveryUseCase {
  execute(command: RecordFaultedDeliveryCommand): void {
    recordDelivery(command.state, command.delivery, 'fault', command.status);
  }
}
