import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';

export const authConfigSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** bcrypt work factor for new password hashes (tests use 4 to stay fast). */
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
  /** Attempts per client IP per minute, counted separately for sign-up and sign-in. */
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(20),
  /** Attempts per email address per minute, counted separately for sign-up and sign-in. */
  AUTH_EMAIL_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  /** Redis key prefix of the rate-limit counters (shared by every music-auth process). */
  AUTH_RATE_LIMIT_PREFIX: z.string().min(1).default('music:rate-limit:auth'),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

/** Reads this app's settings once, at start-up. */
export function loadAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  return parseConfig(authConfigSchema, env);
}
