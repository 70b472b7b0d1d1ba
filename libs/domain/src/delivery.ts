export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'superseded';

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
  webhookId: string;
  url: string;
  method: 'POST' | 'PUT' | 'DELETE';
  op: 'upsert' | 'delete';
  /** The item version this delivery carries; a newer one for the same item and webhook supersedes it. */
  version: number;
  /** The exact JSON body sent (reverse-mapped to the third party's shape). */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  lastAttempts: DeliveryAttempt[];
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
}
