import type { Organization } from '@music/domain';
import type { Logger, RedisClient } from '@music/platform';
import type { SyncState } from '@music/sync-state';

/** How long the revision an organization's configuration was last reconciled at is remembered (then reconciled once more). */
const CONFIGURATION_MEMORY_MS = 24 * 3600 * 1000;

export interface ConfigurationMemoryDeps {
  sync: Pick<SyncState, 'maintenance'>;
  redis: RedisClient;
  /** QUEUE_PREFIX: the memory is shared by every process of the deployment. */
  prefix: string;
  logger: Logger;
}

/** Applies an organization's configuration to its pending work (rule 8), and remembers the revision it did it at. */
export class ConfigurationMemory {
  constructor(private readonly deps: ConfigurationMemoryDeps) {}

  private key(organizationId: string): string {
    return `${this.deps.prefix}:configuration-reconciled:${organizationId}`;
  }

  /** Applies the organization's configuration to its pending work (rule 8), and remembers the revision it did. */
  async reconcile(org: Organization): Promise<void> {
    const reconciled = await this.deps.sync.maintenance.reconcileConfiguration(org);
    if (reconciled.cancelled + reconciled.items + reconciled.entriesRemoved > 0) this.deps.logger.info("pending work follows the organization's configuration", { orgId: org.id, ...reconciled });
    await this.deps.redis.set(this.key(org.id), String(org.revision), 'PX', CONFIGURATION_MEMORY_MS);
  }

  /** Whether the organization's latest revision was reconciled (its change event was not lost). */
  async isCurrent(org: Organization): Promise<boolean> {
    return (await this.deps.redis.get(this.key(org.id))) === String(org.revision);
  }
}
