import { createHash } from 'node:crypto';

/**
 * Every queue of the system. Never rename one without a migration: jobs and job schedulers already
 * in Redis live under these names.
 */
export const QUEUE_NAMES = {
  /** Poll jobs; one job scheduler per organization polling entry (`poll:<orgId>:<pollingId>`). */
  polling: 'polling',
  /** Outbound work: fan a local change out to deliveries, and deliver each one. */
  output: 'output',
  /** Inbound webhook calls, accepted with 202 and applied here. */
  inbound: 'inbound',
  /** Organization created/updated/deleted: the integration app re-registers polling schedules. */
  orgEvents: 'org-events',
  /** Periodic housekeeping: re-enqueue outbox events a crash left behind. */
  maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/** Job names per queue. */
export const JOB_NAMES = {
  poll: 'poll',
  fanout: 'fanout',
  deliver: 'deliver',
  inboundWebhook: 'inbound-webhook',
  orgChanged: 'org-changed',
  sweepOutbox: 'sweep-outbox',
} as const;

/**
 * Stable job ids (BullMQ ignores an add whose id already exists, which makes enqueues idempotent).
 * BullMQ refuses custom job ids containing ':' (it reserves them for scheduler-made ids), so these
 * use '-'; scheduler ids follow the `poll:<orgId>:<pollingId>` convention.
 */
export const jobIds = {
  pollScheduler: (organizationId: string, pollingId: string): string => `poll:${organizationId}:${pollingId}`,
  manualPoll: (runId: string): string => `poll-run-${runId}`,
  fanout: (eventId: string): string => `fanout-${eventId}`,
  deliver: (deliveryId: string): string => `deliver-${deliveryId}`,
  /** The sender's message id is arbitrary text: hashed with the organization id into a safe key. */
  inbound: (organizationId: string, messageId: string): string =>
    `inbound-${createHash('sha256').update(`${organizationId}\u0000${messageId}`).digest('hex').slice(0, 40)}`,
  orgChanged: (organizationId: string, revision: number, kind: string): string => `org-${organizationId}-${revision}-${kind}`,
};

/** A delivery's id: one local event sent to one output webhook. Also the `webhook-id` header. */
export const deliveryIdOf = (eventId: string, webhookId: string): string => `${eventId}_${webhookId}`;
