import type { Models } from '@music/persistence';
import type { RedisClient } from '@music/platform';
import { randomUUID } from 'node:crypto';

// The mark: the Redis server's run id (a restart, a restore from a backup, another server), the
// key's epoch (a key lost and created again) and the counter. Read in one round trip.
const READ = `
local epoch = redis.call('hget', KEYS[1], 'epoch')
if not epoch then
  redis.call('hsetnx', KEYS[1], 'epoch', ARGV[1])
  epoch = redis.call('hget', KEYS[1], 'epoch')
end
local n = redis.call('hget', KEYS[1], 'n') or '0'
local run = string.match(redis.call('info', 'server'), 'run_id:(%w+)') or '?'
return run .. '/' .. epoch .. '/' .. n`;

/** How long a raise may wait for Redis before the writer takes the store path instead. */
const RAISE_TIMEOUT_MS = 2000;

/** What one caller's writes raised (a poll subtracts its own raises from the mark's progress). */
export interface MarkTally {
  raised: number;
  /** A raise failed: the organization's remembered pages were forgotten in the store instead. */
  doubt: boolean;
}

export const newMarkTally = (): MarkTally => ({ raised: 0, doubt: false });

/** `mark` advanced by exactly `raised` since `start` (same server, same epoch)? */
export function markAdvancedBy(start: string | null, end: string | null, raised: number): boolean {
  if (start === null || end === null) return false;
  const a = start.split('/');
  const b = end.split('/');
  return a.length === 3 && b.length === 3 && a[0] === b[0] && a[1] === b[1] && Number(b[2]) - Number(a[2]) === raised;
}

/**
 * The write mark of each organization (docs/sync-model.md, "Unchanged pages skip the store"): a
 * counter in Redis the one writer raises before and after every write of the organization's items.
 * A poll that finds it where its remembered pages were recorded knows no item was written since.
 * When a raise fails (Redis down: the writes go on, their locks fail open), the organization's
 * remembered pages are forgotten in the store before the write, so nothing relies on the mark.
 */
export class WriteMarks {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly models: Pick<Models, 'pollMemory'>,
  ) {}

  private key(organizationId: string): string {
    return `${this.prefix}:writemark:{${organizationId}}`;
  }

  /** The mark now, or null when Redis cannot tell (then nothing is skipped). */
  async read(organizationId: string): Promise<string | null> {
    try {
      const value = await this.withTimeout(this.redis.eval(READ, 1, this.key(organizationId), randomUUID()));
      return typeof value === 'string' ? value : null;
    } catch {
      return null;
    }
  }

  /** Raises the mark (before and after a write); on failure forgets the organization's remembered pages. */
  async raise(organizationId: string, tally?: MarkTally): Promise<void> {
    try {
      await this.withTimeout(this.redis.hincrby(this.key(organizationId), 'n', 1));
      if (tally) tally.raised++;
    } catch {
      if (tally) tally.doubt = true;
      await this.models.pollMemory.updateMany({ organizationId, kind: 'head' }, { $set: { mark: null }, $inc: { gen: 1 } });
    }
  }

  private async withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis did not answer')), RAISE_TIMEOUT_MS);
    });
    work.catch(() => undefined);
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
