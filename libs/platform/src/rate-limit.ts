import { Result } from '@sapphire/result';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from './redis';
import { AppError } from './errors';
import type { Logger } from './logger';

export interface RateLimiterOptions {
  redis: RedisClient;
  /** Key prefix in Redis, e.g. `music:rate-limit:auth:sign-in:ip`. */
  prefix: string;
  /** Attempts allowed per window and key. */
  limit: number;
  windowSeconds: number;
  /** The setting that holds `limit`, named in the 429 answer (e.g. `MANUAL_SYNC_RATE_LIMIT_PER_MINUTE`). */
  setting?: string;
  /** The error code of a refusal: RATE_LIMITED (default) or QUOTA_EXCEEDED for a per-account quota. */
  code?: 'RATE_LIMITED' | 'QUOTA_EXCEEDED';
  /** The refusal's message before ", retry in N s" (default "Too many attempts"). */
  message?: string;
  /** Warned when Redis cannot be reached (the limiter then lets requests through). */
  logger?: Logger;
}

/** Counts attempts per key; `consume` answers RATE_LIMITED once a key used up its window. */
export interface RateLimiter {
  consume(key: string): Promise<Result<void, AppError>>;
}

/**
 * A fixed-window rate limiter kept in Redis (rate-limiter-flexible's RateLimiterRedis: one atomic
 * script counts the attempt and starts the window's expiry), so every process of a service shares
 * the counts; the counter of `key` is `<prefix>:<key>`. If Redis cannot be reached it fails open
 * (logs a warning and allows the attempt): an outage of the cache must not lock every user out of
 * signing in, and the other defences (bcrypt cost, uniform errors) still hold meanwhile.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { redis, prefix, limit, windowSeconds, logger, setting, code = 'RATE_LIMITED', message = 'Too many attempts' } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`rate limit must be a positive integer, got ${limit}`);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new Error(`rate-limit window must be a positive integer, got ${windowSeconds}`);
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: prefix, points: limit, duration: windowSeconds });

  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return Result.ok(undefined);
      } catch (outcome) {
        // A refusal rejects with the key's state; anything else is Redis failing.
        if (!(outcome instanceof RateLimiterRes)) {
          logger?.warn('rate limiter unavailable, allowing the request', { prefix, err: (outcome as Error).message });
          return Result.ok(undefined);
        }
        const retryAfterSeconds = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
        const named = setting ? { name: setting, value: limit } : undefined;
        return Result.err(new AppError(code, `${message}, retry in ${retryAfterSeconds} s`, undefined, retryAfterSeconds, named));
      }
    },
  };
}
