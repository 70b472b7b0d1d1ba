import type { Organization } from '@music/domain';
import type { Logger, RedisClient } from '@music/platform';
import type { SyncState } from '@music/sync-state';

/** How long the revision an organization's configuration was last reconciled at is remembered (then reconciled once more). */
const CONFIGURATION_MEMORY_MS = 24 * 3600 * 1000;

/**
 * Remembers a reconciled revision unless a higher one is remembered: reconciliations of one
 * organization may end in any order (an org-changed event's and the periodic one, on two
 * workers), and the later revision's must not be overwritten by the earlier one's.
 */
const REMEMBER = `
local stored = tonumber(redis.call('GET', KEYS[1]))
if stored and stored > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

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

  /**
   * Applies the organization's configuration to its pending work (rule 8), and remembers the
   * revision it did. Only the id is taken: the reconciliation reads the organization itself, after
   * listing the work it applies to (a copy the caller read earlier may be older than that work).
   */
  async reconcile(org: Pick<Organization, 'id'>): Promise<void> {
    const reconciled = await this.deps.sync.maintenance.reconcileConfiguration(org.id);
    if (!reconciled) return;
    const { revision, complete, ...counts } = reconciled;
    if (counts.cancelled + counts.items + counts.entriesRemoved > 0) this.deps.logger.info("pending work follows the organization's configuration", { orgId: org.id, revision, ...counts });
    // Stopped because the organization changed meanwhile: the newer revision is reconciled by its own event (or the periodic pass).
    if (complete) await this.deps.redis.eval(REMEMBER, 1, this.key(org.id), String(revision), String(CONFIGURATION_MEMORY_MS));
  }

  /** Whether the organization's latest revision was reconciled (its change event was not lost). */
  async isCurrent(org: Pick<Organization, 'id' | 'revision'>): Promise<boolean> {
    return (await this.deps.redis.get(this.key(org.id))) === String(org.revision);
  }
}
