import type { Express } from 'express';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { newId, organizationInputSchema, type Organization } from '@music/domain';
import { OrganizationRepository, withEntryIds } from '@music/persistence';
import { JOB_NAMES, openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { provideValue, resolve } from '@music/platform';
import { clearPrefix, openTestRedis, openTestStore, testAccessToken, testLogger, testSecretBox, uniqueName, type TestStore } from '@music/testing';
import { loadInventoryConfig, type InventoryConfig } from './config';
import { INVENTORY, inventoryContainer } from './container';

/** The mappings the tests use: the example organization's four fields (with `"true"` strings) plus extras. */
export const TEST_MAPPINGS = {
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string', source: 'name', required: true },
  artist: { type: 'string', source: 'artist', required: 'true' },
  album: { type: 'string', source: 'album', required: 'true' },
  duration: { type: 'number', source: 'duration', required: false },
  tags: { type: 'array', source: 'tags', items: { type: 'string', required: false } },
  label: { type: 'object', source: 'label', properties: { name: { type: 'string', required: true }, year: { type: 'number', required: false } } },
} as const;

export interface TestUser {
  id: string;
  email: string;
  /** `Bearer <jwt>` for the authorization header. */
  auth: string;
}

/** One test file's world: its own database, its own BullMQ prefix, the app wired to both. */
export interface InventoryTestEnv {
  store: TestStore;
  redis: Redis;
  prefix: string;
  config: InventoryConfig;
  outputQueue: Queue<FanoutJob>;
  app: Express;
  /** Builds another app on the same store with a different output queue (e.g. one whose Redis is gone). */
  appWithQueue: (queue: Queue<FanoutJob>) => Express;
  user: () => Promise<TestUser>;
  organization: (ownerId: string, synchronization?: 'one-way' | 'two-way') => Promise<Organization>;
  /** Every fanout job under this file's prefix for the item, whatever its state. */
  fanoutJobs: (itemId: string) => Promise<Array<Job<FanoutJob>>>;
  close: () => Promise<void>;
}

export async function openInventoryTestEnv(name: string): Promise<InventoryTestEnv> {
  const store = await openTestStore(name);
  const redis = openTestRedis();
  const prefix = uniqueName(`${name}_q`);
  const config = loadInventoryConfig({ NODE_ENV: 'test', QUEUE_PREFIX: prefix });
  const outputQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: redis, prefix: config.QUEUE_PREFIX });
  const appWithQueue = (queue: Queue<FanoutJob>): Express => {
    const container = inventoryContainer({ config, logger: testLogger('music-inventory'), models: store.models, redis, outputQueue, healthChecks: [] });
    provideValue(container, INVENTORY.outputQueue, queue);
    return resolve(container, INVENTORY.app);
  };
  const organizations = new OrganizationRepository(store.models, testSecretBox());

  return {
    store,
    redis,
    prefix,
    config,
    outputQueue,
    app: appWithQueue(outputQueue),
    appWithQueue,
    user: async () => {
      const id = newId();
      const email = `${id}@test.example`;
      await store.models.users.create({ _id: id, email, passwordHash: 'not-used-here', createdAt: new Date() });
      const token = testAccessToken({ id, email });
      return { id, email, auth: `Bearer ${token}` };
    },
    organization: (ownerId, synchronization = 'two-way') =>
      organizations.create(ownerId, withEntryIds(organizationInputSchema.parse({ synchronization, mappings: TEST_MAPPINGS, webhooks: [], polling: [] }))),
    fanoutJobs: async (itemId) => {
      const jobs = await outputQueue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']);
      return jobs.filter((job) => job.name === JOB_NAMES.fanout && job.data.itemId === itemId);
    },
    close: async () => {
      await outputQueue.close();
      await clearPrefix(redis, prefix);
      redis.disconnect();
      await store.close();
    },
  };
}

/** A valid create body. */
export function song(externalId: string | number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { externalId, name: `Song ${externalId}`, artist: 'Artist', album: 'Album', ...extra };
}
