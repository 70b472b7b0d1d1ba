import { z } from 'zod';

/** Where an item's last write came from. Inbound (`remote`) writes never produce deliveries. */
export const originSchema = z.enum(['local', 'remote']);
export type Origin = z.infer<typeof originSchema>;

/**
 * The sync state stored on an item: `synced`, `pending` (a local change not yet settled) or
 * `diverged` (a local change the third party never took). With `deleted` it names the seven states
 * of the state table in docs/sync-model.md (see `itemStateOf`).
 */
export const storedSyncStateSchema = z.enum(['synced', 'pending', 'diverged']);
export type StoredSyncState = z.infer<typeof storedSyncStateSchema>;

/** The states of one item in the state table (docs/sync-model.md). `absent`: no document. */
export type ItemState = 'absent' | 'synced' | 'pending' | 'diverged' | 'deleting' | 'delete-diverged' | 'gone';

const changeOpSchema = z.enum(['upsert', 'delete']);

/** A local change waiting to be fanned out to the output webhooks (the transactional outbox, kept
 * on the item itself because the development store has no multi-document transactions). */
export const pendingEventSchema = z.object({
  id: z.string(),
  op: changeOpSchema,
  version: z.number().int(),
  at: z.date(),
  /** The request that made the change: the log lines of its fan-out and deliveries carry it. */
  requestId: z.string().optional(),
});
export type PendingEvent = z.infer<typeof pendingEventSchema>;

/** The latest inbound change that arrived while a local change was unsettled or the item diverged. */
export const heldChangeSchema = z.object({
  op: changeOpSchema,
  /** The mapped fields of an upsert (null for a delete). */
  data: z.record(z.string(), z.unknown()).nullable(),
  hash: z.string().nullable(),
  /** Its freshness on the store clock (when its snapshot began, or when its webhook was accepted). */
  at: z.date(),
  /** The polling entries that may list the item according to this change (see `seenBy`). */
  entries: z.array(z.string()),
});
export type HeldChange = z.infer<typeof heldChangeSchema>;

/** Our side of the sync: one song of one organization. */
export const inventoryItemSchema = z.object({
  id: z.string(),
  organizationId: z.string(),
  externalId: z.string(),
  /** Every mapped field except externalId (name, artist, album, ...). */
  data: z.record(z.string(), z.unknown()),
  origin: originSchema,
  /** Content hash of externalId + data; equal hashes mean nothing to write or deliver. */
  hash: z.string(),
  /** +1 on every local change of a two-way organization; deliveries carry it. */
  version: z.number().int(),
  state: storedSyncStateSchema,
  /** A tombstone: deleted on one side, kept (invisible through the API) for fencing. */
  deleted: z.boolean(),
  pendingEvent: pendingEventSchema.nullable(),
  /** Output webhooks that still owe an answer for the current version (set by the fan-out). */
  awaiting: z.array(z.string()),
  /** Output webhooks that gave up on the current version (failed or dead-lettered). */
  gaveUp: z.array(z.string()),
  /** At least one output webhook acknowledged the current version. */
  acked: z.boolean(),
  /** Store-clock time of the item's latest change: inbound changes not fresher than this never apply. */
  fenceAt: z.date().nullable(),
  held: heldChangeSchema.nullable(),
  /** The third party is known to hold the item (it came from there, or a delivery was acknowledged). */
  remoteKnown: z.boolean(),
  /** The polling entries that may list the item; only their deletion passes consider it. */
  seenBy: z.array(z.string()),
  /** Page-numbered entries without a total whose last complete walk missed the item (two-miss rule). */
  missedBy: z.array(z.string()),
  /** Revision of the document: +1 on every write (writes are conditional on the revision read). */
  rev: z.number().int(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type InventoryItem = z.infer<typeof inventoryItemSchema>;

/** The state-table state of a stored item (or of none). */
export function itemStateOf(item: Pick<InventoryItem, 'state' | 'deleted'> | null): ItemState {
  if (!item) return 'absent';
  if (!item.deleted) return item.state;
  if (item.state === 'pending') return 'deleting';
  if (item.state === 'diverged') return 'delete-diverged';
  return 'gone';
}
