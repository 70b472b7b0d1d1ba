import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis';

// Deletes/extends a key only if it still holds our token, so a lease that expired and was taken
// over by another process is never released or extended by the first one.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
// Takes every free key of the list in one round trip; returns the 1-based indexes it took.
const ACQUIRE_MANY = `
local taken = {}
for i, key in ipairs(KEYS) do
  if redis.call('set', key, ARGV[1], 'PX', ARGV[2], 'NX') then table.insert(taken, i) end
end
return taken`;
const RELEASE_MANY = `
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key) end
end
return 1`;

/** Raised when a lock could not be had in time (contention, not an outage). */
export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
}

export interface RedisLockOptions {
  /** Keys live under `<prefix>:lock:`; every process of a deployment must use the same prefix. */
  prefix: string;
  /** How long a holder may keep a lock before it expires by itself (a crashed holder's lock). */
  ttlMs?: number;
  /** How long `withLock` waits for a held lock. */
  waitMs?: number;
  /** Called when Redis itself fails and the work runs unlocked (fail open). */
  onUnavailable?: (error: Error) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Locks in Redis, held across processes: leases (one poll per polling entry, one send per item and
 * webhook) and mutual exclusion of writes to one document. The latter matters because a
 * MongoDB-compatible store may apply an update as read-modify-write of the whole document (FerretDB
 * 1.x does: concurrent updates of one document lose writes, conditions included), so every writer
 * of an inventory item takes the item's lock first.
 */
export class RedisLocks {
  private readonly ttlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisLockOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.waitMs = options.waitMs ?? 5_000;
  }

  private key(name: string): string {
    return `${this.options.prefix}:lock:${name}`;
  }

  /** Takes a lease if free (no waiting). */
  async acquire(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.key(name), token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(EXTEND, 1, this.key(name), token, String(ttlMs))) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(name), token);
  }

  /**
   * Runs `fn` holding the lock `name`, waiting for it up to `waitMs`. If Redis is unreachable the
   * work runs unlocked (and `onUnavailable` is told): an outage must not stop local writes, and
   * with Redis down no worker runs to write concurrently.
   */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let delay = 5;
    for (;;) {
      let taken: boolean;
      try {
        taken = await this.acquire(name, token, this.ttlMs);
      } catch (error) {
        this.options.onUnavailable?.(error as Error);
        return fn();
      }
      if (taken) break;
      if (Date.now() > deadline) throw new LockTimeoutError(`lock ${name} still held after ${this.waitMs} ms`);
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
    try {
      return await fn();
    } finally {
      await this.release(name, token).catch(() => undefined);
    }
  }

  /**
   * Runs `fn` holding as many of `names` as can be had within `waitMs` (a batch write takes what
   * it can, and leaves the rest for later rather than wait on a slow holder). `fn` receives the
   * names it holds.
   */
  async withLocks<T>(names: string[], fn: (held: ReadonlySet<string>) => Promise<T>, waitMs = this.waitMs): Promise<T> {
    if (names.length === 0) return fn(new Set());
    const token = randomUUID();
    const held = new Set<string>();
    const deadline = Date.now() + waitMs;
    let delay = 5;
    try {
      for (;;) {
        const missing = names.filter((n) => !held.has(n));
        let taken: number[];
        try {
          taken = (await this.redis.eval(ACQUIRE_MANY, missing.length, ...missing.map((n) => this.key(n)), token, String(this.ttlMs))) as number[];
        } catch (error) {
          this.options.onUnavailable?.(error as Error);
          return await fn(new Set(names));
        }
        for (const i of taken) held.add(missing[i - 1] as string);
        if (held.size === names.length || Date.now() > deadline) break;
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 100);
      }
      return await fn(held);
    } finally {
      if (held.size > 0) await this.redis.eval(RELEASE_MANY, held.size, ...[...held].map((n) => this.key(n)), token).catch(() => undefined);
    }
  }
}

/** The lock name guarding writes to one inventory item. */
export const itemLockName = (itemId: string): string => `item:${itemId}`;
