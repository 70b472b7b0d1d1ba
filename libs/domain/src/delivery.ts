import { z } from 'zod';

/**
 * `pending`: being sent (or retried); `succeeded`: acknowledged (2xx); `failed`: the webhook gave up
 * (a permanent error, or attempts ran out) and a person may still act on it; `resolved`: it failed,
 * then stopped needing a person (`resolution` says why: the remote version accepted, a newer change
 * of the item, the organization switched to one-way); `superseded`: a newer version of the item
 * exists, so it was never sent; `cancelled`: its webhook was removed, the organization switched to
 * one-way or was deleted, or the item is gone (`lastError` says which).
 */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'resolved', 'superseded', 'cancelled'] as const;
export const deliveryStatusSchema = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

export const deliveryAttemptSchema = z.object({
  at: z.date(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  ms: z.number(),
});
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

/** One local change sent to one output webhook. Its id is the `webhook-id` header (idempotency key). */
export const deliverySchema = z.object({
  id: z.string(),
  organizationId: z.string(),
  itemId: z.string(),
  externalId: z.string(),
  eventId: z.string(),
  /** The output webhook, by its stable id: sends go to its current URL, method and secret. */
  webhookId: z.string(),
  /** The webhook's URL when the delivery was created (sends use the current one). */
  url: z.string(),
  method: z.enum(['POST', 'PUT', 'DELETE']),
  op: z.enum(['upsert', 'delete']),
  /** The item version this delivery carries; a newer version of the item supersedes it. */
  version: z.number().int(),
  /** The exact JSON body sent (reverse-mapped to the third party's shape). */
  body: z.string(),
  status: deliveryStatusSchema,
  attempts: z.number().int(),
  lastAttempts: z.array(deliveryAttemptSchema),
  lastError: z.string().nullable(),
  /** Failed after running out of attempts (transient errors each time); false for a delivery refused for good (4xx, blocked). */
  deadLettered: z.boolean(),
  /** Why a failed delivery no longer needs a person (status `resolved`); null otherwise. */
  resolution: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  deliveredAt: z.date().nullable(),
});
export type Delivery = z.infer<typeof deliverySchema>;
