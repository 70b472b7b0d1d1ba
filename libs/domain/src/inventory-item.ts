/** Where an item's last write came from. Inbound (`remote`) writes never produce deliveries. */
export type Origin = 'local' | 'remote';

/**
 * The sync state stored on an item: `synced`, `pending` (a local change not yet settled) or
 * `diverged` (a local change the third party never took). With `deleted` it names the seven states
 * of the state table in docs/sync-model.md (see `itemStateOf`).
 */
export type StoredSyncState = 'synced' | 'pending' | 'diverged';

/** The states of one item in the state table (docs/sync-model.md). `absent`: no document. */
export type ItemState = 'absent' | 'synced' | 'pending' | 'diverged' | 'deleting' | 'delete-diverged' | 'gone';

/** A local change waiting to be fanned out to the output webhooks (the transactional outbox, kept
 * on the item itself because the development store has no multi-document transactions). */
export interface PendingEvent {
  id: string;
  op: 'upsert' | 'delete';
  version: number;
  at: Date;
  /** The request that made the change: the log lines of its fan-out and deliveries carry it. */
  requestId?: string;
}

/** The latest inbound change that arrived while a local change was unsettled or the item diverged. */
export interface HeldChange {
  op: 'upsert' | 'delete';
  /** The mapped fields of an upsert (null for a delete). */
  data: Record<string, unknown> | null;
  hash: string | null;
  /** Its freshness on the store clock (when its snapshot began, or when its webhook was accepted). */
  at: Date;
  /** The polling entries that may list the item according to this change (see `seenBy`). */
  entries: string[];
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
  /** +1 on every local change of a two-way organization; deliveries carry it. */
  version: number;
  state: StoredSyncState;
  /** A tombstone: deleted on one side, kept (invisible through the API) for fencing. */
  deleted: boolean;
  pendingEvent: PendingEvent | null;
  /** Output webhooks that still owe an answer for the current version (set by the fan-out). */
  awaiting: string[];
  /** Output webhooks that gave up on the current version (failed or dead-lettered). */
  gaveUp: string[];
  /** At least one output webhook acknowledged the current version. */
  acked: boolean;
  /** Store-clock time of the item's latest change: inbound changes not fresher than this never apply. */
  fenceAt: Date | null;
  held: HeldChange | null;
  /** The third party is known to hold the item (it came from there, or a delivery was acknowledged). */
  remoteKnown: boolean;
  /** The polling entries that may list the item; only their deletion passes consider it. */
  seenBy: string[];
  /** Page-numbered entries without a total whose last complete walk missed the item (two-miss rule). */
  missedBy: string[];
  /** Revision of the document: +1 on every write (writes are conditional on the revision read). */
  rev: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The state-table state of a stored item (or of none). */
export function itemStateOf(item: Pick<InventoryItem, 'state' | 'deleted'> | null): ItemState {
  if (!item) return 'absent';
  if (!item.deleted) return item.state;
  if (item.state === 'pending') return 'deleting';
  if (item.state === 'diverged') return 'delete-diverged';
  return 'gone';
}
