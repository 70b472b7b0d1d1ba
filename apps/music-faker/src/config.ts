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
});
export type FakerConfig = z.infer<typeof fakerConfigSchema>;

export function loadFakerConfig(env: Record<string, string | undefined>): FakerConfig {
  return parseConfig(fakerConfigSchema, env);
}
