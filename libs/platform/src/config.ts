import { z } from 'zod';

/** Raised when the environment does not satisfy an app's config schema; the message is one line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Settings every app shares: runtime mode, logging, stores, queue prefix, HTTP and outbound policy. */
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
  /**
   * The address the HTTP server binds. Unset: 127.0.0.1 outside production (a development stack is
   * not reachable from the network), every interface in production (`::`, or 0.0.0.0 without IPv6).
   */
  HTTP_HOST: z.string().min(1).optional(),
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

/**
 * Settings of the apps that verify access tokens (every app with a guarded route). Tokens are RS256,
 * signed by music-auth's private key; verifiers hold only public keys, matched by the token's `kid`.
 */
export const tokenVerificationEnv = {
  /** PEM public key(s) that verify tokens (several during a key rotation). Unset outside production: the development key. */
  JWT_PUBLIC_KEYS: z.string().optional(),
  /** A file holding JWT_PUBLIC_KEYS (read once at start-up). */
  JWT_PUBLIC_KEYS_FILE: z.string().optional(),
  /** `iss` music-auth writes and every app requires. */
  JWT_ISSUER: z.string().min(1).default('music-auth'),
  /** `aud` music-auth writes and every app requires. */
  JWT_AUDIENCE: z.string().min(1).default('music-sync'),
  /** Lifetime of the tokens music-auth issues, and the longest lifetime (`exp - iat`) any app accepts. */
  JWT_EXPIRES_IN_SECONDS: z.coerce.number().int().positive().max(86400).default(3600),
};

/** Settings of music-auth's signing key (besides tokenVerificationEnv). */
export const tokenSigningEnv = {
  /** PEM private key (PKCS#8 or PKCS#1, RSA 2048+). Unset outside production: the development key. */
  JWT_PRIVATE_KEY: z.string().optional(),
  /** A file holding JWT_PRIVATE_KEY (read once at start-up). */
  JWT_PRIVATE_KEY_FILE: z.string().optional(),
};

/** Settings of the apps that seal or open stored secrets (webhook secrets, polling credentials). */
export const secretsEnv = {
  /** `keyId:base64(32 bytes)` entries, comma-separated; old ids stay to open what they sealed. */
  SECRETS_KEYS: z.string().optional(),
  /** The id of SECRETS_KEYS that seals new values (default: the first one listed). */
  SECRETS_KEY_ID: z.string().optional(),
};

/** Settings of the apps that take (music-integration) or describe (music-config) input webhook calls. */
export const inboundWebhookEnv = {
  /**
   * `accept` or `refuse` input webhook calls that carry neither a Standard Webhooks signature nor
   * the webhook's token (the bare `/sync?orgId=` form of the example organization). Unset: accept outside production
   * (each call logged as a warning), refuse in production, where `accept` stops the start.
   */
  INBOUND_WEBHOOK_UNAUTHENTICATED: z.enum(['accept', 'refuse']).optional(),
};

/** Whether unauthenticated input webhook calls are accepted. Throws ConfigError for `accept` in production. */
export function acceptsUnauthenticatedWebhooks(config: { NODE_ENV: BaseConfig['NODE_ENV']; INBOUND_WEBHOOK_UNAUTHENTICATED?: 'accept' | 'refuse' | undefined }): boolean {
  const production = config.NODE_ENV === 'production';
  if (production && config.INBOUND_WEBHOOK_UNAUTHENTICATED === 'accept') {
    throw new ConfigError('Invalid configuration: INBOUND_WEBHOOK_UNAUTHENTICATED: production cannot accept unauthenticated input webhook calls');
  }
  return (config.INBOUND_WEBHOOK_UNAUTHENTICATED ?? (production ? 'refuse' : 'accept')) === 'accept';
}

/** The largest number of pages one poll run reads (QUOTA_PAGES_PER_RUN), shared by music-config and music-integration. */
export const pagesPerRunEnv = {
  /** Pages one poll run may read: a polling entry's `maxPages` above it is refused (429), and runs stop there. */
  QUOTA_PAGES_PER_RUN: z.coerce.number().int().min(1).max(100000).default(1000),
};

/** The address to bind: HTTP_HOST, else loopback outside production and every interface in production. */
export function listenHost(config: Pick<BaseConfig, 'NODE_ENV' | 'HTTP_HOST'>): string | undefined {
  if (config.HTTP_HOST) return config.HTTP_HOST;
  return config.NODE_ENV === 'production' ? undefined : '127.0.0.1';
}

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

/**
 * Runs checks that go beyond the schema (keys read and verified, production refusals) and throws
 * one ConfigError naming every problem, like parseConfig does for the schema.
 */
export function checkSettings(...checks: Array<() => unknown>): void {
  const problems: string[] = [];
  for (const check of checks) {
    try {
      check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error.message.replace(/^Invalid configuration: /, ''));
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}

/** Splits a comma-separated setting into trimmed, non-empty entries. */
export function listSetting(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
