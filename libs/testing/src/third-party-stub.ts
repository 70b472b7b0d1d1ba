import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gate } from './gate';

/** A record as the stub third party holds it (its own shape: `id`, not `externalId`). */
export type StubRecord = Record<string, unknown> & { id: string };

export interface StubDelivery {
  webhookId: string | undefined;
  method: string;
  path: string;
  body: unknown;
  status: number;
  /** The Standard Webhooks headers and exact body, to verify a signature with. */
  timestamp: string | undefined;
  signature: string | undefined;
  raw: string;
  /** Every header as received (content-type, the Standard Webhooks ones...). */
  headers: IncomingHttpHeaders;
  /** With `idempotent`: a webhook-id already applied, answered 200 and not applied again. */
  duplicate?: boolean;
}

/** One list request as the stub saw it (before answering). */
export interface StubListRequest {
  /** The list's name: `''` for GET /music, `a` for GET /music/a. */
  list: string;
  params: URLSearchParams;
  /** How many list requests this list has had, this one included. */
  seq: number;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of this machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * The deliveries one counted path received, tallied on arrival instead of stored (see
 * `ThirdPartyStub.count`): enough for runs of many thousands of deliveries.
 */
export class DeliveryTally {
  /** externalId (the record's `id`) -> arrival time (`nowMs`) of its first delivery. */
  readonly arrivals = new Map<string, number>();
  readonly webhookIds = new Set<string>();
  /** Deliveries whose webhook-id had already arrived (redeliveries). */
  duplicates = 0;
  /** Arrival time of the latest distinct delivery. */
  last = 0;
  private waiters: Array<{ count: number; resolve: (at: number) => void }> = [];

  constructor(readonly url: string) {}

  /** Distinct deliveries (by webhook-id). */
  get distinct(): number {
    return this.webhookIds.size;
  }

  /** Resolves with the arrival time of the `count`-th distinct delivery. */
  waitFor(count: number, timeoutMs: number): Promise<number> {
    if (this.webhookIds.size >= count) return Promise.resolve(this.last);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.webhookIds.size} of ${count} deliveries to ${this.url} arrived within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  record(webhookId: string, raw: string, at: number): void {
    if (this.webhookIds.has(webhookId)) {
      this.duplicates++;
      return;
    }
    this.webhookIds.add(webhookId);
    this.last = at;
    try {
      const record = JSON.parse(raw) as { id?: unknown };
      if (typeof record.id === 'string' && !this.arrivals.has(record.id)) this.arrivals.set(record.id, at);
    } catch {
      // Counted by webhook-id all the same.
    }
    const size = this.webhookIds.size;
    this.waiters = this.waiters.filter((w) => {
      if (size < w.count) return true;
      w.resolve(at);
      return false;
    });
  }
}

/** A list generated from the record index: any page of any size, without holding the data set. */
interface GeneratedList {
  total: number;
  recordAt: (index: number) => Record<string, unknown>;
}

interface Failure {
  count: number;
  status: number;
}

/**
 * A controllable third party on a loopback port, the one test double of a third party for the
 * integration and end-to-end tests and the benchmark. It is not the faker (`apps/music-faker`): the
 * faker is the product's demo third party, a service with its own API, data and signed webhooks that
 * users run next to ours; the stub is a double a test steers (hold a list answer, reorder, fail or
 * slow down a delivery, generate a large list, count what arrived) and inspects afterwards.
 * - lists its records at GET /music (whole array, `?page=&limit=`, `?offset=&limit=`, or
 *   `?cursor=&limit=` pages; `withTotal` wraps pages as `{ items, total }`), named subsets at
 *   GET /music/<list> (`lists`), and generated lists of any size (`generatedList`: pages made on the
 *   fly from the record index, no hooks, not logged);
 * - can answer a list as a sequence that is not a set (`listedRecords`), and with ETags (`etags`: 304
 *   to a matching If-None-Match);
 * - can hold a list response: the answer is computed when the request arrives (the snapshot is
 *   taken) and sent only when released (`holdNextList` / `releaseList`), and can run a hook before
 *   each list request (`onList`, e.g. to delete a record between two pages);
 * - receives our deliveries at /sync/* (POST/PUT upsert by id, DELETE removes), records every one
 *   with its `webhook-id`, and can fail or delay them per path; deliveries to a counted path
 *   (`count`) are only tallied on arrival (distinct webhook-ids, redeliveries, first arrival per
 *   record), for runs too large to keep.
 */
export class ThirdPartyStub {
  readonly records = new Map<string, StubRecord>();
  readonly deliveries: StubDelivery[] = [];
  /** The query string of every list request it answered, in order (`''` for none). */
  readonly musicRequests: string[] = [];
  /** Answer list requests with this raw text instead of the records (a third party answering garbage). */
  musicRawBody: string | null = null;
  /** Named lists: GET /music/<name> answers the records whose id is in the set (in record order). */
  readonly lists = new Map<string, Set<string>>();
  /** Answer this status to the next `count` calls of the given kind (`sync`: every /sync path). */
  failures = { sync: { count: 0, status: 500 }, music: { count: 0, status: 500 } };
  /** Failures of one /sync path (`/sync/delete`): `count` Infinity fails until cleared. */
  readonly pathFailures = new Map<string, Failure>();
  /** Delay before answering deliveries (ms), all paths or one. */
  syncDelayMs = 0;
  readonly pathDelaysMs = new Map<string, number>();
  /** Take each `webhook-id` once (a Standard Webhooks receiver's idempotency): a repeat is answered 200, not applied. */
  idempotent = false;
  /** Delay before answering GET /music (ms). */
  musicDelayMs = 0;
  /** GET /music ignores `cursor` and answers a plain slice (an API not paginating as configured). */
  ignoreCursor = false;
  /** Pages are `{ items, total }` with the number of records the list holds now. */
  withTotal = false;
  /**
   * GET /music lists exactly these records in this order, repeats included (a third party whose list
   * is not a set, or reorders), instead of `records`. Edited in place, it changes the next answers.
   */
  listedRecords: StubRecord[] | null = null;
  /** List answers carry a strong ETag of their body, and a request whose If-None-Match is that tag is answered 304. */
  etags = false;
  /** Runs before a list request is answered (its snapshot is taken after it). */
  onList: ((request: StubListRequest) => void | Promise<void>) | null = null;
  /** What each list request was answered: the list, its records (ids and content as sent) and the list's length then. */
  readonly answers: Array<{ list: string; records: StubRecord[]; total: number }> = [];
  /** List requests that arrived while held (waiting for `releaseList`). */
  heldLists = 0;
  private readonly listGate = new Gate();
  private holdNext = false;
  /** /sync calls whose answer was held (waiting for `releaseSync`). */
  heldSyncs = 0;
  private readonly syncGate = new Gate();
  private holdingSync = false;
  private readonly listSeq = new Map<string, number>();
  /**
   * Incremental polling: when set, every record the third party writes (`put`, or a delivery it
   * applies) gets this field set to the next value of a counter (its `updatedAt`), and a list
   * request with `sinceParam` answers only the records whose field is at or after its value.
   */
  stampField: string | null = null;
  /** Calls of /sync/* counted when they arrive (a delayed one is recorded in `deliveries` only when answered). */
  syncArrivals = 0;
  sinceParam = 'updatedSince';
  private stampClock = 0;
  /** When set, GET /music answers 401 unless the request carries this header with this value. */
  requiredHeader: { name: string; value: string } | null = null;
  /** Every GET /music: its query and headers. */
  readonly listRequests: Array<{ query: string; headers: IncomingMessage['headers'] }> = [];
  private readonly generated = new Map<string, GeneratedList>();
  /** Pages of generated lists served, and the time spent making and serializing them (ms). */
  generatedPages = 0;
  generatedPageMs = 0;
  private readonly tallies = new Map<string, DeliveryTally>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | null = null;
  baseUrl = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.listGate.open();
    this.syncGate.open();
    // Answers still waiting out a delay are dropped with their connections.
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  put(...records: StubRecord[]): void {
    for (const r of records) this.records.set(r.id, this.stamped(r));
  }

  private stamped(record: StubRecord): StubRecord {
    return this.stampField ? { ...record, [this.stampField]: ++this.stampClock } : record;
  }

  /** Defines GET /music/<name> as the records with these ids. */
  list(name: string, ids: readonly string[]): void {
    this.lists.set(name, new Set(ids));
  }

  /**
   * GET /music/<name> serves `total` records made by `recordAt(index)`, page by page
   * (`?page=&limit=`, 100 by default), without holding them. Returns the list's URL.
   */
  generatedList(name: string, total: number, recordAt: (index: number) => Record<string, unknown>): string {
    this.generated.set(name, { total, recordAt });
    return `${this.baseUrl}/music/${name}`;
  }

  /** Deliveries to /sync/<name> are tallied, not stored. Returns the tally (its `url` is where to deliver). */
  count(name: string): DeliveryTally {
    let tally = this.tallies.get(`/sync/${name}`);
    if (!tally) this.tallies.set(`/sync/${name}`, (tally = new DeliveryTally(`${this.baseUrl}/sync/${name}`)));
    return tally;
  }

  /** Drops the tally of /sync/<name> (a later `count` starts from zero). */
  forgetCount(name: string): void {
    this.tallies.delete(`/sync/${name}`);
  }

  /** The next list request takes its snapshot at once and answers only when `releaseList` is called. */
  holdNextList(): void {
    this.holdNext = true;
    this.heldLists = 0;
    this.listGate.close();
  }

  releaseList(): void {
    this.listGate.open();
  }

  /** Holds the answer of every /sync call from now on (the call is taken and applied, its answer waits) until `releaseSync`. */
  holdSync(): void {
    this.holdingSync = true;
    this.syncGate.close();
  }

  /** Sends the held /sync answers, and answers the next calls at once. */
  releaseSync(): void {
    this.holdingSync = false;
    this.syncGate.open();
  }

  /** Fails `count` deliveries to `path` (Infinity: until `clearPathFailure`). */
  failPath(path: string, status: number, count = Infinity): void {
    this.pathFailures.set(path, { count, status });
  }

  clearPathFailure(path: string): void {
    this.pathFailures.delete(path);
  }

  /** Distinct webhook-ids that were applied (2xx). */
  appliedWebhookIds(): Set<string> {
    return new Set(this.deliveries.filter((d) => d.status < 300 && d.webhookId).map((d) => d.webhookId as string));
  }

  private listRecords(list: string, url: URL): StubRecord[] {
    const field = this.stampField;
    const since = url.searchParams.get(this.sinceParam);
    const all = (list === '' && this.listedRecords ? this.listedRecords : [...this.records.values()]).filter((r) => field === null || since === null || Number(r[field]) >= Number(since));
    if (list === '') return all;
    const ids = this.lists.get(list) ?? new Set<string>();
    return all.filter((r) => ids.has(r.id));
  }

  private page(all: StubRecord[], url: URL): unknown {
    const page = Number(url.searchParams.get('page'));
    const limit = Number(url.searchParams.get('limit'));
    const cursor = url.searchParams.get('cursor');
    const offsetParam = url.searchParams.get('offset');
    const wrap = (items: StubRecord[]): unknown => (this.withTotal ? { items, total: all.length } : items);
    if (limit > 0 && offsetParam !== null && !this.ignoreCursor) {
      const offset = Number(offsetParam);
      return wrap(all.slice(offset, offset + limit));
    }
    if (limit > 0 && (this.ignoreCursor || (cursor === null && !(page > 0)))) return wrap(all.slice(0, limit));
    if (cursor !== null && limit > 0) {
      const start = cursor === '' ? 0 : Number(cursor);
      const end = start + limit;
      return { items: all.slice(start, end), nextCursor: end < all.length ? String(end) : null, ...(this.withTotal ? { total: all.length } : {}) };
    }
    if (page > 0 && limit > 0) return wrap(all.slice((page - 1) * limit, page * limit));
    return wrap(all);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private serveGenerated(list: GeneratedList, url: URL, res: ServerResponse): void {
    const started = performance.now();
    const page = Number(url.searchParams.get('page') ?? '1');
    const limit = Number(url.searchParams.get('limit') ?? '100');
    const start = Math.max(0, (page - 1) * limit);
    const end = Math.min(list.total, (page - 1) * limit + limit);
    const records: Array<Record<string, unknown>> = [];
    for (let i = start; i < end; i++) records.push(list.recordAt(i));
    const body = Buffer.from(JSON.stringify(records));
    this.generatedPages++;
    this.generatedPageMs += performance.now() - started;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const generated = req.method === 'GET' ? this.generated.get(url.pathname.slice('/music/'.length)) : undefined;
    if (generated && url.pathname.startsWith('/music/')) return this.serveGenerated(generated, url, res);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const tally = this.tallies.get(url.pathname);
    if (tally) {
      const webhookId = req.headers['webhook-id'];
      tally.record(typeof webhookId === 'string' ? webhookId : '', text, nowMs());
      const delay = this.pathDelaysMs.get(url.pathname) ?? this.syncDelayMs;
      if (delay > 0) await this.sleep(delay);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      return void res.end('{"ok":true}');
    }
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const listMatch = /^\/music(?:\/([A-Za-z0-9_-]+))?$/.exec(url.pathname);
    if (listMatch && req.method === 'GET') {
      const list = listMatch[1] ?? '';
      this.musicRequests.push(url.search.replace(/^\?/, ''));
      this.listRequests.push({ query: url.search, headers: req.headers });
      if (this.requiredHeader && req.headers[this.requiredHeader.name.toLowerCase()] !== this.requiredHeader.value) return send(401, { error: 'unauthorized' });
      if (this.musicRawBody !== null) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(this.musicRawBody);
      }
      const seq = (this.listSeq.get(list) ?? 0) + 1;
      this.listSeq.set(list, seq);
      if (this.onList) await this.onList({ list, params: url.searchParams, seq });
      if (this.musicDelayMs > 0) await this.sleep(this.musicDelayMs);
      if (this.failures.music.count > 0) {
        this.failures.music.count--;
        return send(this.failures.music.status, { error: 'injected' });
      }
      // The snapshot is taken now, whenever the answer leaves.
      const all = this.listRecords(list, url);
      const answer = this.page(all, url);
      const sent = (Array.isArray(answer) ? answer : ((answer as { items?: unknown }).items ?? [])) as StubRecord[];
      this.answers.push({ list, records: sent.map((r) => ({ ...r })), total: all.length });
      if (this.holdNext) {
        this.holdNext = false;
        this.heldLists++;
        await this.listGate.wait();
      }
      if (this.etags) {
        const body = JSON.stringify(answer);
        const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 20)}"`;
        if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
        res.writeHead(200, { 'content-type': 'application/json', etag });
        return void res.end(body);
      }
      return send(200, answer);
    }
    if (url.pathname.startsWith('/sync')) {
      this.syncArrivals++;
      const webhookId = req.headers['webhook-id'] as string | undefined;
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return send(400, { error: 'bad json' });
      }
      const delay = this.pathDelaysMs.get(url.pathname) ?? this.syncDelayMs;
      if (delay > 0) await this.sleep(delay);
      let status = 200;
      let duplicate = false;
      const pathFailure = this.pathFailures.get(url.pathname);
      if (pathFailure && pathFailure.count > 0) {
        pathFailure.count--;
        status = pathFailure.status;
      } else if (this.failures.sync.count > 0) {
        this.failures.sync.count--;
        status = this.failures.sync.status;
      } else if (this.idempotent && webhookId && this.deliveries.some((d) => d.webhookId === webhookId && d.status < 300)) {
        duplicate = true;
      } else {
        const items = (Array.isArray(body) ? body : [body]) as StubRecord[];
        for (const item of items) {
          if (!item || typeof item.id !== 'string') continue;
          if (req.method === 'DELETE') this.records.delete(item.id);
          else this.records.set(item.id, this.stamped(item));
        }
      }
      if (this.holdingSync) {
        this.heldSyncs++;
        await this.syncGate.wait();
      }
      const header = (name: string) => req.headers[name] as string | undefined;
      this.deliveries.push({ webhookId, method: req.method ?? '', path: url.pathname, body, status, timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), raw: text, headers: req.headers, ...(duplicate ? { duplicate } : {}) });
      return send(status, { ok: status < 300 });
    }
    send(404, { error: 'not found' });
  }
}
