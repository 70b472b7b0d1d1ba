import type { ConnectionOptions } from 'bullmq';
import { QUEUE_NAMES, openQueue } from '@music/queue';
import type { Logger, RedisClient } from '@music/platform';
import type { Models } from '@music/persistence';
import type { IntegrationConfig } from './config';
import { SyncEngine } from './sync-engine';
import { scheduleMaintenance, startWorkers, type RunningWorkers } from './workers';
import type { Metrics, OutboundClient } from '@music/platform';

export interface IntegrationRuntime {
  engine: SyncEngine;
  workers: RunningWorkers | null;
  /** Closes workers first (they finish active jobs), then the queues. */
  close: () => Promise<void>;
}

/**
 * Opens the queues, builds the engine, and (when RUN_WORKERS) starts the workers, registers the
 * housekeeping schedulers and reconciles every organization's polling schedules with the database.
 */
export async function startIntegration(opts: {
  config: IntegrationConfig;
  logger: Logger;
  models: Models;
  redis: RedisClient;
  /** A connection for BullMQ (workers need `maxRetriesPerRequest: null`). */
  bullConnection: ConnectionOptions;
  http?: OutboundClient;
  /** The app's registry; the engine counts runs, records, deliveries and queue depths on it. */
  metrics?: Metrics;
}): Promise<IntegrationRuntime> {
  const { config, logger } = opts;
  const settings = { connection: opts.bullConnection, prefix: config.QUEUE_PREFIX };
  const queues = {
    polling: openQueue(QUEUE_NAMES.polling, settings),
    output: openQueue(QUEUE_NAMES.output, settings),
    inbound: openQueue(QUEUE_NAMES.inbound, settings),
    maintenance: openQueue(QUEUE_NAMES.maintenance, settings),
    notifications: openQueue(QUEUE_NAMES.notifications, settings),
    // Added by music-config, processed here: opened to be seen (Bull Board, queue metrics).
    orgEvents: openQueue(QUEUE_NAMES.orgEvents, settings),
  };
  const engine = new SyncEngine({ config, logger, models: opts.models, redis: opts.redis, queues, ...(opts.http ? { http: opts.http } : {}), ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  // Items written by earlier versions get their sync state (idempotent; nothing to do after the first start).
  const migrated = await engine.sync.maintenance.migrateLegacyItems(async (id) => (await engine.organizations.findById(id))?.polling.map((p) => p.id) ?? null);
  if (migrated > 0) logger.info('items of an earlier version migrated to the sync state', { migrated });
  let workers: RunningWorkers | null = null;
  if (config.RUN_WORKERS) {
    workers = startWorkers(engine, opts.bullConnection, config, logger);
    await scheduleMaintenance(queues.maintenance, config);
    await engine.reconcileAll();
  }
  return {
    engine,
    workers,
    close: async () => {
      if (workers) await workers.close();
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
