import type { RedisClient } from '@music/platform';

/**
 * Takes a slot if the organization has fewer than `cap` in flight (or the holder has one already:
 * a job run again after its process died), else reserves the next place in the organization's line
 * and answers how long to wait for it. Times are the Redis server's, one clock for every process.
 * KEYS: the in-flight set (holder -> expiry), the end of the line. ARGV: ttl, cap, holder, spacing, max wait.
 */
const ACQUIRE = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl, cap, spacing, maxWait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zscore', KEYS[1], ARGV[3]) or redis.call('zcard', KEYS[1]) < cap then
  redis.call('zadd', KEYS[1], now + ttl, ARGV[3])
  redis.call('pexpire', KEYS[1], ttl)
  return 0
end
local line = tonumber(redis.call('get', KEYS[2]) or '0')
if line < now then line = now end
line = line + spacing
if line > now + maxWait then line = now + maxWait end
redis.call('set', KEYS[2], line, 'PX', line - now + 1)
return line - now`;

export type SlotKind = 'deliver' | 'poll';

export interface SlotLimits {
  /** In-flight deliveries (and fan-outs, which may make a delivery's first attempt) per organization. */
  deliver: number;
  /** Poll runs in flight per organization. */
  poll: number;
}

export type Slot = { taken: true; release: () => Promise<void> } | { taken: false; waitMs: number };

/** A holder's slot outlives its process this long at most (a crash frees it after the TTL). */
export interface SlotTtls {
  deliver: number;
  poll: number;
}

/** The longest a job waits for its turn before it looks again (its line is that long at most). */
const MAX_WAIT_MS = 120_000;
/** Until a kind's time in flight is measured for an organization, its line moves this fast per slot. */
const FIRST_ESTIMATE_MS = 1000;
const MAX_TRACKED = 1000;

/**
 * Caps on the work one organization has in flight across every worker process, so one whose third
 * party is slow (answers just under the timeout) or has thousands of changes pending cannot hold
 * every worker: past its cap, its jobs wait their turn in a line of their own (delayed, not using
 * an attempt, and not holding a worker), and the workers' other slots serve everyone else in order.
 * The line moves at the pace the organization's slots free up (measured in this process), so a
 * waiting job is taken again about when a slot is free, not polled for one. Redis down: no cap (the
 * queues are down too).
 */
export class OrganizationSlots {
  private readonly heldMs = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly limits: SlotLimits,
    private readonly ttls: SlotTtls,
  ) {}

  async acquire(kind: SlotKind, organizationId: string, holder: string): Promise<Slot> {
    const key = `${kind}:${organizationId}`;
    const cap = this.limits[kind];
    const spacing = Math.max(1, Math.round((this.heldMs.get(key) ?? FIRST_ESTIMATE_MS) / cap));
    const inFlight = `${this.prefix}:slots:${key}`;
    let waitMs: number;
    try {
      waitMs = Number(await this.redis.eval(ACQUIRE, 2, inFlight, `${inFlight}:line`, String(this.ttls[kind]), String(cap), holder, String(spacing), String(MAX_WAIT_MS)));
    } catch {
      return { taken: true, release: async () => undefined };
    }
    if (waitMs > 0) return { taken: false, waitMs: Math.round(waitMs * (0.9 + 0.2 * Math.random())) };
    const started = performance.now();
    return {
      taken: true,
      release: async () => {
        this.observe(key, performance.now() - started);
        await this.redis.zrem(inFlight, holder).catch(() => undefined);
      },
    };
  }

  /** A moving average of how long this organization's slots of this kind are held. */
  private observe(key: string, ms: number): void {
    const previous = this.heldMs.get(key);
    if (previous === undefined && this.heldMs.size >= MAX_TRACKED) {
      const oldest = this.heldMs.keys().next().value;
      if (oldest !== undefined) this.heldMs.delete(oldest);
    }
    this.heldMs.set(key, previous === undefined ? ms : previous * 0.8 + ms * 0.2);
  }
}
