export type SyncTrigger = 'schedule' | 'manual';
export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'attention' | 'skipped';

export interface SyncRunCounts {
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  invalid: number;
  /** Inbound changes not applied because a local change not yet delivered wins. */
  conflicts: number;
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
});
