import type {
  Delivery,
  InventoryItem,
  Mappings,
  NotificationTarget,
  Organization,
  PollingEntry,
  SyncRun,
  Transform,
  User,
  Webhook,
} from '@music/domain';
import { emptyCounts } from '@music/domain';
import type { DeliveryDoc, InventoryItemDoc, OrganizationDoc, SyncRunDoc, UserDoc } from './models';

// Lean documents -> plain domain objects. Repositories return only these.

export const toUser = (doc: UserDoc): User => ({ id: doc._id, email: doc.email, createdAt: doc.createdAt });

export const toOrganization = (doc: OrganizationDoc): Organization => ({
  id: doc._id,
  ownerId: doc.ownerId,
  name: doc.name,
  synchronization: doc.synchronization,
  webhooks: doc.webhooks as Webhook[],
  polling: doc.polling as PollingEntry[],
  notifications: (doc.notifications ?? []) as NotificationTarget[],
  mappings: JSON.parse(doc.mappingsJson) as Mappings,
  transforms: JSON.parse(doc.transformsJson) as Transform[],
  revision: doc.revision,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
});

export const toInventoryItem = (doc: InventoryItemDoc): InventoryItem => ({
  id: doc._id,
  organizationId: doc.organizationId,
  externalId: doc.externalId,
  data: doc.data ?? {},
  origin: doc.origin,
  hash: doc.hash,
  version: doc.version,
  state: doc.state ?? 'synced',
  deleted: doc.deleted ?? false,
  pendingEvent: doc.pendingEvent ?? null,
  awaiting: doc.awaiting ?? [],
  gaveUp: doc.gaveUp ?? [],
  acked: doc.acked ?? false,
  fenceAt: doc.fenceAt ?? null,
  held: doc.held ?? null,
  remoteKnown: doc.remoteKnown,
  seenBy: doc.seenBy ?? [],
  missedBy: doc.missedBy ?? [],
  rev: doc.rev ?? 0,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
});

/** The document of an item (the inverse of toInventoryItem). */
export const toInventoryItemDoc = (item: InventoryItem): InventoryItemDoc => ({
  _id: item.id,
  organizationId: item.organizationId,
  externalId: item.externalId,
  data: item.data,
  origin: item.origin,
  hash: item.hash,
  version: item.version,
  state: item.state,
  deleted: item.deleted,
  pendingEvent: item.pendingEvent,
  awaiting: item.awaiting,
  gaveUp: item.gaveUp,
  acked: item.acked,
  fenceAt: item.fenceAt,
  held: item.held,
  remoteKnown: item.remoteKnown,
  seenBy: item.seenBy,
  missedBy: item.missedBy,
  rev: item.rev,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

export const toSyncRun = (doc: SyncRunDoc): SyncRun => ({
  id: doc._id,
  organizationId: doc.organizationId,
  pollingId: doc.pollingId,
  endpoint: doc.endpoint,
  trigger: doc.trigger,
  status: doc.status,
  counts: { ...emptyCounts(), ...doc.counts },
  pages: doc.pages ?? 0,
  errors: doc.errors,
  message: doc.message ?? null,
  queuedAt: doc.queuedAt,
  startedAt: doc.startedAt ?? null,
  finishedAt: doc.finishedAt ?? null,
});

export const toDelivery = (doc: DeliveryDoc): Delivery => ({
  id: doc._id,
  organizationId: doc.organizationId,
  itemId: doc.itemId,
  externalId: doc.externalId,
  eventId: doc.eventId,
  webhookId: doc.webhookId,
  url: doc.url,
  method: doc.method,
  op: doc.op,
  version: doc.version,
  body: doc.body,
  status: doc.status,
  attempts: doc.attempts,
  lastAttempts: doc.lastAttempts,
  lastError: doc.lastError ?? null,
  deadLettered: doc.deadLettered ?? false,
  resolution: doc.resolution ?? null,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
  deliveredAt: doc.deliveredAt ?? null,
});
