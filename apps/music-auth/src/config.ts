import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';

export const authConfigSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3001),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

/** Reads this app's settings once, at start-up. */
export function loadAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  return parseConfig(authConfigSchema, env);
}
