import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';

export const integrationConfigSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3003),
});
export type IntegrationConfig = z.infer<typeof integrationConfigSchema>;

/** Reads this app's settings once, at start-up. */
export function loadIntegrationConfig(env: Record<string, string | undefined>): IntegrationConfig {
  return parseConfig(integrationConfigSchema, env);
}
