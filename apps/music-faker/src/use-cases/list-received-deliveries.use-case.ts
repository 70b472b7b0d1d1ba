import type { DeliveryCounts, FakerState, ReceivedDelivery } from '../faker-state';

/** `GET /sync/received`: the namespace's delivery totals and its newest received deliveries, oldest first. */
export class ListReceivedDeliveriesUseCase {
  execute(command: { state: FakerState }): DeliveryCounts & { deliveries: ReceivedDelivery[] } {
    const { state } = command;
    return { ...state.deliveryCounts, deliveries: state.received };
  }
}
