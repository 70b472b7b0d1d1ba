import { Schema, type Connection, type Model, type mongo, type SchemaDefinitionProperty } from 'mongoose';
import type { SyncControl } from './sync-control.repository';
import type { Delivery, DeliveryAttempt, InventoryItem, NotificationTarget, Organization, PollingEntry, RecordError, SyncRun, SyncRunCounts, User } from '@music/domain';

// Schemas for every collection. `_id` is a string we choose (uuid, or derived for inventory items).
// Third-party shaped or user-keyed values (mappings, transforms) are stored as JSON text: FerretDB
// and MongoDB refuse keys with '.' or a leading '$', and user-defined keys can contain anything.

const { Mixed } = Schema.Types;

/**
 * A list stored as plain values, typed as the document declares it: mongoose's definition types do
 * not take `[Mixed]` for a typed list, and would read an element's own `type` field (a webhook's, a
 * polling entry's) as the path's type.
 */
const plainList = <T>(): SchemaDefinitionProperty<T[]> => ({ type: [Mixed], default: [] }) as unknown as SchemaDefinitionProperty<T[]>;

/** A user as stored: the domain's shape with `_id` for `id`, and the bcrypt hash of the password (never leaves the repository but for the sign-in check). */
export type UserDoc = Omit<User, 'id'> & { _id: string; passwordHash: string };

/**
 * An organization as stored. It differs from the domain's `Organization` where storage needs it:
 * `_id`; secrets sealed (webhooks, notifications) and polling credentials one sealed JSON text
 * (organization-secrets.ts); mappings and transforms as JSON text; `deletedAt`.
 */
export type OrganizationDoc = Omit<Organization, 'id' | 'polling' | 'notifications' | 'mappings' | 'transforms'> & {
  _id: string;
  polling: StoredPollingEntry[];
  /** Notification webhooks (secrets sealed); absent on organizations stored before they existed. */
  notifications?: NotificationTarget[];
  mappingsJson: string;
  transformsJson: string;
  /** Set when the organization was deleted: hidden from every API at once, its data purged by a job. */
  deletedAt?: Date | null;
};

/** A polling entry as stored: its credentials sealed into one text (plain on entries stored before sealing). */
export type StoredPollingEntry = Omit<PollingEntry, 'auth'> & { auth?: string | PollingEntry['auth'] };

/**
 * One item as stored (see InventoryItem in @music/domain and docs/sync-model.md for every field):
 * the domain's shape with `_id` for `id`.
 */
export type InventoryItemDoc = Omit<InventoryItem, 'id'> & { _id: string };

/**
 * A sync run as stored: the domain's shape with `_id` for `id`; `counts` may lack counts added after
 * the run was stored (`toSyncRun` gives them as 0), and `pages`, `message`, `startedAt` and
 * `finishedAt` may be missing (lean reads apply no schema defaults; `toSyncRun` gives 0 and null).
 */
export type SyncRunDoc = Omit<SyncRun, 'id' | 'counts' | 'pages' | 'message' | 'startedAt' | 'finishedAt'> & {
  _id: string;
  counts: Partial<SyncRunCounts>;
  pages?: number;
  message?: string | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
};

/**
 * A delivery as stored: the domain's shape with `_id` for `id`; `deadLettered` and `resolution` are
 * absent on deliveries stored before they existed (`toDelivery` gives their defaults).
 */
export type DeliveryDoc = Omit<Delivery, 'id' | 'deadLettered' | 'resolution'> & {
  _id: string;
  deadLettered?: boolean;
  resolution?: string | null;
};

/** One input-webhook call, stored before it is answered 202 (durable; duplicates recognised by `_id`). */
export interface InboundMessageDoc {
  /** Derived from the organization and the sender's `webhook-id` (see inboundMessageId). */
  _id: string;
  organizationId: string;
  messageId: string;
  method: 'POST' | 'PUT' | 'DELETE';
  /** The raw body as received (JSON text): third-party payloads are never stored as documents. */
  body: string;
  /** Store-clock time of acceptance: the freshness of its changes (docs/sync-model.md, rule 2). */
  acceptedAt: Date;
  appliedAt: Date | null;
}

/**
 * The sync controls of an organization (`entryId` null) or of one of its polling entries: paused
 * or not and why, and the entry's run of consecutive failed runs (auto-pause). One document per
 * scope, so runs of two entries never update the same document.
 */
export interface SyncControlDoc extends SyncControl {
  /** `<organizationId>` for the organization, `<organizationId>/<entryId>` for an entry. */
  _id: string;
  updatedAt: Date;
}

const options = { versionKey: false, minimize: false, strict: true } as const;

const userSchema = new Schema<UserDoc>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true, unique: true },
    passwordHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { ...options, collection: 'users' },
);

const organizationSchema = new Schema<OrganizationDoc>(
  {
    _id: { type: String, required: true },
    ownerId: { type: String, required: true, index: true },
    name: { type: String, required: true },
    synchronization: { type: String, required: true, enum: ['one-way', 'two-way'] },
    webhooks: plainList<OrganizationDoc['webhooks'][number]>(),
    polling: plainList<StoredPollingEntry>(),
    notifications: plainList<NotificationTarget>(),
    mappingsJson: { type: String, required: true },
    transformsJson: { type: String, required: true },
    revision: { type: Number, required: true, default: 1 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    deletedAt: { type: Date, default: null },
  },
  { ...options, collection: 'organizations' },
);

const inventoryItemSchema = new Schema<InventoryItemDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    externalId: { type: String, required: true },
    data: { type: Mixed, default: {} },
    origin: { type: String, required: true, enum: ['local', 'remote'] },
    hash: { type: String, required: true },
    version: { type: Number, required: true, default: 0 },
    state: { type: String, required: true, enum: ['synced', 'pending', 'diverged'] },
    deleted: { type: Boolean, required: true, default: false },
    pendingEvent: { type: Mixed, default: null },
    awaiting: { type: [String], default: [] },
    gaveUp: { type: [String], default: [] },
    acked: { type: Boolean, default: false },
    fenceAt: { type: Date, default: null },
    held: { type: Mixed, default: null },
    remoteKnown: { type: Boolean, required: true, default: false },
    seenBy: { type: [String], default: [] },
    missedBy: { type: [String], default: [] },
    rev: { type: Number, required: true, default: 0 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...options, collection: 'inventory_items' },
);
inventoryItemSchema.index({ organizationId: 1, externalId: 1 }, { unique: true });
inventoryItemSchema.index({ organizationId: 1, _id: 1 });
inventoryItemSchema.index({ 'pendingEvent.at': 1 });
inventoryItemSchema.index({ organizationId: 1, state: 1 });
inventoryItemSchema.index({ deleted: 1, fenceAt: 1 });

const syncRunSchema = new Schema<SyncRunDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    pollingId: { type: String, required: true },
    endpoint: { type: String, required: true },
    trigger: { type: String, required: true },
    status: { type: String, required: true },
    counts: { type: Mixed, default: {} },
    pages: { type: Number, default: 0 },
    errors: plainList<RecordError>(),
    message: { type: String, default: null },
    queuedAt: { type: Date, required: true },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
  },
  { ...options, collection: 'sync_runs', suppressReservedKeysWarning: true },
);
syncRunSchema.index({ organizationId: 1, queuedAt: -1 });

const deliverySchema = new Schema<DeliveryDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    itemId: { type: String, required: true },
    externalId: { type: String, required: true },
    eventId: { type: String, required: true },
    webhookId: { type: String, required: true },
    url: { type: String, required: true },
    method: { type: String, required: true },
    op: { type: String, required: true },
    version: { type: Number, required: true },
    body: { type: String, required: true },
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    lastAttempts: plainList<DeliveryAttempt>(),
    lastError: { type: String, default: null },
    deadLettered: { type: Boolean, default: false },
    resolution: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    deliveredAt: { type: Date, default: null },
  },
  { ...options, collection: 'deliveries' },
);
deliverySchema.index({ organizationId: 1, status: 1, createdAt: -1 });
deliverySchema.index({ itemId: 1, webhookId: 1, version: 1 });

const inboundMessageSchema = new Schema<InboundMessageDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    messageId: { type: String, required: true },
    method: { type: String, required: true },
    body: { type: String, required: true },
    acceptedAt: { type: Date, required: true },
    appliedAt: { type: Date, default: null },
  },
  { ...options, collection: 'inbound_messages' },
);
inboundMessageSchema.index({ appliedAt: 1, acceptedAt: 1 });
inboundMessageSchema.index({ organizationId: 1 });

const syncControlSchema = new Schema<SyncControlDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    entryId: { type: String, default: null },
    paused: { type: Boolean, required: true, default: false },
    pausedReason: { type: String, default: null },
    pausedAt: { type: Date, default: null },
    pausedAutomatically: { type: Boolean, default: false },
    consecutiveFailures: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    lastSuccessAt: { type: Date, default: null },
    updatedAt: { type: Date, required: true },
  },
  { ...options, collection: 'sync_controls' },
);
syncControlSchema.index({ organizationId: 1 });
/**
 * What a poll remembers of one polling entry (docs/sync-model.md, "Unchanged pages skip the store"):
 * one `head` document per entry and one `page` document per remembered page.
 */
export interface PollMemoryDoc {
  _id: string;
  organizationId: string;
  pollingId: string;
  kind: 'head' | 'page';
  // head
  /** The write mark the remembered pages are true at (null: in doubt). */
  mark?: string | null;
  /** The entry's fetch settings and the mappings the pages were recorded with. */
  configKey?: string;
  /** Pages of the last complete walk (or of the walk so far). */
  pages?: number;
  /** The last walk was complete and consistent and its deletion pass (if any) left nothing to do. */
  passSettled?: boolean;
  /** Incremental polling: the highest cursor value seen, and runs since the last full snapshot. */
  cursor?: string | number | null;
  runsSinceFull?: number;
  /** Raised with the mark forgotten by a writer that could not raise the write mark: a run saves its head only if it is unchanged. */
  gen?: number;
  // page
  index?: number;
  fingerprint?: string | null;
  bodyHash?: string | null;
  /** The page's externalIds as JSON text (one value: far cheaper to store and read than an array of them). */
  idsJson?: string;
  /** How many externalIds `idsJson` lists (absent on pages saved before it was stored). */
  idCount?: number;
  etag?: string | null;
  lastModified?: string | null;
  /** What the walk needs from a page answered 304: its next cursor, records fetched, total, last record's identity. */
  next?: string | null;
  fetched?: number;
  total?: number | null;
  first?: string | null;
  last?: string | null;
  trimmed?: boolean;
}

const pollMemorySchema = new Schema<PollMemoryDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    pollingId: { type: String, required: true },
    kind: { type: String, required: true },
    mark: { type: String, default: undefined },
    configKey: { type: String, default: undefined },
    pages: { type: Number, default: undefined },
    passSettled: { type: Boolean, default: undefined },
    cursor: { type: Mixed, default: undefined },
    runsSinceFull: { type: Number, default: undefined },
    gen: { type: Number, default: undefined },
    index: { type: Number, default: undefined },
    fingerprint: { type: String, default: undefined },
    bodyHash: { type: String, default: undefined },
    idsJson: { type: String, default: undefined },
    idCount: { type: Number, default: undefined },
    etag: { type: String, default: undefined },
    lastModified: { type: String, default: undefined },
    next: { type: String, default: undefined },
    fetched: { type: Number, default: undefined },
    total: { type: Number, default: undefined },
    first: { type: String, default: undefined },
    last: { type: String, default: undefined },
    trimmed: { type: Boolean, default: undefined },
  },
  { ...options, collection: 'poll_memory' },
);
pollMemorySchema.index({ organizationId: 1, pollingId: 1 });

/**
 * The driver's collection behind a model, typed by its documents. For the delivery path's few
 * commands, where mongoose's query building costs the worker more CPU than the command itself
 * (docs/performance.md, section 3): filters, updates and documents go to the store as written,
 * not cast by the schema, so use it only where every value already has its stored type.
 */
export function collectionOf<T>(model: Model<T>): mongo.Collection<T & mongo.Document> {
  return model.collection as unknown as mongo.Collection<T & mongo.Document>;
}

export interface Models {
  users: Model<UserDoc>;
  organizations: Model<OrganizationDoc>;
  inventoryItems: Model<InventoryItemDoc>;
  syncRuns: Model<SyncRunDoc>;
  deliveries: Model<DeliveryDoc>;
  inboundMessages: Model<InboundMessageDoc>;
  syncControls: Model<SyncControlDoc>;
  pollMemory: Model<PollMemoryDoc>;
}

/** Registers every model on one connection (each app and each test has its own connection). */
export function createModels(connection: Connection): Models {
  return {
    users: connection.model<UserDoc>('User', userSchema),
    organizations: connection.model<OrganizationDoc>('Organization', organizationSchema),
    inventoryItems: connection.model<InventoryItemDoc>('InventoryItem', inventoryItemSchema),
    syncRuns: connection.model<SyncRunDoc>('SyncRun', syncRunSchema),
    deliveries: connection.model<DeliveryDoc>('Delivery', deliverySchema),
    inboundMessages: connection.model<InboundMessageDoc>('InboundMessage', inboundMessageSchema),
    syncControls: connection.model<SyncControlDoc>('SyncControl', syncControlSchema),
    pollMemory: connection.model<PollMemoryDoc>('PollMemory', pollMemorySchema),
  };
}

/** Builds the indexes of every model; apps call it once at start-up. */
export async function ensureIndexes(models: Models): Promise<void> {
  await Promise.all(Object.values(models).map((m: Model<unknown>) => m.createIndexes()));
}
