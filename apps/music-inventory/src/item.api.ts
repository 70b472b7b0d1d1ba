import { hasUndeliveredLocalChange, type InventoryItem } from '@music/domain';

/** The sync state a client sees: where the last write came from and whether it is still on its way out. */
export interface ItemSyncApi {
  origin: InventoryItem['origin'];
  version: number;
  /** A local change not yet delivered to the third party (event not fanned out, or deliveries not settled). */
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
      origin: item.origin,
      version: item.version,
      pending: hasUndeliveredLocalChange(item),
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
