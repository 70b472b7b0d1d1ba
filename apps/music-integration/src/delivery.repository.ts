import type { Delivery, DeliveryAttempt, DeliveryStatus } from '@music/domain';
import { toDelivery, type DeliveryDoc, type Models } from '@music/persistence';

const DUPLICATE_KEY = 11000;
const KEEP_ATTEMPTS = 10;

export interface DeliveryFilter {
  status?: DeliveryStatus;
  /** The deliveries of one item (by the externalId both sides know it by). */
  externalId?: string;
  since?: Date;
  until?: Date;
  before?: Date;
  /** Deliveries after this one in the listing order (pagination: the last one of the previous page). */
  after?: { at: Date; id: string };
  limit: number;
}

/** Deliveries: one local change sent to one output webhook, with its attempts. */
export class DeliveryRepository {
  constructor(private readonly models: Pick<Models, 'deliveries'>) {}

  /** Inserts the deliveries that do not exist yet (a fan-out repeated after a crash adds none twice). */
  async insertMissing(docs: DeliveryDoc[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.models.deliveries.insertMany(docs, { ordered: false });
    } catch (error) {
      const e = error as { code?: number; writeErrors?: Array<{ code?: number; err?: { code?: number } }> };
      const writeErrors = e.writeErrors ?? [];
      const onlyDuplicates = writeErrors.length > 0 ? writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY) : e.code === DUPLICATE_KEY;
      if (!onlyDuplicates) throw error;
    }
  }

  async findById(id: string): Promise<Delivery | null> {
    const doc = await this.models.deliveries.findOne({ _id: id }).lean<DeliveryDoc>();
    return doc ? toDelivery(doc) : null;
  }

  async findForOrganization(organizationId: string, id: string): Promise<Delivery | null> {
    const doc = await this.models.deliveries.findOne({ _id: id, organizationId }).lean<DeliveryDoc>();
    return doc ? toDelivery(doc) : null;
  }

  /**
   * Whether a delivery of a newer version of the same item exists (this one is then moot). All
   * output webhooks of an organization lead to the same third party (the brief splits them by
   * method: a POST webhook for upserts, a DELETE webhook for deletes), so a newer DELETE
   * supersedes an older POST and the other way round.
   */
  async hasNewer(delivery: Pick<Delivery, 'itemId' | 'version'>): Promise<boolean> {
    const newer = await this.models.deliveries.findOne({ itemId: delivery.itemId, version: { $gt: delivery.version } }, { _id: 1 }).lean();
    return newer !== null;
  }

  async recordAttempt(id: string, attempt: DeliveryAttempt, status: DeliveryStatus, attempts: number, previous: DeliveryAttempt[]): Promise<void> {
    const now = new Date();
    await this.models.deliveries.updateOne(
      { _id: id },
      {
        $set: {
          status,
          attempts,
          // Kept whole rather than $push/$slice'd: the stores we support differ on array operators.
          lastAttempts: [...previous, attempt].slice(-KEEP_ATTEMPTS),
          lastError: attempt.error ?? (attempt.statusCode !== null && attempt.statusCode >= 300 ? `HTTP ${attempt.statusCode}` : null),
          updatedAt: now,
          ...(status === 'succeeded' ? { deliveredAt: now } : {}),
        },
      },
    );
  }

  async setStatus(id: string, status: DeliveryStatus, from?: DeliveryStatus[]): Promise<boolean> {
    const filter: Record<string, unknown> = { _id: id };
    if (from) filter['status'] = { $in: from };
    const result = await this.models.deliveries.updateOne(filter, { $set: { status, updatedAt: new Date() } });
    return result.modifiedCount === 1;
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
    if (Object.keys(createdAt).length > 0) query['createdAt'] = createdAt;
    // A fan-out creates its deliveries in the same millisecond: ties are ordered by id, so a page
    // boundary between them loses none.
    if (filter.after) query['$or'] = [{ createdAt: { $lt: filter.after.at } }, { createdAt: filter.after.at, _id: { $lt: filter.after.id } }];
    const docs = await this.models.deliveries.find(query).sort({ createdAt: -1, _id: -1 }).limit(filter.limit).lean<DeliveryDoc[]>();
    return docs.map(toDelivery);
  }

  /** Pending deliveries not touched for a while: their job may have been lost (the sweeper re-adds it). */
  async listStalePending(olderThan: Date, limit: number): Promise<Delivery[]> {
    const docs = await this.models.deliveries.find({ status: 'pending', updatedAt: { $lt: olderThan } }).limit(limit).lean<DeliveryDoc[]>();
    return docs.map(toDelivery);
  }
}
