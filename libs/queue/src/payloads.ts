import { z } from 'zod';
import { syncTriggerSchema } from '@music/domain';

// Every payload carries `version`; a consumer validates again and refuses versions it does not know.

export const pollJobSchema = z.object({
  version: z.literal(1),
  organizationId: z.string().min(1),
  pollingId: z.string().min(1),
  trigger: syncTriggerSchema,
  /** Present for manual runs (the run record exists already); scheduled runs create their own. */
  runId: z.string().min(1).optional(),
});
export type PollJob = z.infer<typeof pollJobSchema>;

export const fanoutJobSchema = z.object({
  version: z.literal(1),
  organizationId: z.string().min(1),
  itemId: z.string().min(1),
  eventId: z.string().min(1),
  /** Log fields only: the item's externalId and the request that made the change. */
  externalId: z.string().optional(),
  requestId: z.string().optional(),
});
export type FanoutJob = z.infer<typeof fanoutJobSchema>;

export const deliverJobSchema = z.object({
  version: z.literal(1),
  organizationId: z.string().min(1),
  deliveryId: z.string().min(1),
  /** Attempts made before this job's (its fan-out made the first): they count toward DELIVERY_ATTEMPTS. */
  priorAttempts: z.number().int().min(0).optional(),
  /** Log fields only: the item's externalId and the request that caused the delivery (its change, or a replay). */
  externalId: z.string().optional(),
  requestId: z.string().optional(),
});
export type DeliverJob = z.infer<typeof deliverJobSchema>;

/** What a deliver job carries for its log lines: the record and the request behind it. */
export type DeliveryTrace = Pick<DeliverJob, 'externalId' | 'requestId'>;

export const inboundWebhookJobSchema = z.object({
  version: z.literal(1),
  organizationId: z.string().min(1),
  method: z.enum(['POST', 'PUT', 'DELETE']),
  /** The raw request body as received (JSON text): one record or an array of records. */
  body: z.string(),
  /** The sender's `webhook-id` (or one we made up). */
  messageId: z.string().min(1),
  /** The stored message (`inbound_messages._id`), marked applied once the job is done. */
  storedId: z.string().min(1),
  /** When it was accepted, on the store clock (ISO): the freshness of its changes. */
  acceptedAt: z.string(),
});
export type InboundWebhookJob = z.infer<typeof inboundWebhookJobSchema>;

export const orgChangedJobSchema = z.object({
  version: z.literal(1),
  organizationId: z.string().min(1),
  kind: z.enum(['created', 'updated', 'deleted']),
  revision: z.number().int().nonnegative(),
});
export type OrgChangedJob = z.infer<typeof orgChangedJobSchema>;

export const sweepOutboxJobSchema = z.object({ version: z.literal(1) });
export type SweepOutboxJob = z.infer<typeof sweepOutboxJobSchema>;

export const purgeOrganizationJobSchema = z.object({
  version: z.literal(1),
  organizationId: z.string().min(1),
  /** The purge repeats until a pass after the first finds nothing left (writes in flight land meanwhile). */
  pass: z.number().int().min(1),
});
export type PurgeOrganizationJob = z.infer<typeof purgeOrganizationJobSchema>;

export const notifyJobSchema = z.object({
  version: z.literal(1),
  organizationId: z.string().min(1),
  /** The notification webhook (its id on the organization): sent to its current URL and secret. */
  notificationId: z.string().min(1),
  /** The event's id, stable for one occurrence: the `webhook-id` the receiver deduplicates on. */
  eventId: z.string().min(1).max(200),
  type: z.enum(['sync.failed', 'sync.paused', 'delivery.dead_lettered', 'item.diverged']),
  /** When it happened (ISO). */
  occurredAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type NotifyJob = z.infer<typeof notifyJobSchema>;
