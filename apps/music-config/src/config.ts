import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';
import { jobSettingsEnvSchema } from '@music/queue';

export const configConfigSchema = baseEnvSchema.extend({
  // Manual syncs are poll jobs: the same attempts as the scheduled ones.
  ...jobSettingsEnvSchema.shape,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * How long a request waits for BullMQ to accept a job. Past it, org-changed events are given up
   * (the integration app reconciles from the database) and a manual sync answers 503.
   */
  QUEUE_ENQUEUE_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  /** Manual syncs (POST /organization/:id/sync) per organization per minute; more answer 429. */
  MANUAL_SYNC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  /** Mapping previews that read a polling endpoint, per organization per minute; more answer 429. */
  MAPPING_PREVIEW_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(30),
  /** The largest first page a mapping preview reads (also bounded by OUTBOUND_MAX_BYTES). */
  MAPPING_PREVIEW_MAX_BYTES: z.coerce.number().int().positive().default(5 * 1024 * 1024),
});
export type ConfigConfig = z.infer<typeof configConfigSchema>;

/** Reads this app's settings once, at start-up. */
export function loadConfigConfig(env: Record<string, string | undefined>): ConfigConfig {
  return parseConfig(configConfigSchema, env);
}
