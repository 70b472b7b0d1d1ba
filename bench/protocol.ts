import type { SyncRunCounts } from '@music/domain';
import type { CommandProfile } from './store';

// Messages between bench/main.ts and its child processes (bench/worker-process.ts), over Node IPC.

/** The queue of the raw delivery baseline (under the run's own prefix). */
export const RAW_DELIVER_QUEUE = 'raw-deliver';

export type ChildRole = 'engine' | 'poll' | 'raw-ingest' | 'raw-deliver' | 'inventory';

/** What a child measured about itself: CPU, event-loop use, outbound HTTP and store commands. */
export interface ProcessProfile {
  wallMs: number;
  cpuMs: number;
  /** Share of the wall time the event loop was busy (0..1). */
  eventLoopUtilization: number;
  http: { count: number; ms: number; bytes: number };
  commands: CommandProfile;
  /** Redis commands sent, by name (every ioredis client of the process). */
  redisCommands: Record<string, number>;
}

export type ToChild =
  | { type: 'poll'; organizationId: string; pollingId: string }
  | { type: 'raw-ingest'; organizationId: string; total: number; batch: number }
  | { type: 'profile-reset' }
  /** The profile so far, without resetting it (answered while a poll runs). */
  | { type: 'profile' }
  | { type: 'stop' };

export type FromChild =
  | { type: 'ready'; port?: number }
  | { type: 'polled'; status: string; counts: SyncRunCounts; profile: ProcessProfile }
  | { type: 'raw-ingested'; writeMs: number; wallMs: number; documents: number }
  | { type: 'profile'; profile: ProcessProfile }
  | { type: 'stopped'; profile: ProcessProfile }
  | { type: 'error'; message: string };
