import { z } from 'zod';
import { baseEnvSchema, parseConfig, tokenVerificationFrom, tokenVerificationEnv } from '@music/platform';

export const inventoryConfigSchema = baseEnvSchema.extend({
  ...tokenVerificationEnv,
  PORT: z.coerce.number().int().min(0).max(65535).default(3002),
});
export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;

/** Reads this app's settings once, at start-up (token keys included: a bad one stops the start). */
export function loadInventoryConfig(env: Record<string, string | undefined>): InventoryConfig {
  const config = parseConfig(inventoryConfigSchema, env);
  tokenVerificationFrom(config);
  return config;
}
