import { SongGenerator, type FakerItem, type FakerSong } from './song';

/** Where the faker calls out: `create` URLs get a POST with the new songs, `remove` URLs a DELETE with the removed one. */
export interface WebhookConfig {
  create: string[];
  remove: string[];
}

/** What a webhook target is called for: songs generated (`create`) or a song deleted (`remove`). */
export type WebhookEvent = 'create' | 'remove';

/** One URL the faker calls on an event; with a secret, its calls are signed (Standard Webhooks). */
export interface WebhookTargetInput {
  event: WebhookEvent;
  url: string;
  /** `whsec_<base64>` (or any string of 16+ characters, used as raw key bytes). */
  secret?: string;
}

export interface WebhookTarget extends WebhookTargetInput {
  /** Stable while the target exists: `DELETE /config/targets/:id` removes it. */
  id: string;
}

/** At most this many targets per event in one namespace. */
export const MAX_TARGETS_PER_EVENT = 20;

/** Which requests an injected fault hits: deliveries to /sync/*, the `GET /music` list, or both. */
export type FaultTarget = 'sync' | 'music' | 'all';

/** A test-only fault: the next `remaining` matching requests (all of them when null) wait and/or fail. */
export interface FaultPlan {
  target: FaultTarget;
  /** Calls still to affect; null means every call until the faults are cleared. */
  remaining: number | null;
  /** Status to answer with; null means "only delay, then answer normally". */
  status: number | null;
  delayMs: number;
  retryAfterSeconds: number | null;
}

/** What became of one delivery to /sync/*. */
export type DeliveryOutcome = 'applied' | 'duplicate' | 'rejected' | 'unauthorized' | 'fault';

/** One request received on a /sync/* delivery endpoint, whatever its outcome. */
export interface ReceivedDelivery {
  /** Order of arrival, from 1. */
  seq: number;
  /** The `webhook-id` header, or null when absent. */
  webhookId: string | null;
  method: string;
  path: string;
  receivedAt: string;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
  outcome: DeliveryOutcome;
  /** The status the faker answered with. */
  status: number;
}

/** Totals since the last reset (they keep counting after the log drops old entries). */
export interface DeliveryCounts {
  /** Every request to a /sync/* delivery endpoint. */
  total: number;
  applied: number;
  /** Repeated `webhook-id`s: acknowledged 200, not applied again. */
  duplicates: number;
  rejected: number;
  unauthorized: number;
  faults: number;
}

/** One call the faker made to a configured create/remove webhook URL. */
export interface OutboundCall {
  event: WebhookEvent;
  /** The target called, and the `webhook-id` header it was sent (every call has one). */
  targetId: string;
  webhookId: string;
  /** Whether the call carried a `webhook-signature` (the target has a secret). */
  signed: boolean;
  method: 'POST' | 'DELETE';
  url: string;
  /** The JSON body sent. */
  body: unknown;
  /** Response status, or null when the call failed (timeout, refused...). */
  status: number | null;
  error: string | null;
  ms: number;
  at: string;
}

export interface FakerStateOptions {
  /** Deterministic songs and ids; `reset()` restarts the same sequence. */
  seed?: number;
  /** Clock for `updatedAt` and log times (tests may pin it). */
  now?: () => Date;
  /** Newest received deliveries and outbound calls kept in the logs (default 1000 each). */
  logLimit?: number;
}

interface Stored {
  seq: number;
  item: FakerItem;
}

// Applied webhook ids remembered for de-duplication; the oldest are forgotten past this.
const SEEN_WEBHOOK_IDS_LIMIT = 10000;

const emptyCounts = (): DeliveryCounts => ({ total: 0, applied: 0, duplicates: 0, rejected: 0, unauthorized: 0, faults: 0 });

/**
 * Everything the fake third party holds, in memory: its songs (in insertion order), its webhook
 * config, the log of deliveries it received from us, the calls it made, and injected faults.
 * Tests create one, hand it to `createFakerApp({ ..., state })`, then inspect or reset it directly.
 */
export class FakerState {
  readonly seed: number | undefined;
  private readonly now: () => Date;
  private readonly logLimit: number;
  private readonly generator: SongGenerator;

  private items = new Map<string, Stored>();
  /** When the list last changed (any create, update, removal or reset): the list's `Last-Modified`. */
  private changedAt = new Date(0);
  private nextSeq = 1;
  private targets: WebhookTarget[] = [];
  private nextTargetId = 1;
  private receivedLog: ReceivedDelivery[] = [];
  private receivedSeq = 0;
  private counts = emptyCounts();
  private seenWebhookIds = new Set<string>();
  private outboundLog: OutboundCall[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private fault: FaultPlan | null = null;

  constructor(private readonly options: FakerStateOptions = {}) {
    this.seed = options.seed;
    this.now = options.now ?? (() => new Date());
    this.logLimit = options.logLimit ?? 1000;
    this.generator = new SongGenerator(options.seed);
  }

  // ---- songs -------------------------------------------------------------------------------

  /** Creates and stores `count` songs; returns them in creation order. */
  generate(count: number): FakerSong[] {
    const songs: FakerSong[] = [];
    for (let i = 0; i < count; i++) {
      const song = this.generator.next(this.now());
      this.items.set(song.id, { seq: this.nextSeq++, item: { ...song } });
      this.changedAt = new Date();
      songs.push(song);
    }
    return songs;
  }

  /** Every item, in insertion order (an update keeps an item's place). */
  list(): FakerItem[] {
    return [...this.items.values()].map((s) => ({ ...s.item }));
  }

  /** When the list last changed (wall clock of this process, whatever `now` the songs are stamped with). */
  get listChangedAt(): Date {
    return this.changedAt;
  }

  get size(): number {
    return this.items.size;
  }

  get(id: string): FakerItem | undefined {
    const stored = this.items.get(id);
    return stored ? { ...stored.item } : undefined;
  }

  /**
   * Stores or updates an item by id (fields sent replace stored ones, others stay). `updatedAt`
   * is kept when sent, otherwise stamped now.
   */
  upsert(incoming: FakerItem): 'created' | 'updated' {
    const existing = this.items.get(incoming.id);
    const updatedAt = typeof incoming['updatedAt'] === 'string' ? incoming['updatedAt'] : this.now().toISOString();
    const item: FakerItem = { ...(existing?.item ?? {}), ...incoming, updatedAt };
    this.changedAt = new Date();
    if (existing) {
      existing.item = item;
      return 'updated';
    }
    this.items.set(item.id, { seq: this.nextSeq++, item });
    return 'created';
  }

  /** Removes an item; returns it, or undefined when it was not there. */
  remove(id: string): FakerItem | undefined {
    const stored = this.items.get(id);
    if (!stored) return undefined;
    this.items.delete(id);
    this.changedAt = new Date();
    return stored.item;
  }

  /**
   * Up to `limit` items inserted after position `afterSeq` (0 = from the start), and the position
   * of the last one returned, or null when nothing follows. Positions never shift, so a cursor walk
   * stays exact while items are added or removed.
   */
  itemsAfter(afterSeq: number, limit: number, where: (item: FakerItem) => boolean = () => true): { items: FakerItem[]; lastSeq: number | null } {
    const items: FakerItem[] = [];
    let lastSeq: number | null = null;
    for (const stored of this.items.values()) {
      if (stored.seq <= afterSeq || !where(stored.item)) continue;
      if (items.length === limit) return { items, lastSeq };
      items.push({ ...stored.item });
      lastSeq = stored.seq;
    }
    return { items, lastSeq: null };
  }

  /**
   * A state of its own for another namespace: same clock and log limit; with a seed, a seed derived
   * from this one and the name (deterministic, and different songs than this namespace's).
   */
  sibling(name: string): FakerState {
    const seed = this.seed === undefined ? undefined : (this.seed + hashName(name)) | 0;
    return new FakerState({ ...this.options, ...(seed === undefined ? {} : { seed }) });
  }

  // ---- webhook targets ---------------------------------------------------------------------

  /** The URLs called per event (the `{ create, remove }` view of the targets that `GET /config` answers). */
  get webhookConfig(): WebhookConfig {
    return { create: this.urlsFor('create'), remove: this.urlsFor('remove') };
  }

  /**
   * Replaces every target with these lists (`PUT /config`). An entry is a URL or
   * `{ url, secret }`.
   */
  setWebhookConfig(config: { create: Array<string | Omit<WebhookTargetInput, 'event'>>; remove: Array<string | Omit<WebhookTargetInput, 'event'>> }): void {
    this.targets = [];
    for (const event of ['create', 'remove'] as const) {
      for (const entry of config[event]) this.targets.push(this.newTarget(typeof entry === 'string' ? { event, url: entry } : { ...entry, event }));
    }
  }

  /** Every target, secrets included (in-process use; the HTTP API never shows a secret). */
  get webhookTargets(): WebhookTarget[] {
    return this.targets.map((t) => ({ ...t }));
  }

  targetsFor(event: WebhookEvent): WebhookTarget[] {
    return this.targets.filter((t) => t.event === event).map((t) => ({ ...t }));
  }

  /** Adds one target beside the others; undefined when the event has MAX_TARGETS_PER_EVENT already. */
  addTarget(input: WebhookTargetInput): WebhookTarget | undefined {
    if (this.targets.filter((t) => t.event === input.event).length >= MAX_TARGETS_PER_EVENT) return undefined;
    const target = this.newTarget(input);
    this.targets.push(target);
    return { ...target };
  }

  /** Removes a target; false when there was none with that id. */
  removeTarget(id: string): boolean {
    const before = this.targets.length;
    this.targets = this.targets.filter((t) => t.id !== id);
    return this.targets.length < before;
  }

  private urlsFor(event: WebhookEvent): string[] {
    return this.targets.filter((t) => t.event === event).map((t) => t.url);
  }

  private newTarget(input: WebhookTargetInput): WebhookTarget {
    return { id: `wh_${this.nextTargetId++}`, event: input.event, url: input.url, ...(input.secret ? { secret: input.secret } : {}) };
  }

  // ---- deliveries received from us ---------------------------------------------------------

  /** The newest received deliveries, oldest first. */
  get received(): ReceivedDelivery[] {
    return this.receivedLog.map((r) => ({ ...r }));
  }

  get deliveryCounts(): DeliveryCounts {
    return { ...this.counts };
  }

  /** True when a delivery with this `webhook-id` was already applied. */
  wasApplied(webhookId: string): boolean {
    return this.seenWebhookIds.has(webhookId);
  }

  recordDelivery(entry: Omit<ReceivedDelivery, 'seq' | 'receivedAt'>): ReceivedDelivery {
    const record: ReceivedDelivery = { seq: ++this.receivedSeq, receivedAt: this.now().toISOString(), ...entry };
    this.receivedLog.push(record);
    if (this.receivedLog.length > this.logLimit) this.receivedLog.shift();
    this.counts.total++;
    switch (entry.outcome) {
      case 'applied':
        this.counts.applied++;
        if (entry.webhookId !== null) this.rememberWebhookId(entry.webhookId);
        break;
      case 'duplicate':
        this.counts.duplicates++;
        break;
      case 'rejected':
        this.counts.rejected++;
        break;
      case 'unauthorized':
        this.counts.unauthorized++;
        break;
      case 'fault':
        this.counts.faults++;
        break;
      default: {
        const unreachable: never = entry.outcome;
        throw new Error(`unknown outcome ${String(unreachable)}`);
      }
    }
    return record;
  }

  private rememberWebhookId(id: string): void {
    this.seenWebhookIds.add(id);
    if (this.seenWebhookIds.size > SEEN_WEBHOOK_IDS_LIMIT) {
      const oldest = this.seenWebhookIds.values().next().value;
      if (oldest !== undefined) this.seenWebhookIds.delete(oldest);
    }
  }

  // ---- calls the faker makes ---------------------------------------------------------------

  /** The newest create/remove webhook calls that finished, oldest first. */
  get outbound(): OutboundCall[] {
    return this.outboundLog.map((c) => ({ ...c }));
  }

  recordOutbound(call: Omit<OutboundCall, 'at'>): void {
    this.outboundLog.push({ ...call, at: this.now().toISOString() });
    if (this.outboundLog.length > this.logLimit) this.outboundLog.shift();
  }

  /** Keeps a fire-and-forget call visible to `whenIdle()`. */
  track(call: Promise<unknown>): void {
    this.pending.add(call);
    void call.finally(() => this.pending.delete(call));
  }

  /** Resolves once every create/remove webhook call in flight has finished (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  // ---- test-only faults --------------------------------------------------------------------

  get faults(): FaultPlan | null {
    return this.fault ? { ...this.fault } : null;
  }

  setFaults(plan: FaultPlan): void {
    this.fault = { ...plan };
  }

  clearFaults(): void {
    this.fault = null;
  }

  /** The fault to apply to this request, if any (and counts it against `remaining`). */
  takeFault(kind: 'sync' | 'music'): FaultPlan | undefined {
    const plan = this.fault;
    if (!plan || (plan.target !== 'all' && plan.target !== kind)) return undefined;
    if (plan.remaining !== null) {
      plan.remaining--;
      if (plan.remaining <= 0) this.fault = null;
    }
    return { ...plan };
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Back to empty: items, webhook targets, received log and counts, outbound log, faults; the seed sequence restarts. */
  reset(): void {
    this.items = new Map();
    this.changedAt = new Date();
    this.nextSeq = 1;
    this.targets = [];
    this.nextTargetId = 1;
    this.receivedLog = [];
    this.receivedSeq = 0;
    this.counts = emptyCounts();
    this.seenWebhookIds = new Set();
    this.outboundLog = [];
    this.fault = null;
    this.generator.restart();
  }
}

/** A small stable hash of a namespace name (FNV-1a), to derive its seed. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
