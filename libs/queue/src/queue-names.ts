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
  /** Notification events (a failed run, a pause, a dead letter, a divergence) sent to the organization's notification webhooks. */
  notifications: 'notifications',
  /** Housekeeping: the sweep (lost work re-queued, tombstones and old messages expired) and organization purges. */
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
  purgeOrganization: 'purge-organization',
  notify: 'notify',
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
  /** One stored input-webhook call (`inbound_messages._id`, derived from the organization and the sender's id). */
  inbound: (storedId: string): string => `inbound-${storedId}`,
  orgChanged: (organizationId: string, revision: number, kind: string): string => `org-${organizationId}-${revision}-${kind}`,
  /** One per organization: its passes are the same job, delayed between them. */
  purgeOrganization: (organizationId: string): string => `purge-${organizationId}`,
  /** One event sent to one notification webhook. */
  notify: (eventId: string, notificationId: string): string => `notify-${eventId}-${notificationId}`,
};
