export type SyncTrigger = 'schedule' | 'manual';
export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'attention' | 'skipped';

export interface SyncRunCounts {
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  invalid: number;
  /** Inbound changes held because a local change not yet settled wins (applied or dropped when it settles). */
  conflicts: number;
  /** Inbound changes held because their item diverged (until the user resolves it). */
  diverged: number;
  /** Inbound changes not fresher than their item's latest change (a snapshot that began earlier). */
  stale: number;
}

export interface RecordError {
  index: number;
  externalId?: string;
  path: string;
  message: string;
}

/** One poll of one polling entry: what was fetched, what changed, what went wrong. */
export interface SyncRun {
  id: string;
  organizationId: string;
  pollingId: string;
  endpoint: string;
  trigger: SyncTrigger;
  status: SyncRunStatus;
  counts: SyncRunCounts;
  pages: number;
  /** A sample of records that failed mapping (at most 20). */
  errors: RecordError[];
  message: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

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
