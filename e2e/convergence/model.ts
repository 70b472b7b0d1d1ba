// The reference model of the two-way sync: what each side must hold after each command, written
// from docs/sync-model.md and nothing else. It is deliberately small and naive (plain maps, no
// timing): the real system must agree with it after every command and at the end of every
// sequence. A change of a documented rule (conflicts, the delete guard) is a change here.

/** The mapped fields of a song (the organization maps id/name/artist/album, the brief's mapping). */
export interface Fields {
  name: string;
  artist: string;
  album: string;
}

export const FIELD_NAMES = ['name', 'artist', 'album'] as const;

export function sameFields(a: Fields, b: Fields): boolean {
  return a.name === b.name && a.artist === b.artist && a.album === b.album;
}

/** One item on our side, as the sync model describes it. */
export interface LocalItem {
  fields: Fields;
  /** Deleted through the API, the DELETE not delivered yet. */
  tombstone: boolean;
  /** A local change not yet delivered ("pendingEvent set or version > settledVersion"). */
  pending: boolean;
  /** The third party is known to hold the item (came from there, or a delivery of it succeeded). */
  remoteKnown: boolean;
  /**
   * Local change counter: +1 per local change. A new document continues from the highest version
   * the externalId had before (its deliveries stay and are ordered by version).
   */
  version: number;
}

/** What became of one inbound record. */
export type InboundEffect = 'created' | 'updated' | 'unchanged' | 'conflict';
export type InboundDeleteEffect = 'deleted' | 'absent' | 'conflict';

/** A local change the API accepted: it must produce at most one delivery (one matching webhook). */
export interface LocalEvent {
  externalId: string;
  version: number;
  op: 'upsert' | 'delete';
}

/** An input webhook the third party sent (or will send): its body is the record as it was then. */
export interface WebhookMessage {
  messageId: string;
  method: 'POST' | 'DELETE';
  externalId: string;
  /** The mapped fields carried (POST only). */
  fields: Fields | null;
  /** The body as the third party sends it (its own shape, unmapped fields included). */
  body: Record<string, unknown>;
}

export interface PollPrediction {
  status: 'succeeded' | 'attention';
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  conflicts: number;
}

/** Expected HTTP status of a local write through the inventory API. */
export type LocalStatus = 201 | 200 | 204 | 404 | 409;

export interface ModelOptions {
  /** DELETE_GUARD_RATIO of the engine under test. */
  deleteGuardRatio: number;
  /** Commands the third party may stay down before the sequence must bring it back. */
  maxDownCommands: number;
}

export class SyncModel {
  /** Our side: live items and tombstones, by externalId. */
  readonly local = new Map<string, LocalItem>();
  /** The third party: mapped fields by id. */
  readonly remote = new Map<string, Fields>();
  /** Webhooks sent by the third party but not delivered yet (delayed; delivered in any order). */
  readonly delayedWebhooks: WebhookMessage[] = [];
  /** Message ids the integration app has accepted (a repeat with the same webhook-id is queued once). */
  readonly acceptedMessageIds = new Set<string>();
  /** Every local change the API accepted, in order. */
  readonly events: LocalEvent[] = [];
  /** Local changes that must have reached the third party (the last change of an item before it settled). */
  mustDeliver = 0;
  /** Deliveries to the third party are failing (an injected outage of its /sync endpoints). */
  down = false;
  /** Commands run since the outage began. */
  downFor = 0;
  /** Items the last poll kept although the third party no longer has them (the delete guard held). */
  guardHeld: string[] = [];
  lastPoll: PollPrediction | null = null;
  private messageSeq = 0;
  /** The version each externalId's last removed document had. */
  private readonly floors = new Map<string, number>();

  constructor(readonly options: ModelOptions) {}

  // ---- local writes through the inventory API ------------------------------------------------

  localCreate(externalId: string, fields: Fields): LocalStatus {
    const item = this.local.get(externalId);
    if (item && !item.tombstone) return 409;
    if (item) {
      // Reviving a tombstone whose DELETE has not gone out yet: same document, next version.
      Object.assign(item, { fields: { ...fields }, tombstone: false, pending: true, version: item.version + 1 });
    } else {
      this.local.set(externalId, { fields: { ...fields }, tombstone: false, pending: true, remoteKnown: false, version: this.floor(externalId) + 1 });
    }
    this.recordEvent(externalId, 'upsert');
    return 201;
  }

  /** PUT replaces every field; PATCH changes the fields given. A change to the same content emits nothing. */
  localUpdate(externalId: string, change: Partial<Fields>): LocalStatus {
    const item = this.local.get(externalId);
    if (!item || item.tombstone) return 404;
    const next = { ...item.fields, ...change };
    if (sameFields(next, item.fields)) return 200;
    Object.assign(item, { fields: next, pending: true, version: item.version + 1 });
    this.recordEvent(externalId, 'upsert');
    return 200;
  }

  localDelete(externalId: string): LocalStatus {
    const item = this.local.get(externalId);
    if (!item || item.tombstone) return 404;
    Object.assign(item, { tombstone: true, pending: true, version: item.version + 1 });
    this.recordEvent(externalId, 'delete');
    return 204;
  }

  private recordEvent(externalId: string, op: LocalEvent['op']): void {
    const item = this.local.get(externalId);
    if (item) this.events.push({ externalId, version: item.version, op });
  }

  /**
   * The third party is reachable and the queues drained: every item's latest local change has been
   * delivered (older ones may have been superseded), so the third party holds our latest state.
   */
  deliverPending(): void {
    if (this.down) return;
    for (const [externalId, item] of [...this.local]) {
      if (!item.pending) continue;
      this.mustDeliver++;
      if (item.tombstone) {
        // A delivered DELETE removes the tombstone.
        this.remote.delete(externalId);
        this.removeLocal(externalId);
      } else {
        // The third party upserts by id: the mapped fields become ours (its other fields stay).
        this.remote.set(externalId, { ...item.fields });
        Object.assign(item, { pending: false, remoteKnown: true });
      }
    }
  }

  // ---- the third party ------------------------------------------------------------------------

  /** A change made at the third party; `body` is the record its webhook carries. */
  remoteUpsert(externalId: string, fields: Fields, body: Record<string, unknown>): WebhookMessage {
    this.remote.set(externalId, { ...fields });
    return { messageId: this.nextMessageId(), method: 'POST', externalId, fields: { ...fields }, body };
  }

  remoteDelete(externalId: string, body: Record<string, unknown>): WebhookMessage {
    this.remote.delete(externalId);
    return { messageId: this.nextMessageId(), method: 'DELETE', externalId, fields: null, body };
  }

  private nextMessageId(): string {
    return `msg-${++this.messageSeq}`;
  }

  // ---- inbound: input webhooks and polls --------------------------------------------------------

  /** An input webhook reaches /sync. Returns whether the app must answer `duplicate: true`. */
  receiveWebhook(message: WebhookMessage): { duplicate: boolean } {
    if (this.acceptedMessageIds.has(message.messageId)) return { duplicate: true };
    this.acceptedMessageIds.add(message.messageId);
    if (message.method === 'DELETE') this.inboundDelete(message.externalId);
    else if (message.fields) this.inboundUpsert(message.externalId, message.fields);
    return { duplicate: false };
  }

  /**
   * The conflict rule (sync-model.md, "Conflicts"): a local change not yet delivered wins over any
   * inbound write, a tombstone included; otherwise the inbound write wins (the latest one applied).
   */
  inboundUpsert(externalId: string, fields: Fields): InboundEffect {
    const item = this.local.get(externalId);
    if (!item) {
      this.local.set(externalId, { fields: { ...fields }, tombstone: false, pending: false, remoteKnown: true, version: this.floor(externalId) });
      return 'created';
    }
    if (item.tombstone || item.pending) return 'conflict';
    item.remoteKnown = true;
    if (sameFields(item.fields, fields)) return 'unchanged';
    item.fields = { ...fields };
    return 'updated';
  }

  inboundDelete(externalId: string): InboundDeleteEffect {
    const item = this.local.get(externalId);
    if (!item) return 'absent';
    if (item.tombstone || item.pending) return 'conflict';
    this.removeLocal(externalId);
    return 'deleted';
  }

  /**
   * A complete poll: every record upserted by the rule above, then the items the third party held
   * before and no longer returns are deleted, unless the snapshot is empty or they are more than
   * the guard ratio of the known items (then nothing is deleted and the run needs attention).
   * `snapshot` is what the third party answered (by default what it holds now); items changed
   * since the run started (`changedDuringRun`: a local change delivered meanwhile) are never taken
   * for remote deletes (sync-model.md, poll step 5).
   */
  poll(snapshot: ReadonlyMap<string, Fields> = this.remote, changedDuringRun: ReadonlySet<string> = new Set()): PollPrediction {
    const p: PollPrediction = { status: 'succeeded', fetched: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, conflicts: 0 };
    for (const [externalId, fields] of [...snapshot]) {
      p.fetched++;
      const effect = this.inboundUpsert(externalId, fields);
      if (effect === 'conflict') p.conflicts++;
      else p[effect]++;
    }
    const live = [...this.local].filter(([, item]) => !item.tombstone && item.remoteKnown);
    const vanished = live.filter(([id, item]) => !snapshot.has(id) && !item.pending && !changedDuringRun.has(id)).map(([id]) => id);
    this.guardHeld = [];
    if (vanished.length > 0) {
      if (snapshot.size === 0 || vanished.length > live.length * this.options.deleteGuardRatio) {
        p.status = 'attention';
        this.guardHeld = vanished;
      } else {
        for (const id of vanished) this.removeLocal(id);
        p.deleted = vanished.length;
      }
    }
    this.lastPoll = p;
    return p;
  }

  private floor(externalId: string): number {
    return this.floors.get(externalId) ?? 0;
  }

  private removeLocal(externalId: string): void {
    const item = this.local.get(externalId);
    if (item) this.floors.set(externalId, Math.max(this.floor(externalId), item.version));
    this.local.delete(externalId);
  }

  // ---- outages --------------------------------------------------------------------------------

  goDown(): void {
    this.down = true;
    this.downFor = 0;
  }

  comeBack(): void {
    this.down = false;
    this.downFor = 0;
    this.deliverPending();
  }

  /** Counts commands during an outage (the sequence must end it within maxDownCommands). */
  tick(): void {
    if (this.down) this.downFor++;
  }

  get mustComeBack(): boolean {
    return this.down && this.downFor >= this.options.maxDownCommands;
  }

  // ---- what the end state must be --------------------------------------------------------------

  /** Live items on our side (tombstones are invisible through the API). */
  liveLocal(): Map<string, Fields> {
    const out = new Map<string, Fields>();
    for (const [id, item] of this.local) if (!item.tombstone) out.set(id, item.fields);
    return out;
  }
}
