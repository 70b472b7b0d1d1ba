import type { Organization } from '@music/domain';
import type { Logger, RedisClient } from '@music/platform';
import type { ConfigurationReconciled, EntriesRemovedSince, SyncState } from '@music/sync-state';

/** How long the revision an organization's configuration was last reconciled at is remembered (then reconciled once more). */
const CONFIGURATION_MEMORY_MS = 24 * 3600 * 1000;

/**
 * Remembers a reconciled revision unless a higher one is remembered, or the memory was forgotten
 * since the reconciliation began (KEYS[2], the count of forgettings, is no longer ARGV[3], read
 * before it began). Reconciliations of one organization may end in any order (an org-changed
 * event's and the periodic one, on two workers): the later revision's must not be overwritten by
 * the earlier one's, and one that began before a write whose own reconciliation did not go through
 * may not have seen that write.
 */
const REMEMBER = `
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[3] then return 0 end
local stored = tonumber(redis.call('GET', KEYS[1]))
if stored and stored > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** Forgets the remembered revision, and counts it, so that a reconciliation under way then does not remember its own. */
const FORGET = `
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
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

  private forgottenKey(organizationId: string): string {
    return `${this.key(organizationId)}:forgotten`;
  }

  /**
   * Applies the organization's configuration to its pending work (rule 8), and remembers the
   * revision it did. Only the id is taken: the reconciliation reads the organization itself, after
   * listing the work it applies to (a copy the caller read earlier may be older than that work).
   */
  async reconcile(org: Pick<Organization, 'id'>): Promise<void> {
    const forgotten = (await this.deps.redis.get(this.forgottenKey(org.id))) ?? '';
    const reconciled = await this.deps.sync.maintenance.reconcileConfiguration(org.id);
    if (!reconciled) return;
    this.logChanges(org.id, reconciled);
    // Stopped because the organization changed meanwhile: the newer revision is reconciled by its own event (or the periodic pass).
    if (reconciled.complete) {
      await this.deps.redis.eval(REMEMBER, 2, this.key(org.id), this.forgottenKey(org.id), String(reconciled.revision), String(CONFIGURATION_MEMORY_MS), forgotten);
    }
  }

  /**
   * After a write that read the organization at `revision` and listed the items it wrote under the
   * polling entries `entries` (a poll run, an input webhook call, an accepted remote version, an
   * answer learned again): the configuration is applied again when an entry it read is gone
   * (`Maintenance.reconcileEntriesRemovedSince`). When that reconciliation did not go through (an
   * item's lock or a send's lease not had in time, the organization changed again), the revision
   * remembered is forgotten: the change's own reconciliation, remembered, ran before this write,
   * and the periodic pass would skip the organization until the memory expires a day later.
   */
  async afterWrite(organizationId: string, revision: number, entries: readonly string[]): Promise<EntriesRemovedSince> {
    const since = await this.deps.sync.maintenance.reconcileEntriesRemovedSince(organizationId, revision, entries);
    if (since.reconciled) {
      this.logChanges(organizationId, since.reconciled);
      if (!since.reconciled.complete) await this.forget(organizationId);
    }
    return since;
  }

  /**
   * As `afterWrite`, for a write already made that its caller reports as made (an owner's accept, a
   * deliver job's answer learned again): when the check fails (the store not answering), it is
   * logged with `context` and the revision remembered is forgotten, so the periodic pass applies
   * the configuration again. Failing the caller instead would report a write that happened as
   * failed, and its retry would find nothing left to do (no divergence any more).
   */
  async afterWriteMade(organizationId: string, revision: number, entries: readonly string[], context: Record<string, unknown>): Promise<void> {
    try {
      await this.afterWrite(organizationId, revision, entries);
    } catch (error) {
      this.deps.logger.warn('the check for a polling entry removed meanwhile failed after a write; the periodic pass applies the configuration again', {
        orgId: organizationId,
        ...context,
        err: (error as Error).message,
      });
      // Redis failing too: the memory expires within a day.
      await this.forget(organizationId).catch((e: Error) => this.deps.logger.warn('could not forget the reconciled revision', { orgId: organizationId, err: e.message }));
    }
  }

  /** The organization's configuration is reconciled again by the next periodic pass. */
  async forget(organizationId: string): Promise<void> {
    await this.deps.redis.eval(FORGET, 2, this.key(organizationId), this.forgottenKey(organizationId), String(CONFIGURATION_MEMORY_MS));
  }

  /** Whether the organization's latest revision was reconciled (its change event was not lost). */
  async isCurrent(org: Pick<Organization, 'id' | 'revision'>): Promise<boolean> {
    return (await this.deps.redis.get(this.key(org.id))) === String(org.revision);
  }

  private logChanges(organizationId: string, reconciled: ConfigurationReconciled): void {
    const { revision, complete: _complete, ...counts } = reconciled;
    if (counts.cancelled + counts.items + counts.entriesRemoved > 0) this.deps.logger.info("pending work follows the organization's configuration", { orgId: organizationId, revision, ...counts });
  }
}
