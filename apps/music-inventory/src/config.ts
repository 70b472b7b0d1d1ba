import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';

export const inventoryConfigSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3002),
});
export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;

/** Reads this app's settings once, at start-up. */
export function loadInventoryConfig(env: Record<string, string | undefined>): InventoryConfig {
  return parseConfig(inventoryConfigSchema, env);
}
