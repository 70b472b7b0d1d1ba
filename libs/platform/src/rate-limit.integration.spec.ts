import { Redis } from 'ioredis';
import { clearPrefix, eventually, openTestRedis, uniqueName } from '@music/testing';
import type { Logger } from './logger';
import { createRateLimiter } from './rate-limit';

describe('createRateLimiter (real Redis)', () => {
  let redis: Redis;
  let other: Redis;
  let prefix: string;

  beforeAll(() => {
    redis = openTestRedis();
    other = openTestRedis();
  });
  beforeEach(() => {
    prefix = uniqueName('rl');
  });
  afterEach(async () => {
    await clearPrefix(redis, prefix);
  });
  afterAll(() => {
    redis.disconnect();
    other.disconnect();
  });

  it('allows `limit` attempts per key, then answers RATE_LIMITED with a retry-after', async () => {
    const limiter = createRateLimiter({ redis, prefix, limit: 3, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) expect((await limiter.consume('1.2.3.4')).isOk()).toBe(true);
    const limited = await limiter.consume('1.2.3.4');
    expect(limited.isErr()).toBe(true);
    const error = limited.unwrapErr();
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another key has its own budget.
    expect((await limiter.consume('5.6.7.8')).isOk()).toBe(true);
    // The counter expires with the window.
    const ttl = await redis.pttl(`${prefix}:1.2.3.4`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60000);
  });

  it('shares counts between limiters on different connections (separate processes)', async () => {
    const a = createRateLimiter({ redis, prefix, limit: 2, windowSeconds: 60 });
    const b = createRateLimiter({ redis: other, prefix, limit: 2, windowSeconds: 60 });
    expect((await a.consume('user@test.com')).isOk()).toBe(true);
    expect((await b.consume('user@test.com')).isOk()).toBe(true);
    expect((await a.consume('user@test.com')).isErr()).toBe(true);
    expect((await b.consume('user@test.com')).isErr()).toBe(true);
  });

  it('counts concurrent attempts exactly', async () => {
    const limiter = createRateLimiter({ redis, prefix, limit: 10, windowSeconds: 60 });
    const results = await Promise.all(Array.from({ length: 25 }, () => limiter.consume('burst')));
    expect(results.filter((r) => r.isOk())).toHaveLength(10);
  });

  it('opens a new window once the old one expired', async () => {
    const limiter = createRateLimiter({ redis, prefix, limit: 1, windowSeconds: 1 });
    expect((await limiter.consume('k')).isOk()).toBe(true);
    expect((await limiter.consume('k')).isErr()).toBe(true);
    await eventually(async () => (await limiter.consume('k')).isOk(), 'the next window', 5000, 100);
  });

  it('fails open, with a warning, when Redis cannot be reached', async () => {
    const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    down.on('error', () => undefined);
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => void warnings.push(args) } as unknown as Logger;
    const limiter = createRateLimiter({ redis: down, prefix, limit: 1, windowSeconds: 60, logger });
    try {
      for (let i = 0; i < 3; i++) expect((await limiter.consume('k')).isOk()).toBe(true);
      expect(warnings).toHaveLength(3);
    } finally {
      down.disconnect();
    }
  });

  it('refuses nonsensical settings', () => {
    expect(() => createRateLimiter({ redis, prefix, limit: 0, windowSeconds: 60 })).toThrow();
    expect(() => createRateLimiter({ redis, prefix, limit: 5, windowSeconds: 0.5 })).toThrow();
  });
});
