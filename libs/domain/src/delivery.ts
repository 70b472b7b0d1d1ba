/**
 * `pending`: being sent (or retried); `succeeded`: acknowledged (2xx); `failed`: the webhook gave up
 * (a permanent error, or attempts ran out) and a person may still act on it; `resolved`: it failed,
 * then stopped needing a person (`resolution` says why: the remote version accepted, a newer change
 * of the item, the organization switched to one-way); `superseded`: a newer version of the item
 * exists, so it was never sent; `cancelled`: its webhook was removed, the organization switched to
 * one-way or was deleted, or the item is gone (`lastError` says which).
 */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'resolved' | 'superseded' | 'cancelled';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'resolved', 'superseded', 'cancelled'] as const satisfies readonly DeliveryStatus[];

export interface DeliveryAttempt {
  at: Date;
  statusCode: number | null;
  error: string | null;
  ms: number;
}

/** One local change sent to one output webhook. Its id is the `webhook-id` header (idempotency key). */
export interface Delivery {
  id: string;
  organizationId: string;
  itemId: string;
  externalId: string;
  eventId: string;
  /** The output webhook, by its stable id: sends go to its current URL, method and secret. */
  webhookId: string;
  /** The webhook's URL when the delivery was created (sends use the current one). */
  url: string;
  method: 'POST' | 'PUT' | 'DELETE';
  op: 'upsert' | 'delete';
  /** The item version this delivery carries; a newer version of the item supersedes it. */
  version: number;
  /** The exact JSON body sent (reverse-mapped to the third party's shape). */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  lastAttempts: DeliveryAttempt[];
  lastError: string | null;
  /** Failed after running out of attempts (transient errors each time); false for a delivery refused for good (4xx, blocked). */
  deadLettered: boolean;
  /** Why a failed delivery no longer needs a person (status `resolved`); null otherwise. */
  resolution: string | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
}
