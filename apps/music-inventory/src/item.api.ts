import type { InventoryItem, StoredSyncState } from '@music/domain';

/**
 * The sync state a client sees: `state` is `synced`, `pending` (a local change on its way to the
 * third party) or `diverged` (a local change the third party never took: see the divergences API
 * on music-integration); `version` counts local changes; `origin` says where the last write came from.
 */
export interface ItemSyncApi {
  state: StoredSyncState;
  version: number;
  origin: InventoryItem['origin'];
  /** A local change not yet settled (`state` is not `synced`). */
  pending: boolean;
  remoteKnown: boolean;
}

/** An item as the API answers it: its identity, every mapped field at the top level, and its sync state. */
export type ItemApi = Record<string, unknown> & {
  id: string;
  organizationId: string;
  externalId: string;
  sync: ItemSyncApi;
  createdAt: Date;
  updatedAt: Date;
};

export function toItemApi(item: InventoryItem): ItemApi {
  const identity = { id: item.id, organizationId: item.organizationId, externalId: item.externalId };
  // Fields come between identity and sync state; the envelope keys are assigned last so a mapped
  // field with the same name can never overwrite them.
  return Object.assign({ ...identity }, item.data, {
    ...identity,
    sync: {
      state: item.state,
      version: item.version,
      origin: item.origin,
      pending: item.state !== 'synced',
      remoteKnown: item.remoteKnown,
    },
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  });
}

/** A page of items. */
export function toItemPageApi(page: { items: InventoryItem[]; nextCursor: string | null }): { items: ItemApi[]; nextCursor: string | null } {
  return { items: page.items.map(toItemApi), nextCursor: page.nextCursor };
}
