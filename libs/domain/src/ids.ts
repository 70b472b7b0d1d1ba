import { createHash, randomUUID } from 'node:crypto';

function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

/**
 * An inventory item's id is derived from its organization and externalId, so the natural key is
 * the primary key: one item per (organizationId, externalId) on every store, and upserts by `_id`
 * (the only key FerretDB looks up without a scan).
 */
export function inventoryItemId(organizationId: string, externalId: string): string {
  return createHash('sha256').update(`${organizationId}\u0000${externalId}`).digest('hex').slice(0, 24);
}

/** Stable id of a polling entry: the same endpoint and schedule keep the same job scheduler. */
export function pollingEntryId(entry: { endpoint: string; interval: number; type: string }): string {
  return shortHash(entry.endpoint, String(entry.interval), entry.type);
}

/** Stable id of a webhook: deliveries and their ordering locks are keyed by it. */
export function webhookId(webhook: { type: string; method: string; url: string }): string {
  return shortHash(webhook.type, webhook.method, webhook.url);
}

export const newId = (): string => randomUUID();
