import { createHash, randomBytes, randomUUID } from 'node:crypto';

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

/**
 * The id earlier versions derived for a polling entry. Organizations created then keep these ids
 * (they are stored); new entries get `newEntryId()`.
 */
export function pollingEntryId(entry: { endpoint: string; interval: number; type: string }): string {
  return shortHash(entry.endpoint, String(entry.interval), entry.type);
}

/** The id earlier versions derived for a webhook (kept by the organizations that have it). */
export function webhookId(webhook: { type: string; method: string; url: string }): string {
  return shortHash(webhook.type, webhook.method, webhook.url);
}

/** A new webhook or polling entry id: random, so it survives any edit of the entry. */
export const newEntryId = (): string => randomBytes(8).toString('hex');

export const newId = (): string => randomUUID();
