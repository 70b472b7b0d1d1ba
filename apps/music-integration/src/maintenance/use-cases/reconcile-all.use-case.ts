import type { OrganizationRepository } from '@music/persistence';
import type { Logger, RedisClient } from '@music/platform';
import type { PollingSchedules } from '../../polling/polling-schedules';
import type { ConfigurationMemory } from '../configuration-memory';
import type { ExpireRetainedUseCase } from './expire-retained.use-case';

/** The key that says a reconciliation of every organization ran within RECONCILE_INTERVAL_MS (across all processes). */
export const reconcileDoneKey = (prefix: string): string => `${prefix}:reconcile-done`;

export interface ReconcileAllDeps {
  organizations: Pick<OrganizationRepository, 'listWithPolling' | 'listLive'>;
  schedules: Pick<PollingSchedules, 'reconcileAll'>;
  configuration: ConfigurationMemory;
  expireRetained: Pick<ExpireRetainedUseCase, 'execute'>;
  redis: RedisClient;
  /** QUEUE_PREFIX */
  prefix: string;
  /** RECONCILE_INTERVAL_MS */
  intervalMs: number;
  logger: Logger;
}

/**
 * Reconciles every organization's schedules and pending work with the database (org events can
 * be lost: they are best effort), expires tombstones and old inbound messages, and defers the
 * next periodic reconciliation an interval.
 */
export class ReconcileAllUseCase {
  constructor(private readonly deps: ReconcileAllDeps) {}

  async execute(): Promise<{ upserted: number; removed: number }> {
    const deps = this.deps;
    await deps.redis.set(reconcileDoneKey(deps.prefix), String(Date.now()), 'PX', deps.intervalMs);
    const result = await deps.schedules.reconcileAll(await deps.organizations.listWithPolling());
    // Only organizations whose latest revision was not reconciled (its change event lost): each one is a scan of its items.
    // The list only picks them: a pass over many organizations reaches the last ones long after the
    // list was read, so each reconciliation reads its organization itself (after listing its work).
    // A revision stored after the list is reconciled by its own event, or by the next pass.
    for (const org of await deps.organizations.listLive()) {
      if (!(await deps.configuration.isCurrent(org))) await deps.configuration.reconcile({ id: org.id });
    }
    const expired = await deps.expireRetained.execute();
    deps.logger.info('polling schedules and pending work reconciled', { ...result, ...expired });
    return result;
  }
}
