import type { Redis } from 'ioredis';
import { clearPrefix, openTestRedis, uniqueName } from '@music/testing';
import { RedisLocks } from './redis-lock';

describe('RedisLocks.withLocks (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  /** The Lua calls sent (EVAL), in order: their key counts. */
  let evals: number[];

  beforeAll(() => {
    redis = openTestRedis();
    const send = redis.eval.bind(redis) as (...args: unknown[]) => Promise<unknown>;
    (redis as unknown as { eval: (...args: unknown[]) => Promise<unknown> }).eval = (...args: unknown[]) => {
      evals.push(Number(args[1]));
      return send(...args);
    };
  });
  beforeEach(() => {
    prefix = uniqueName('locks');
    evals = [];
  });
  afterEach(async () => {
    await clearPrefix(redis, prefix);
  });
  afterAll(() => {
    redis.disconnect();
  });

  const names = Array.from({ length: 100 }, (_, i) => `item:${i}`);

  // A poll takes a page's 1,000 item locks at once: they were all set with the TTL by that call,
  // so renewing them before the work would only send the same 1,000 keys to Redis again.
  it('every lock taken in one round: the work starts without a renewal, each key set for the TTL', async () => {
    const locks = new RedisLocks(redis, { prefix, ttlMs: 2000 });
    await locks.withLocks(names, async (held, lease) => {
      expect(held.size).toBe(100);
      expect(evals).toEqual([100]);
      expect(lease.lost).toBe(false);
      for (const n of [names[0], names[99]]) {
        const ttl = await redis.pttl(`${prefix}:lock:${n}`);
        expect(ttl).toBeGreaterThan(1500);
        expect(ttl).toBeLessThanOrEqual(2000);
      }
    });
    // Released after the work.
    expect(await redis.exists(`${prefix}:lock:${names[0]}`)).toBe(0);
  });

  it('locks taken over several rounds are renewed before the work: the first taken last the TTL from then', async () => {
    const locks = new RedisLocks(redis, { prefix, ttlMs: 2000, waitMs: 3000 });
    // Another holder keeps the last key for 600 ms: the first 99 are taken a round earlier.
    expect(await locks.acquire(names[99] as string, 'other', 600)).toBe(true);
    await locks.withLocks(names, async (held) => {
      expect(held.size).toBe(100);
      // The first round's keys were renewed with the rest (one call for all 100, after the rounds).
      expect(evals.at(-1)).toBe(100);
      expect(await redis.pttl(`${prefix}:lock:${names[0]}`)).toBeGreaterThan(1700);
    });
  });
});
