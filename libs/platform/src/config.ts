import { z } from 'zod';

/** Raised when the environment does not satisfy an app's config schema; the message is one line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Settings every app shares: runtime mode, logging, stores, queue prefix, auth and outbound policy. */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL').default('mongodb://127.0.0.1:27017/'),
  MONGO_DB: z.string().min(1).default('music'),
  /** One redis:// (or rediss:// for TLS) URL; with REDIS_CLUSTER, one or more comma-separated seed nodes. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').default('redis://127.0.0.1:6379'),
  /** Connect to a Redis Cluster (QUEUE_PREFIX must then hold a hash tag such as {music}). */
  REDIS_CLUSTER: booleanFromEnv.default(false),
  QUEUE_PREFIX: z.string().min(1).default('music'),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').default('dev-only-secret-change-me-please'),
  JWT_EXPIRES_IN_SECONDS: z.coerce.number().int().positive().default(3600),
  HTTP_BODY_LIMIT: z.string().default('1mb'),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30000),
  /** Comma-separated hosts or CIDR ranges outbound calls may reach although private/loopback. */
  OUTBOUND_ALLOW_LIST: z.string().default(''),
  OUTBOUND_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  OUTBOUND_MAX_BYTES: z.coerce.number().int().positive().default(20 * 1024 * 1024),
  CORS_ORIGINS: z.string().default(''),
  METRICS_ENABLED: booleanFromEnv.default(true),
});

export type BaseConfig = z.infer<typeof baseEnvSchema>;

/** The development JWT secret; production refuses to start with it. */
export const DEVELOPMENT_JWT_SECRET = 'dev-only-secret-change-me-please';

/**
 * Parses an environment against a zod schema. Throws ConfigError naming every bad setting on one
 * line, so `main.ts` can print it and exit.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  // Empty strings in .env files mean "not set".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data as z.infer<S>;
  const base = config as Partial<BaseConfig>;
  if (base.NODE_ENV === 'production' && base.JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
    throw new ConfigError('Invalid configuration: JWT_SECRET: the development secret cannot be used in production');
  }
  if (base.REDIS_CLUSTER && base.QUEUE_PREFIX !== undefined && !hasHashTag(base.QUEUE_PREFIX)) {
    // BullMQ's scripts touch several keys of a queue at once, and the item locks take several
    // keys in one script: on a Cluster every such key must hash to one slot.
    throw new ConfigError(`Invalid configuration: QUEUE_PREFIX: must hold a hash tag such as {${base.QUEUE_PREFIX}} when REDIS_CLUSTER is true`);
  }
  if (!base.REDIS_CLUSTER && base.REDIS_URL?.includes(',')) {
    throw new ConfigError('Invalid configuration: REDIS_URL: several URLs are only accepted with REDIS_CLUSTER=true');
  }
  return config;
}

/**
 * Whether Redis Cluster would hash every key under `prefix` by a tag inside it: the text between
 * the first `{` and the next `}`, when not empty (Redis' hash tag rule).
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/** Splits a comma-separated setting into trimmed, non-empty entries. */
export function listSetting(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
