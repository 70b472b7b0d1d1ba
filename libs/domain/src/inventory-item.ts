/** Where an item's last write came from. Inbound (`remote`) writes never produce deliveries. */
export type Origin = 'local' | 'remote';

/** A local change waiting to be fanned out to the output webhooks (the transactional outbox, kept
 * on the item itself because FerretDB has no multi-document transactions). */
export interface PendingEvent {
  id: string;
  op: 'upsert' | 'delete';
  version: number;
  at: Date;
  /** The request that made the change: the log lines of its fan-out and deliveries carry it. */
  requestId?: string;
}

/** Our side of the sync: one song of one organization. */
export interface InventoryItem {
  id: string;
  organizationId: string;
  externalId: string;
  /** Every mapped field except externalId (name, artist, album, ...). */
  data: Record<string, unknown>;
  origin: Origin;
  /** Content hash of externalId + data; equal hashes mean nothing to write or deliver. */
  hash: string;
  /** Local change counter: +1 on every create/update/delete through the inventory API. */
  version: number;
  /** Highest local version whose deliveries have finished (delivered, dead-lettered or superseded). */
  settledVersion: number;
  pendingEvent: PendingEvent | null;
  /** True once the third party is known to hold the item (seen inbound, or delivered). */
  remoteKnown: boolean;
  /** Set on a local delete of a two-way item until the DELETE is delivered (a tombstone). */
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A local change not yet delivered wins over inbound writes (design.md, "Conflicts"). */
export function hasUndeliveredLocalChange(item: Pick<InventoryItem, 'pendingEvent' | 'version' | 'settledVersion'>): boolean {
  return item.pendingEvent !== null || item.version > item.settledVersion;
}
