import { contentHash } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import type { InboundWebhookJob } from '@music/queue';
import type { Logger } from '@music/platform';
import type { InboundItemsRepository, InboundRecord } from './inbound-items.repository';
import type { MappingCache } from './mapping-cache';

export interface InboundWebhookDeps {
  organizations: OrganizationRepository;
  items: InboundItemsRepository;
  mappings: MappingCache;
  logger: Logger;
}

export interface InboundWebhookSummary {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  invalid: number;
  conflicts: number;
}

/**
 * Applies one accepted input-webhook call: POST/PUT upsert the records (mapped with the
 * organization's mappings), DELETE removes them by mapped externalId. Origin `remote`: nothing here
 * is ever delivered back.
 */
export async function applyInboundWebhook(job: InboundWebhookJob, deps: InboundWebhookDeps): Promise<InboundWebhookSummary> {
  const summary: InboundWebhookSummary = { received: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, invalid: 0, conflicts: 0 };
  const org = await deps.organizations.findById(job.organizationId);
  if (!org) return summary;
  const mapping = deps.mappings.for(org);
  const parsed = JSON.parse(job.body) as unknown;
  const records = Array.isArray(parsed) ? parsed : [parsed];
  summary.received = records.length;

  if (job.method === 'DELETE') {
    const ids: string[] = [];
    for (const record of records) {
      const id = mapping.externalIdOf(record);
      if (id === undefined) summary.invalid++;
      else ids.push(id);
    }
    const removed = await deps.items.remove(org.id, ids);
    summary.deleted = removed.deleted;
    summary.conflicts = removed.conflicts;
    if (removed.deferred > 0) throw new Error(`${removed.deferred} delete(s) deferred by concurrent writes; retrying`);
  } else {
    const batch: InboundRecord[] = [];
    for (const record of records) {
      const outcome = mapping.toItem(record);
      if (outcome.ok) batch.push({ externalId: outcome.externalId, data: outcome.data, hash: contentHash(outcome.externalId, outcome.data) });
      else summary.invalid++;
    }
    const applied = await deps.items.apply(org.id, batch);
    Object.assign(summary, { created: applied.created, updated: applied.updated, unchanged: applied.unchanged, conflicts: applied.conflicts });
    // Records whose item stayed locked by another writer: retry the job (the rest are now unchanged).
    if (applied.deferred > 0) throw new Error(`${applied.deferred} record(s) deferred by concurrent writes; retrying`);
  }
  deps.logger.info('inbound webhook applied', { messageId: job.messageId, method: job.method, ...summary });
  return summary;
}
