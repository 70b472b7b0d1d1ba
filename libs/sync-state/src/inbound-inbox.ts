import { createHash } from 'node:crypto';
import { isDuplicateKey, type InboundMessageDoc, type Models, type OrganizationRepository } from '@music/persistence';
import type { StoreClock } from './store-clock';

/** The stored id of an input-webhook call: its organization and the sender's `webhook-id`, hashed (any text is a safe key). */
export function inboundMessageId(organizationId: string, messageId: string): string {
  return createHash('sha256').update(`${organizationId}\u0000${messageId}`).digest('hex').slice(0, 40);
}

export interface AcceptedMessage {
  id: string;
  duplicate: boolean;
  acceptedAt: Date;
}

/**
 * Input-webhook calls, stored before they are answered 202 (`inbound_messages`): a call answered
 * 202 survives a Redis restart (the sweeper queues stored messages not yet applied), and a repeated
 * `webhook-id` of the same organization is recognised by the store's unique `_id` for as long as
 * the message is kept (`INBOUND_DEDUPE_RETENTION_MS` after it was applied).
 */
export class InboundInbox {
  constructor(
    private readonly models: Pick<Models, 'inboundMessages'>,
    private readonly clock: StoreClock,
    private readonly live: Pick<OrganizationRepository, 'isLive'>,
  ) {}

  /** Stores a call; `duplicate` when the same organization already sent this `webhook-id`. */
  async accept(organizationId: string, messageId: string, method: InboundMessageDoc['method'], body: string): Promise<AcceptedMessage> {
    const id = inboundMessageId(organizationId, messageId);
    const acceptedAt = await this.clock.now();
    try {
      await this.models.inboundMessages.create({ _id: id, organizationId, messageId, method, body, acceptedAt, appliedAt: null } satisfies InboundMessageDoc);
      // Its organization deleted meanwhile: the purge may have passed already (docs/sync-model.md,
      // "Deleting an organization"). Answered as taken, as it would be had it come a moment earlier.
      if (!(await this.live.isLive(organizationId))) await this.models.inboundMessages.deleteOne({ _id: id });
      return { id, duplicate: false, acceptedAt };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return { id, duplicate: true, acceptedAt };
    }
  }

  async find(id: string): Promise<InboundMessageDoc | null> {
    return this.models.inboundMessages.findOne({ _id: id }).lean<InboundMessageDoc>();
  }

  async markApplied(id: string): Promise<void> {
    await this.models.inboundMessages.updateOne({ _id: id, appliedAt: null }, { $currentDate: { appliedAt: true } });
  }

  /** Stored calls not applied yet, accepted before `acceptedBefore` (their job may be lost: the sweeper queues them again). */
  async listUnapplied(acceptedBefore: Date, limit: number): Promise<InboundMessageDoc[]> {
    return this.models.inboundMessages.find({ appliedAt: null, acceptedAt: { $lt: acceptedBefore } }).limit(limit).lean<InboundMessageDoc[]>();
  }

  /** Removes applied calls older than the dedupe retention (`cutoff` on the store clock). */
  async expireApplied(cutoff: Date): Promise<number> {
    const result = await this.models.inboundMessages.deleteMany({ appliedAt: { $ne: null, $lt: cutoff } });
    return result.deletedCount;
  }
}
