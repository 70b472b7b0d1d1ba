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
// Extends every key that still holds the token; returns how many did.
const EXTEND_MANY = `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('pexpire', key, ARGV[2]); n = n + 1 end
end
return n`;
const RELEASE_MANY = `
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key) end
end
return 1`;

/** Raised when a lock could not be had in time (contention, not an outage). */
export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
}

/** Raised before a write when the lease that guards it was lost (expired, or taken by another holder). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export interface RedisLockOptions {
  /** Keys live under `<prefix>:lock:`; every process of a deployment must use the same prefix. */
  prefix: string;
  /** How long a lock lives without being renewed (a crashed holder's lock expires after this). */
  ttlMs?: number;
  /** How long `withLock` waits for a held lock. */
  waitMs?: number;
  /** Called when Redis itself fails and the work runs unlocked (fail open). */
  onUnavailable?: (error: Error) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A lock held in Redis, renewed while it is held. `assertHeld()` is called before every write the
 * lock guards: it throws once a renewal found the key gone or held by someone else, and also when
 * no renewal has been confirmed for two thirds of the TTL (Redis unreachable: the key may expire
 * any moment, so the holder stops writing rather than hope).
 *
 * What remains: a write that passed `assertHeld()` is already on its way to the store when the
 * lease lapses. That window is at most a third of the TTL after the last confirmed renewal plus the
 * write's own duration; the writers that rely on leases keep each write small (one page, a few
 * statements) and guard it with a condition on the document's revision, so a late write that finds
 * the document changed matches nothing.
 */
export class Lease {
  private confirmedAt: number;
  private timer: NodeJS.Timeout | null = null;
  private lostReason: string | null = null;
  private released = false;

  /** `unlocked`: Redis was unreachable when the lock was asked for; the work runs unguarded (fail open). */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: readonly string[],
    readonly token: string,
    private readonly ttlMs: number,
    readonly unlocked = false,
    sentAt = performance.now(),
  ) {
    this.confirmedAt = sentAt;
    if (!unlocked && keys.length > 0) {
      this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(ttlMs / 3)));
      this.timer.unref();
    }
  }

  /** True once the lease is known to be lost (or not confirmed for too long). */
  get lost(): boolean {
    if (this.unlocked) return false;
    return this.lostReason !== null || performance.now() - this.confirmedAt > (this.ttlMs * 2) / 3;
  }

  /** Throws LeaseLostError unless the lease is still held. Call it right before each guarded write. */
  assertHeld(): void {
    if (this.unlocked || this.keys.length === 0) return;
    if (this.lostReason !== null) throw new LeaseLostError(this.lostReason);
    const age = performance.now() - this.confirmedAt;
    if (age > (this.ttlMs * 2) / 3) throw new LeaseLostError(`lease ${this.keys[0]} not confirmed for ${Math.round(age)} ms (TTL ${this.ttlMs} ms)`);
  }

  /**
   * Renews now and throws LeaseLostError if the lease is lost: one Redis round trip, for writers
   * that can afford it before each write (a poll before each page), so a lease taken away is seen
   * at once rather than at the next renewal.
   */
  async confirm(): Promise<void> {
    await this.renew();
    this.assertHeld();
  }

  /** Renews every key now; marks the lease lost when any key no longer holds our token. */
  async renew(): Promise<boolean> {
    if (this.unlocked || this.lostReason !== null || this.keys.length === 0) return this.lostReason === null;
    const sentAt = performance.now();
    try {
      const extended = (await this.redis.eval(EXTEND_MANY, this.keys.length, ...this.keys, this.token, String(this.ttlMs))) as number;
      if (extended < this.keys.length) {
        this.lostReason = `lease ${this.keys[0]} was lost (expired or taken by another holder)`;
        this.stop();
        return false;
      }
      this.confirmedAt = sentAt;
      return true;
    } catch {
      // Unconfirmed: assertHeld() refuses once the last confirmation is too old.
      return false;
    }
  }

  /** Stops renewing and deletes the keys that still hold our token (once: a second call does nothing). */
  async release(): Promise<void> {
    this.stop();
    if (this.released || this.unlocked || this.keys.length === 0) return;
    this.released = true;
    await this.redis.eval(RELEASE_MANY, this.keys.length, ...this.keys, this.token).catch(() => undefined);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * Locks in Redis, held across processes: leases (one poll per polling entry, one send per item)
 * and mutual exclusion of writes to one document. The latter matters because a MongoDB-compatible
 * store may apply an update as read-modify-write of the whole document (FerretDB 1.x does:
 * concurrent updates of one document lose writes, conditions included), so every write of an item
 * holds the item's lock (inside the one writer of item state, `@music/sync-state`).
 *
 * Every lock taken through `lease`, `withLock` and `withLocks` is renewed while held (every third of
 * its TTL), so a long write never outlives its lock unnoticed; see `Lease`.
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

  /** The Redis connection and key prefix, for other keys every process of the deployment shares (the write marks of @music/sync-state). */
  get shared(): { redis: RedisClient; prefix: string } {
    return { redis: this.redis, prefix: this.options.prefix };
  }

  /** Takes a lock if free (no waiting, no renewal). */
  async acquire(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.key(name), token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(EXTEND, 1, this.key(name), token, String(ttlMs))) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(name), token);
  }

  /** Takes a lock away from whoever holds it: their next renewal fails, and they stop before their next write. */
  async revoke(name: string): Promise<void> {
    await this.redis.del(this.key(name));
  }

  /**
   * Takes the lock `name` for `token` if it is free or already holds `token` (a job run again after
   * its process died takes its own lease back), and keeps renewing it until released. Null when
   * another holder has it. Redis errors are thrown (a lease is never assumed).
   */
  async lease(name: string, token: string, ttlMs: number): Promise<Lease | null> {
    const sentAt = performance.now();
    const taken = (await this.acquire(name, token, ttlMs)) || (await this.extend(name, token, ttlMs));
    return taken ? new Lease(this.redis, [this.key(name)], token, ttlMs, false, sentAt) : null;
  }

  /**
   * Runs `fn` holding the lock `name`, waiting for it up to `waitMs`; the lock is renewed while `fn`
   * runs, and `fn` calls `lease.assertHeld()` before each write. If Redis is unreachable the work
   * runs unlocked (`onUnavailable` is told, and the lease is `unlocked`): an outage must not stop
   * local writes, and with Redis down no worker runs to write concurrently.
   */
  async withLock<T>(name: string, fn: (lease: Lease) => Promise<T>): Promise<T> {
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let delay = 5;
    let sentAt: number;
    for (;;) {
      let taken: boolean;
      sentAt = performance.now();
      try {
        taken = await this.acquire(name, token, this.ttlMs);
      } catch (error) {
        this.options.onUnavailable?.(error as Error);
        return fn(new Lease(this.redis, [], token, this.ttlMs, true));
      }
      if (taken) break;
      if (Date.now() > deadline) throw new LockTimeoutError(`lock ${name} still held after ${this.waitMs} ms`);
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
    const lease = new Lease(this.redis, [this.key(name)], token, this.ttlMs, false, sentAt);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }

  /**
   * Runs `fn` holding as many of `names` as can be had within `waitMs` (a batch write takes what
   * it can, and leaves the rest for later rather than wait on a slow holder). `fn` receives the
   * names it holds and their lease (renewed while `fn` runs).
   */
  async withLocks<T>(names: string[], fn: (held: ReadonlySet<string>, lease: Lease) => Promise<T>, waitMs = this.waitMs): Promise<T> {
    const token = randomUUID();
    if (names.length === 0) return fn(new Set(), new Lease(this.redis, [], token, this.ttlMs));
    const held = new Set<string>();
    const deadline = Date.now() + waitMs;
    let delay = 5;
    let firstSentAt: number | null = null;
    let rounds = 0;
    for (;;) {
      rounds++;
      const missing = names.filter((n) => !held.has(n));
      let taken: number[];
      const sentAt = performance.now();
      try {
        taken = (await this.redis.eval(ACQUIRE_MANY, missing.length, ...missing.map((n) => this.key(n)), token, String(this.ttlMs))) as number[];
      } catch (error) {
        if (held.size > 0) await this.redis.eval(RELEASE_MANY, held.size, ...[...held].map((n) => this.key(n)), token).catch(() => undefined);
        this.options.onUnavailable?.(error as Error);
        return fn(new Set(names), new Lease(this.redis, [], token, this.ttlMs, true));
      }
      if (taken.length > 0 && firstSentAt === null) firstSentAt = sentAt;
      for (const i of taken) held.add(missing[i - 1] as string);
      if (held.size === names.length || Date.now() > deadline) break;
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
    // The earliest key taken expires first: the lease counts from then. Keys taken over several
    // rounds are renewed together now, so they all last a TTL from here; taken in one round, they
    // were all set with the TTL after `firstSentAt` already (a batch of a poll page: 1,000 keys, a
    // Lua call not sent again).
    const lease = new Lease(this.redis, [...held].map((n) => this.key(n)), token, this.ttlMs, false, firstSentAt ?? performance.now());
    if (held.size > 0 && rounds > 1) await lease.renew();
    try {
      return await fn(held, lease);
    } finally {
      await lease.release();
    }
  }
}

/** The lock name guarding writes to one inventory item. */
export const itemLockName = (itemId: string): string => `item:${itemId}`;
