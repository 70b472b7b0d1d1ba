import type { Redis } from 'ioredis';

// Deletes the key only if it still holds our token, so an expired lock taken over by another
// process is never released by the first one.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** A lease in Redis, held across processes (one poll per polling entry; one send per item and webhook). */
export class RedisLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async acquire(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}:lock:${name}`, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(EXTEND, 1, `${this.prefix}:lock:${name}`, token, String(ttlMs))) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, `${this.prefix}:lock:${name}`, token);
  }
}
