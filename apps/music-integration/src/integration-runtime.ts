import type { DependencyContainer } from 'tsyringe';
import { resolve } from '@music/platform';
import { INTEGRATION, integrationContainer, type IntegrationDeps } from './container';
import { scheduleMaintenance, startWorkers, type RunningWorkers } from './workers';

export interface IntegrationRuntime {
  /** The composition root it was started from (resolve `INTEGRATION.app` for its HTTP app). */
  container: DependencyContainer;
  workers: RunningWorkers | null;
  /** Closes workers first (they finish active jobs), then the queues. */
  close: () => Promise<void>;
}

/**
 * Opens the queues, builds what the sync works with, and (when RUN_WORKERS) starts the workers, registers the
 * housekeeping schedulers and reconciles every organization's polling schedules with the database.
 */
export async function startIntegration(deps: IntegrationDeps): Promise<IntegrationRuntime> {
  return startIntegrationIn(integrationContainer(deps));
}

/** startIntegration from a composition root already built (main.ts resolves the HTTP app from the same one). */
export async function startIntegrationIn(container: DependencyContainer): Promise<IntegrationRuntime> {
  const config = resolve(container, INTEGRATION.config);
  const logger = resolve(container, INTEGRATION.logger);
  const queues = resolve(container, INTEGRATION.queues);
  const sync = resolve(container, INTEGRATION.syncState);
  const organizations = resolve(container, INTEGRATION.organizations);
  // Items written by earlier versions get their sync state (idempotent; nothing to do after the first start).
  const migrated = await sync.maintenance.migrateLegacyItems(async (id) => (await organizations.findById(id))?.polling.map((p) => p.id) ?? null);
  if (migrated > 0) logger.info('items of an earlier version migrated to the sync state', { migrated });
  let workers: RunningWorkers | null = null;
  if (config.RUN_WORKERS) {
    workers = startWorkers(container, resolve(container, INTEGRATION.deps).bullConnection, config, logger);
    await scheduleMaintenance(queues.maintenance, config);
    await resolve(container, INTEGRATION.reconcileAll).execute();
  }
  return {
    container,
    workers,
    close: async () => {
      if (workers) await workers.close();
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
