import type { OrganizationRepository } from '@music/persistence';
import type { Logger } from '@music/platform';
import type { SyncControls } from '../controls/sync-controls';
import type { DeliveryRepository } from './delivery.repository';

export interface GaveUpNoticeDeps {
  deliveries: Pick<DeliveryRepository, 'findById'>;
  organizations: Pick<OrganizationRepository, 'findById'>;
  controls: Pick<SyncControls, 'deliveryGaveUp'>;
  logger: Logger;
}

/** A delivery gave up: the organization's notification webhooks are told. */
export class GaveUpNotice {
  constructor(private readonly deps: GaveUpNoticeDeps) {}

  /** Queues the notifications; never fails the delivery job. */
  async send(deliveryId: string): Promise<void> {
    try {
      const delivery = await this.deps.deliveries.findById(deliveryId);
      const org = delivery ? await this.deps.organizations.findById(delivery.organizationId) : null;
      if (org) await this.deps.controls.deliveryGaveUp(org, deliveryId);
    } catch (error) {
      this.deps.logger.warn('could not queue the notifications of a failed delivery', { deliveryId, err: (error as Error).message });
    }
  }
}
