import { Result } from '@sapphire/result';
import { contentHash } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import type { InboundWebhookJob } from '@music/queue';
import type { Logger } from '@music/platform';
import type { InboundRecord, SyncState } from '@music/sync-state';
import type { MappingCache } from '../../engine/mapping-cache';
import type { SyncMetrics } from '../../engine/sync-metrics';
import type { ConfigurationMemory } from '../../maintenance/configuration-memory';

export interface InboundWebhookDeps {
  organizations: OrganizationRepository;
  sync: Pick<SyncState, 'remote' | 'inbox'>;
  configuration: Pick<ConfigurationMemory, 'afterWrite'>;
  mappings: MappingCache;
  logger: Logger;
  /** TOMBSTONE_RETENTION_MS: a call older than this may predate a tombstone that expired; it creates nothing. */
  tombstoneRetentionMs: number;
  metrics: SyncMetrics | null;
}

/** Records whose item stayed locked by another writer: the job retries (the rest are applied, and applying them again changes nothing). */
export interface InboundDeferred {
  kind: 'retry';
  message: string;
}

export interface InboundWebhookSummary {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Deletes of items we do not have. */
  absent: number;
  invalid: number;
  /** Held: a local change not yet settled wins. */
  conflicts: number;
  /** Held: the item diverged. */
  diverged: number;
  /** Older than the item's latest change (rule 2). */
  stale: number;
}

/**
 * Applies one stored input-webhook call: POST/PUT upsert the records (mapped with the
 * organization's mappings), DELETE removes them by mapped externalId, each by the state table with
 * the call's acceptance time as its freshness. Origin `remote`: nothing here is ever delivered back.
 * The stored message is marked applied at the end (applying it again changes nothing: same freshness).
 */
export class ApplyInboundWebhookUseCase {
  constructor(private readonly deps: InboundWebhookDeps) {}

  async execute(job: InboundWebhookJob): Promise<Result<InboundWebhookSummary, InboundDeferred>> {
    const result = await this.apply(job);
    if (result.isOk()) this.deps.metrics?.inboundApplied(result.unwrap());
    return result;
  }

  private async apply(job: InboundWebhookJob): Promise<Result<InboundWebhookSummary, InboundDeferred>> {
    const deps = this.deps;
    const summary: InboundWebhookSummary = { received: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, absent: 0, invalid: 0, conflicts: 0, diverged: 0, stale: 0 };
    const org = await deps.organizations.findById(job.organizationId);
    if (!org) {
      // Deleted meanwhile: its purge removes the message.
      await deps.sync.inbox.markApplied(job.storedId);
      return Result.ok(summary);
    }
    const mapping = deps.mappings.for(org);
    const parsed = JSON.parse(job.body) as unknown;
    const records = Array.isArray(parsed) ? parsed : [parsed];
    summary.received = records.length;
    const freshness = new Date(job.acceptedAt);
    const origin = { kind: 'webhook' as const, freshness, entries: org.polling.map((p) => p.id) };
    // A call this old creates nothing (rule 2); its age is measured by the write itself, after it
    // finds the item absent, so a tombstone expiring while the call is on its way cannot let it through.
    const createBefore = new Date(freshness.getTime() + deps.tombstoneRetentionMs);

    let deferred: number;
    if (job.method === 'DELETE') {
      const ids: string[] = [];
      for (const record of records) {
        const id = mapping.externalIdOf(record);
        if (id === undefined) summary.invalid++;
        else ids.push(id);
      }
      const applied = await deps.sync.remote.applyDeletes(org.id, ids, origin);
      Object.assign(summary, { deleted: applied.deleted, absent: applied.absent, conflicts: applied.conflicts, diverged: applied.diverged, stale: applied.stale });
      deferred = applied.deferred;
    } else {
      const batch: InboundRecord[] = [];
      for (const record of records) {
        const outcome = mapping.toItem(record);
        if (outcome.ok) batch.push({ externalId: outcome.externalId, data: outcome.data, hash: contentHash(outcome.externalId, outcome.data) });
        else summary.invalid++;
      }
      const applied = await deps.sync.remote.applyUpserts(org.id, batch, origin, { createBefore });
      Object.assign(summary, { created: applied.created, updated: applied.updated, unchanged: applied.unchanged, conflicts: applied.conflicts, diverged: applied.diverged, stale: applied.stale });
      deferred = applied.deferred;
    }
    // A polling entry removed while the call was applied may be in the items' `seenBy` written here
    // (rule 6): the configuration is applied again then (Maintenance). A failure fails the call (retried).
    await deps.configuration.afterWrite(org.id, org.revision, origin.entries);
    // Records whose item stayed locked by another writer: retry the job (the rest are applied, and
    // applying them again changes nothing).
    if (deferred > 0) return Result.err({ kind: 'retry', message: `${deferred} record(s) deferred by concurrent writes; retrying` });
    await deps.sync.inbox.markApplied(job.storedId);
    deps.logger.info('inbound webhook applied', { messageId: job.messageId, method: job.method, ...summary });
    return Result.ok(summary);
  }
}
