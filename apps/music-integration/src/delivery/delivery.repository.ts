import type { Delivery, DeliveryStatus } from '@music/domain';
import { toDelivery, type DeliveryDoc, type Models } from '@music/persistence';

export interface DeliveryFilter {
  status?: DeliveryStatus;
  /** The deliveries of one item (by the externalId both sides know it by). */
  externalId?: string;
  /** The deliveries of one output webhook. */
  webhookId?: string;
  /** Only failed deliveries that ran out of attempts (true), or only those refused for good (false). */
  deadLettered?: boolean;
  since?: Date;
  until?: Date;
  before?: Date;
  /** Deliveries after this one in the listing order (pagination: the last one of the previous page). */
  after?: { at: Date; id: string };
  limit: number;
}

/** Reads of deliveries (one local change sent to one output webhook); they are written by `@music/sync-state`. */
export class DeliveryRepository {
  constructor(private readonly models: Pick<Models, 'deliveries'>) {}

  async findById(id: string): Promise<Delivery | null> {
    const doc = await this.models.deliveries.findOne({ _id: id }).lean<DeliveryDoc>();
    return doc ? toDelivery(doc) : null;
  }

  async findForOrganization(organizationId: string, id: string): Promise<Delivery | null> {
    const doc = await this.models.deliveries.findOne({ _id: id, organizationId }).lean<DeliveryDoc>();
    return doc ? toDelivery(doc) : null;
  }

  /** Newest first. */
  async listForOrganization(organizationId: string, filter: DeliveryFilter): Promise<Delivery[]> {
    const createdAt: Record<string, Date> = {};
    if (filter.since) createdAt['$gte'] = filter.since;
    if (filter.until) createdAt['$lte'] = filter.until;
    if (filter.before) createdAt['$lt'] = filter.before;
    const query: Record<string, unknown> = { organizationId };
    if (filter.status) query['status'] = filter.status;
    if (filter.externalId !== undefined) query['externalId'] = filter.externalId;
    if (filter.webhookId !== undefined) query['webhookId'] = filter.webhookId;
    if (filter.deadLettered !== undefined) query['deadLettered'] = filter.deadLettered;
    if (Object.keys(createdAt).length > 0) query['createdAt'] = createdAt;
    // A fan-out creates its deliveries in the same millisecond: ties are ordered by id, so a page
    // boundary between them loses none.
    if (filter.after) query['$or'] = [{ createdAt: { $lt: filter.after.at } }, { createdAt: filter.after.at, _id: { $lt: filter.after.id } }];
    const docs = await this.models.deliveries.find(query).sort({ createdAt: -1, _id: -1 }).limit(filter.limit).lean<DeliveryDoc[]>();
    return docs.map(toDelivery);
  }

  /** The deliveries of one item's version (a divergence's failed deliveries, say). */
  async listForItem(itemId: string, version: number): Promise<Delivery[]> {
    const docs = await this.models.deliveries.find({ itemId, version }).sort({ createdAt: 1, _id: 1 }).lean<DeliveryDoc[]>();
    return docs.map(toDelivery);
  }

  /**
   * An organization's deliveries still to send (`pending`), that gave up (`failed`, dead letters
   * included) and that gave up after running out of attempts (`deadLettered`): its status.
   */
  async countsForOrganization(organizationId: string): Promise<{ pending: number; failed: number; deadLettered: number }> {
    const [pending, failed, deadLettered] = await Promise.all([
      this.models.deliveries.countDocuments({ organizationId, status: 'pending' }),
      this.models.deliveries.countDocuments({ organizationId, status: 'failed' }),
      this.models.deliveries.countDocuments({ organizationId, status: 'failed', deadLettered: true }),
    ]);
    return { pending, failed, deadLettered };
  }

  /** Deliveries in this status across every organization: an operators' gauge (pending work, dead letters), never a tenant's answer. */
  async countByStatus(status: DeliveryStatus): Promise<number> {
    return this.models.deliveries.countDocuments({ status });
  }

  /** Pending deliveries not touched for a while: their job may have been lost (the sweeper re-adds it). */
  async listStalePending(olderThan: Date, limit: number): Promise<Delivery[]> {
    const docs = await this.models.deliveries.find({ status: 'pending', updatedAt: { $lt: olderThan } }).limit(limit).lean<DeliveryDoc[]>();
    return docs.map(toDelivery);
  }
}
