import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type { DependencyContainer } from 'tsyringe';
import { resolve } from '@music/platform';
import { openQueue, QUEUE_NAMES, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import { clearPrefix, openTestRedis, openTestStore, testLogger, uniqueName, type TestStore } from '@music/testing';
import { loadConfigServiceSettings, type ConfigServiceSettings } from './config';
import { CONFIG, configContainer, type ConfigQueues } from './container';

/** One test file's world: its own database, its own BullMQ prefix and producer queues, the app built from the container. */
export interface ConfigTestEnv {
  store: TestStore;
  redis: Redis;
  prefix: string;
  queues: ConfigQueues;
  config: ConfigServiceSettings;
  /** The app with the file's settings. */
  app: Express;
  /**
   * A container on the same store, Redis and queues, with these settings over the file's (an
   * override with `provideValue` before resolving `CONFIG.app` changes one part).
   */
  containerWith: (env?: Record<string, string>) => DependencyContainer;
  /** `resolve(containerWith(env), CONFIG.app)`. */
  appWith: (env?: Record<string, string>) => Express;
  close: () => Promise<void>;
}

export interface ConfigTestEnvOptions {
  /** Settings over `NODE_ENV=test` and the file's QUEUE_PREFIX. */
  env?: Record<string, string>;
  /** Whether deletions queue their purge (the maintenance queue); without it, none is queued. */
  purges?: boolean;
}

export async function openConfigTestEnv(name: string, options: ConfigTestEnvOptions = {}): Promise<ConfigTestEnv> {
  const store = await openTestStore(name);
  const redis = openTestRedis();
  const prefix = uniqueName(`${name}_q`);
  const settings = { connection: redis, prefix };
  const queues: ConfigQueues = {
    orgEvents: openQueue<OrgChangedJob>(QUEUE_NAMES.orgEvents, settings),
    polling: openQueue<PollJob>(QUEUE_NAMES.polling, settings),
    ...(options.purges ? { maintenance: openQueue<PurgeOrganizationJob>(QUEUE_NAMES.maintenance, settings) } : {}),
  };
  const settingsWith = (env: Record<string, string> = {}) => loadConfigServiceSettings({ NODE_ENV: 'test', QUEUE_PREFIX: prefix, ...options.env, ...env });
  const containerWith = (env: Record<string, string> = {}) => configContainer({ config: settingsWith(env), logger: testLogger('music-config'), models: store.models, redis, healthChecks: [], queues });
  const appWith = (env: Record<string, string> = {}) => resolve(containerWith(env), CONFIG.app);
  return {
    store,
    redis,
    prefix,
    queues,
    config: settingsWith(),
    app: appWith(),
    containerWith,
    appWith,
    close: async () => {
      await Promise.all(Object.values(queues).map((q: { close: () => Promise<void> }) => q.close()));
      await clearPrefix(redis, prefix);
      await store.close();
      redis.disconnect();
    },
  };
}
