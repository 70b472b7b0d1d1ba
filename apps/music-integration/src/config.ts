import { z } from 'zod';
import {
  acceptsUnauthenticatedWebhooks,
  baseEnvSchema,
  checkSettings,
  inboundWebhookEnv,
  pagesPerRunEnv,
  parseConfig,
  secretBoxFrom,
  secretsEnv,
  tokenVerificationEnv,
  tokenVerificationFrom,
} from '@music/platform';
import { jobSettingsEnvSchema } from '@music/queue';
import { SYNC_MUTANTS } from '@music/sync-state';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const integrationConfigSchema = baseEnvSchema.extend({
  ...jobSettingsEnvSchema.shape,
  ...tokenVerificationEnv,
  ...secretsEnv,
  ...inboundWebhookEnv,
  ...pagesPerRunEnv,
  /**
   * Calls one account's organizations may make to one destination host per minute, polls and
   * deliveries together; past it a poll's page or a delivery waits for the next minute (retried).
   */
  QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE: z.coerce.number().int().min(1).default(6000),
  PORT: z.coerce.number().int().min(0).max(65535).default(3003),
  /** Run the queue workers in this process (false: API only; scale workers separately). */
  RUN_WORKERS: flag.default(true),
  POLL_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  OUTPUT_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  INBOUND_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /**
   * Deliveries one organization may have in flight at once, across every worker process (its
   * fan-outs included: they make a change's first attempt). Past it, its jobs wait their turn
   * without holding a worker, so a slow or failing third party cannot take every OUTPUT_CONCURRENCY
   * slot from the other organizations.
   */
  ORG_MAX_INFLIGHT_DELIVERIES: z.coerce.number().int().min(1).max(1024).default(8),
  /** Poll runs one organization may have in flight at once, across every worker process (past it, its polls wait their turn). */
  ORG_MAX_INFLIGHT_POLLS: z.coerce.number().int().min(1).max(256).default(2),
  /**
   * A worker holds a lock on each job it runs, renewed every half of this; when its process dies
   * the lock expires, and the next stalled-job check (every WORKER_STALLED_INTERVAL_MS, by any
   * worker) runs the job again. BullMQ's defaults (30 s each); tests shorten them.
   */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30000),
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30000),
  /** First retry delay; doubles each attempt (with +-20% jitter) up to DELIVERY_BACKOFF_MAX_MS. */
  DELIVERY_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(5000),
  DELIVERY_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(6 * 3600 * 1000),
  /** Length of a polling "minute". Test-only: shorten it to see scheduled polls fire quickly. */
  POLL_MINUTE_MS: z.coerce.number().int().min(10).default(60000),
  /** How often the sweeper looks for local changes whose fan-out a crash left behind. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(10000),
  /** A pending event older than this with no fan-out done is re-enqueued by the sweeper. */
  OUTBOX_GRACE_MS: z.coerce.number().int().min(0).default(5000),
  /** Re-register every organization's polling schedules from the database this often. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).default(5 * 60 * 1000),
  /**
   * A polling entry pauses itself after this many failed runs in a row (its reason names the last
   * error; resume it with POST /organization/:id/resume). 0: never.
   */
  AUTO_PAUSE_AFTER_FAILED_RUNS: z.coerce.number().int().min(0).max(1000).default(5),
  /**
   * A delivery of a paused organization waits this long before it looks again (resuming sends the
   * held deliveries at once; this bounds the wait of any the resume could not reach).
   */
  PAUSED_DELIVERY_RECHECK_MS: z.coerce.number().int().min(100).max(3600 * 1000).default(30_000),
  /** A complete snapshot that would delete more than this share of the known items deletes nothing. */
  DELETE_GUARD_RATIO: z.coerce.number().min(0).max(1).default(0.5),
  /** Records per inbound webhook call. */
  INBOUND_MAX_RECORDS: z.coerce.number().int().min(1).default(1000),
  /**
   * A poll run stops writing after this long and ends `partial` (nothing deleted). Tombstones must
   * outlive every run that began before them, so TOMBSTONE_RETENTION_MS must be longer.
   */
  POLL_RUN_MAX_MS: z.coerce.number().int().min(1000).default(2 * 3600 * 1000),
  /** A settled tombstone is removed this long after its fence (docs/sync-model.md, rule 7). */
  TOMBSTONE_RETENTION_MS: z.coerce.number().int().min(1000).default(24 * 3600 * 1000),
  /** An applied input-webhook call is kept (and its `webhook-id` recognised as a duplicate) this long. */
  INBOUND_DEDUPE_RETENTION_MS: z.coerce.number().int().min(1000).default(24 * 3600 * 1000),
  /** A deleted organization's purge runs again after this, until a pass finds nothing left. */
  PURGE_RECHECK_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * HTTP Basic login of the queue dashboard (/admin/queues). Unset in production: no dashboard.
   * Unset in development/test: admin / admin, with a warning at start-up.
   */
  /**
   * Test only: runs a deliberately broken variant of the sync engine (libs/sync-state, mutants.ts),
   * to check that the convergence test catches it (`npm run test:convergence -- --mutant NAME`).
   * Refused in production.
   */
  SYNC_MUTANT: z.enum(SYNC_MUTANTS).optional(),
  ADMIN_USER: z.string().min(1).max(128).optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').max(256).optional(),
});
export type IntegrationConfig = z.infer<typeof integrationConfigSchema>;

// A tombstone removed while a snapshot older than it can still run could let that snapshot bring the item back.
const checkedSchema = integrationConfigSchema
  .refine((c) => c.TOMBSTONE_RETENTION_MS > c.POLL_RUN_MAX_MS, {
    path: ['TOMBSTONE_RETENTION_MS'],
    message: 'must be longer than POLL_RUN_MAX_MS',
  })
  .refine((c) => c.SYNC_MUTANT === undefined || c.NODE_ENV !== 'production', {
    path: ['SYNC_MUTANT'],
    message: 'a deliberately broken engine is for tests only: not allowed in production',
  });

/** Reads this app's settings once, at start-up (keys included: a bad one stops the start). */
export function loadIntegrationConfig(env: Record<string, string | undefined>): IntegrationConfig {
  const config = parseConfig(checkedSchema, env);
  checkSettings(
    () => tokenVerificationFrom(config),
    () => secretBoxFrom(config),
    () => acceptsUnauthenticatedWebhooks(config),
  );
  return config;
}
