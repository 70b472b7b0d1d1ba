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

/** Stable job ids (BullMQ ignores an add whose id already exists, which makes enqueues idempotent). */
export const jobIds = {
  pollScheduler: (organizationId: string, pollingId: string): string => `poll:${organizationId}:${pollingId}`,
  manualPoll: (runId: string): string => `poll-run:${runId}`,
  fanout: (eventId: string): string => `fanout:${eventId}`,
  deliver: (deliveryId: string): string => `deliver:${deliveryId}`,
  inbound: (messageId: string): string => `inbound:${messageId}`,
};
