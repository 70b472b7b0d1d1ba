import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';
import type { HealthCheck } from './health';

export type RedisRole =
  /** BullMQ workers and blocking commands: wait forever for Redis to come back. */
  | 'worker'
  /** Request paths: fail fast while Redis is down rather than queue commands in memory. */
  | 'producer';

/** An ioredis client that reconnects with capped backoff. */
export function createRedis(url: string, role: RedisRole, logger: Logger): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    // A Redis that is up but not answering must not hang a request either.
    ...(role === 'producer' ? { commandTimeout: 2000 } : {}),
    connectTimeout: 5000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const client = new Redis(url, options);
  let down = false;
  client.on('error', (e: Error) => {
    if (!down) logger.warn('redis error', { role, err: e.message });
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info('redis reconnected', { role });
    down = false;
  });
  return client;
}

export function redisHealthCheck(client: Redis): HealthCheck {
  return {
    name: 'redis',
    // A fail-fast client rejects at once while disconnected, with ioredis' words about its offline
    // queue; say what is wrong instead. A worker client waits (bounded by the check timeout).
    check: async () => {
      if (client.status !== 'ready' && client.options.enableOfflineQueue === false) throw new Error(`not connected (${client.status})`);
      await client.ping();
    },
  };
}
