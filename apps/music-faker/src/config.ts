import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';

export const fakerConfigSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(5000),
  /** Makes generated songs and their ids deterministic (tests, demos). */
  FAKER_SEED: z.coerce.number().int().optional(),
  /**
   * Standard Webhooks secret (`whsec_<base64>`). When set, deliveries to /sync/* must carry a valid
   * `webhook-signature`; when unset, they are accepted unsigned.
   */
  FAKER_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be a Standard Webhooks secret (whsec_<base64>)')
    .optional(),
  /** How long one create/remove webhook call may take before it is abandoned. */
  FAKER_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  /**
   * Serve the control endpoints (generate, the webhook config and targets, /_faults, /_reset,
   * GET /sync/received). Default: on, except in production, so a faker deployed by mistake cannot
   * be told to call URLs or be reset by anyone.
   */
  FAKER_CONTROL_ENDPOINTS: z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional(),
}).transform(({ FAKER_CONTROL_ENDPOINTS: control, ...config }) => ({
  ...config,
  FAKER_CONTROL_ENDPOINTS: control === undefined ? config.NODE_ENV !== 'production' : ['true', '1', 'yes'].includes(control),
}));
export type FakerConfig = z.infer<typeof fakerConfigSchema>;

export function loadFakerConfig(env: Record<string, string | undefined>): FakerConfig {
  return parseConfig(fakerConfigSchema, env);
}
