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

export const configServiceSettingsSchema = baseEnvSchema.extend({
  ...tokenVerificationEnv,
  ...secretsEnv,
  ...inboundWebhookEnv,
  ...pagesPerRunEnv,
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
  /**
   * Where third parties reach music-integration's `/sync` (its public base URL): the call URLs shown
   * for input webhooks are built on it.
   */
  INBOUND_WEBHOOK_BASE_URL: z
    .string()
    .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, 'must be an http(s) base URL without query')
    .default('http://localhost:3003')
    .transform((u) => u.replace(/\/+$/, '')),
  /** After a webhook secret is rotated, the previous secret (and token) keeps working this long. */
  WEBHOOK_SECRET_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(30 * 86400).default(86400),
  /** Organizations one account may own. */
  QUOTA_ORGANIZATIONS_PER_USER: z.coerce.number().int().min(1).default(25),
  /** Polling entries one organization may have (the body schema allows 20 at most). */
  QUOTA_POLLING_ENTRIES_PER_ORGANIZATION: z.coerce.number().int().min(1).max(20).default(10),
  /** Manual syncs one account may ask for per hour, across its organizations. */
  QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR: z.coerce.number().int().min(1).default(120),
});
export type ConfigServiceSettings = z.infer<typeof configServiceSettingsSchema>;

/** Reads this app's settings once, at start-up (keys included: a bad one stops the start). */
export function loadConfigServiceSettings(env: Record<string, string | undefined>): ConfigServiceSettings {
  const config = parseConfig(configServiceSettingsSchema, env);
  checkSettings(
    () => tokenVerificationFrom(config),
    () => secretBoxFrom(config),
    () => acceptsUnauthenticatedWebhooks(config),
  );
  return config;
}
