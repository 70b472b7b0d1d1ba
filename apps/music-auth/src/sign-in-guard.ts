import { createHash } from 'node:crypto';
import { Result } from '@sapphire/result';
import { AppError, type Logger, type RedisClient } from '@music/platform';

export interface SignInGuardSettings {
  redis: RedisClient;
  /** Keys live under `<prefix>:sign-in:`. */
  prefix: string;
  pairMaxFailures: number;
  slowdownAfter: number;
  slowdownBaseMs: number;
  slowdownMaxMs: number;
  windowSeconds: number;
  knownAddressDays: number;
  logger: Logger;
}

/**
 * Sign-in limits that an attacker cannot turn against the user. Failed attempts are counted per
 * (account, address) pair - an address that keeps failing for one account is refused, and no one
 * else - and per account. Once an account has failed `slowdownAfter` times in the window, attempts
 * from addresses the account has not signed in from are let through one at a time, each slot
 * `slowdownBaseMs` doubling per failure (at most `slowdownMaxMs`) after the last; the addresses the
 * account signed in from recently are never slowed. So wrong passwords from anywhere else never
 * block the right password from the user's usual address, and guessing from many addresses is
 * slowed for the account as a whole, parallel attempts included (the slot is taken atomically).
 */
export interface SignInGuard {
  /** Before the password check: RATE_LIMITED when this pair, or this new address, must wait. */
  admit(email: string, address: string): Promise<Result<void, AppError>>;
  failed(email: string, address: string): Promise<void>;
  succeeded(email: string, address: string): Promise<void>;
}

// Returns {0} to admit, {1, ms} when the pair is over its failures, {2, ms} when a new address must
// wait for the account's next slot. Redis' own clock: every music-auth process agrees on it.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
if pair >= tonumber(ARGV[2]) then return {1, redis.call('PTTL', KEYS[1])} end
local seen = redis.call('ZSCORE', KEYS[3], ARGV[1])
if seen and tonumber(seen) > now - tonumber(ARGV[6]) then return {0, 0} end
local failures = tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')
local after = tonumber(ARGV[3])
if failures < after then return {0, 0} end
local nextAt = tonumber(redis.call('HGET', KEYS[2], 'nextAt') or '0')
if now < nextAt then return {2, nextAt - now} end
local delay = math.min(tonumber(ARGV[4]) * math.pow(2, math.min(failures - after, 30)), tonumber(ARGV[5]))
redis.call('HSET', KEYS[2], 'nextAt', now + delay)
return {0, 0}
`;

const FAILED = `
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
redis.call('HINCRBY', KEYS[2], 'failures', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`;

// The account's usual addresses: a sorted set scored by the last sign-in, trimmed to the window
// and to the 20 most recent.
const SUCCEEDED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -21)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
`;

// Hashed so Redis holds neither addresses nor email addresses.
const hashed = (value: string): string => createHash('sha256').update(value).digest('hex').slice(0, 32);

/** The sign-in guard, its counters in Redis (shared by every music-auth process; fails open without Redis). */
export function createSignInGuard(settings: SignInGuardSettings): SignInGuard {
  const { redis, prefix, logger } = settings;
  const windowMs = settings.windowSeconds * 1000;
  // One account's keys share a hash tag: the scripts touch several at once, which a Redis Cluster
  // allows only within one slot (a tag in the prefix, when there is one, comes first and wins).
  const keys = (account: string, address: string) => {
    const a = `{${hashed(account)}}`;
    return { pair: `${prefix}:sign-in:${a}:pair:${hashed(address)}`, account: `${prefix}:sign-in:${a}:account`, known: `${prefix}:sign-in:${a}:known`, address: hashed(address) };
  };
  const unavailable = (error: unknown): void => void logger.warn('sign-in limits unavailable, allowing the attempt', { err: (error as Error).message });

  return {
    async admit(account, address) {
      const k = keys(account, address);
      let verdict: [number, number];
      try {
        verdict = (await redis.eval(
          ADMIT,
          3,
          k.pair,
          k.account,
          k.known,
          k.address,
          String(settings.pairMaxFailures),
          String(settings.slowdownAfter),
          String(settings.slowdownBaseMs),
          String(settings.slowdownMaxMs),
          String(settings.knownAddressDays * 86_400_000),
        )) as [number, number];
      } catch (error) {
        unavailable(error);
        return Result.ok(undefined);
      }
      const [kind, waitMs] = verdict;
      if (kind === 0) return Result.ok(undefined);
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      if (kind === 1) {
        return Result.err(
          new AppError('RATE_LIMITED', `Too many failed sign-ins from this address, retry in ${retryAfter} s`, undefined, retryAfter, {
            name: 'SIGN_IN_PAIR_MAX_FAILURES',
            value: settings.pairMaxFailures,
          }),
        );
      }
      return Result.err(
        new AppError('RATE_LIMITED', `Too many failed sign-ins for this account: from a new address, retry in ${retryAfter} s`, undefined, retryAfter, {
          name: 'SIGN_IN_ACCOUNT_SLOWDOWN_AFTER',
          value: settings.slowdownAfter,
        }),
      );
    },
    async failed(account, address) {
      const k = keys(account, address);
      await redis.eval(FAILED, 2, k.pair, k.account, String(windowMs)).catch(unavailable);
    },
    async succeeded(account, address) {
      const k = keys(account, address);
      await redis.eval(SUCCEEDED, 2, k.pair, k.known, k.address, String(settings.knownAddressDays * 86_400_000)).catch(unavailable);
    },
  };
}
