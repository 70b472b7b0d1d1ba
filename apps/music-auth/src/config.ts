import { z } from 'zod';
import { baseEnvSchema, checkSettings, ConfigError, parseConfig, tokenIssuingFrom, tokenSigningEnv, tokenVerificationEnv } from '@music/platform';

/** Production's lowest bcrypt cost (OWASP's minimum for bcrypt is 10; 12 costs about 0.25 s a hash). */
export const MIN_PRODUCTION_BCRYPT_COST = 12;

export const authConfigSchema = baseEnvSchema.extend({
  ...tokenVerificationEnv,
  ...tokenSigningEnv,
  PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** bcrypt work factor for new password hashes (tests use 4 to stay fast; production needs 12+). */
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  /** Attempts per client address per minute, counted separately for sign-up and sign-in. */
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(20),
  /** Sign-ups per email address per minute. */
  AUTH_EMAIL_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  /** Failed sign-ins per (account, address) pair within SIGN_IN_WINDOW_SECONDS; more answer 429 to that pair only. */
  SIGN_IN_PAIR_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  /**
   * Failed sign-ins per account (from any address) within SIGN_IN_WINDOW_SECONDS before the account
   * slows down: each further attempt from an address the account has not signed in from must wait
   * SIGN_IN_SLOWDOWN_BASE_MS, doubling per failure up to SIGN_IN_SLOWDOWN_MAX_MS. Addresses the
   * account signed in from recently are never slowed.
   */
  SIGN_IN_ACCOUNT_SLOWDOWN_AFTER: z.coerce.number().int().positive().default(10),
  SIGN_IN_SLOWDOWN_BASE_MS: z.coerce.number().int().positive().default(1000),
  SIGN_IN_SLOWDOWN_MAX_MS: z.coerce.number().int().positive().default(60_000),
  SIGN_IN_WINDOW_SECONDS: z.coerce.number().int().positive().default(900),
  /** How long an address an account signed in from stays its usual address (exempt from the slow-down). */
  SIGN_IN_KNOWN_ADDRESS_DAYS: z.coerce.number().int().positive().default(30),
  /** Redis key prefix of the rate-limit counters (shared by every music-auth process). */
  AUTH_RATE_LIMIT_PREFIX: z.string().min(1).default('music:rate-limit:auth'),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

/** Reads this app's settings once, at start-up (the signing key included: a bad one stops the start). */
export function loadAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  const config = parseConfig(authConfigSchema, env);
  checkSettings(
    () => {
      if (config.NODE_ENV === 'production' && config.BCRYPT_COST < MIN_PRODUCTION_BCRYPT_COST) {
        throw new ConfigError(`Invalid configuration: BCRYPT_COST: at least ${MIN_PRODUCTION_BCRYPT_COST} in production (got ${config.BCRYPT_COST})`);
      }
    },
    () => tokenIssuingFrom(config),
  );
  return config;
}
