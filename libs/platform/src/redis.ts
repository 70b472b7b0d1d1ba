import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';
import type { HealthCheck } from './health';

export type RedisRole =
  /** BullMQ workers and blocking commands: wait forever for Redis to come back. */
  | 'worker'
  /** Request paths: fail fast while Redis is down rather than queue commands in memory. */
  | 'producer';

/** A connection to one Redis server, or to a Redis Cluster (REDIS_CLUSTER=true). */
export type RedisClient = Redis | Cluster;

/** Where Redis is: the two settings of baseEnvSchema. A plain URL means one server. */
export interface RedisSettings {
  REDIS_URL: string;
  REDIS_CLUSTER?: boolean;
}

const reconnectDelay = (times: number): number => Math.min(times * 200, 2000);

/** Username, password and TLS of a redis:// or rediss:// URL, which every node of a Cluster shares. */
function nodeOptionsOf(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function clusterOf(urls: string[], perRequest: RedisOptions, role: RedisRole): Cluster {
  const seeds = urls.map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
  const node = nodeOptionsOf(urls[0] as string);
  const options: ClusterOptions = {
    // Credentials and TLS apply to every node the cluster reports, not only to the seeds.
    redisOptions: { ...perRequest, ...node },
    enableOfflineQueue: role === 'worker',
    clusterRetryStrategy: reconnectDelay,
    // With TLS the nodes' certificates name hosts, not the addresses the cluster reports.
    ...(node.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(seeds, options);
}

/**
 * An ioredis client that reconnects with capped backoff: to one server (REDIS_URL), or to a
 * Redis Cluster seeded by the comma-separated REDIS_URL when REDIS_CLUSTER is true.
 */
export function createRedis(target: string | RedisSettings, role: RedisRole, logger: Logger): RedisClient {
  const settings: RedisSettings = typeof target === 'string' ? { REDIS_URL: target } : target;
  const perRequest: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    // A Redis that is up but not answering must not hang a request either.
    ...(role === 'producer' ? { commandTimeout: 2000 } : {}),
    connectTimeout: 5000,
  };
  const urls = settings.REDIS_URL.split(',').map((url) => url.trim()).filter((url) => url.length > 0);
  const client: RedisClient = settings.REDIS_CLUSTER
    ? clusterOf(urls, perRequest, role)
    : new Redis(settings.REDIS_URL, { ...perRequest, enableOfflineQueue: role === 'worker', lazyConnect: false, retryStrategy: reconnectDelay });
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

export function redisHealthCheck(client: RedisClient): HealthCheck {
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
