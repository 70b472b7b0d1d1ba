import { z } from 'zod';

export const SYNC_TRIGGERS = ['schedule', 'manual'] as const;
export const syncTriggerSchema = z.enum(SYNC_TRIGGERS);
export type SyncTrigger = z.infer<typeof syncTriggerSchema>;

export const SYNC_RUN_STATUSES = ['queued', 'running', 'succeeded', 'partial', 'failed', 'attention', 'skipped'] as const;
export const syncRunStatusSchema = z.enum(SYNC_RUN_STATUSES);
export type SyncRunStatus = z.infer<typeof syncRunStatusSchema>;

export const syncRunCountsSchema = z.object({
  fetched: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  deleted: z.number().int(),
  invalid: z.number().int(),
  /** Inbound changes held because a local change not yet settled wins (applied or dropped when it settles). */
  conflicts: z.number().int(),
  /** Inbound changes held because their item diverged (until the user resolves it). */
  diverged: z.number().int(),
  /** Inbound changes not fresher than their item's latest change (a snapshot that began earlier). */
  stale: z.number().int(),
});
export type SyncRunCounts = z.infer<typeof syncRunCountsSchema>;

/** One record that failed mapping: which record, which field, why. */
export const recordErrorSchema = z.object({
  index: z.number().int(),
  externalId: z.string().optional(),
  path: z.string(),
  message: z.string(),
});
export type RecordError = z.infer<typeof recordErrorSchema>;

/** One poll of one polling entry: what was fetched, what changed, what went wrong. */
export const syncRunSchema = z.object({
  id: z.string(),
  organizationId: z.string(),
  pollingId: z.string(),
  endpoint: z.string(),
  trigger: syncTriggerSchema,
  status: syncRunStatusSchema,
  counts: syncRunCountsSchema,
  pages: z.number().int(),
  /** A sample of records that failed mapping (at most 20). */
  errors: z.array(recordErrorSchema),
  message: z.string().nullable(),
  queuedAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});
export type SyncRun = z.infer<typeof syncRunSchema>;

export const emptyCounts = (): SyncRunCounts => ({
  fetched: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  invalid: 0,
  conflicts: 0,
  diverged: 0,
  stale: 0,
});
