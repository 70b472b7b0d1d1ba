import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordsPage } from './records';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of this machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

interface Arrivals {
  /** externalId -> arrival time of its first delivery. */
  byExternalId: Map<string, number>;
  webhookIds: Set<string>;
  duplicates: number;
  waiters: Array<{ count: number; resolve: (at: number) => void }>;
  last: number;
}

/**
 * The third party on loopback: `GET /music/<total>?page=&limit=` serves a data set of `total`
 * generated records page by page (each page generated on the fly), and `POST /sync/<tag>` receives
 * deliveries, timestamping each on arrival (per tag, so runs do not mix).
 */
export class FakeThirdParty {
  private server: Server | null = null;
  private readonly tags = new Map<string, Arrivals>();
  baseUrl = '';
  pagesServed = 0;
  /** Time spent generating and serializing pages (this process's share of a poll). */
  pageMs = 0;
  /** Deliveries of these tags are answered after this long (ms): a slow third party. */
  readonly delaysMs = new Map<string, number>();

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The polling endpoint of a data set of `total` records. */
  endpoint(total: number): string {
    return `${this.baseUrl}/music/${total}`;
  }

  /** Where deliveries of one run go. */
  deliveryUrl(tag: string): string {
    return `${this.baseUrl}/sync/${tag}`;
  }

  private arrivals(tag: string): Arrivals {
    let a = this.tags.get(tag);
    if (!a) this.tags.set(tag, (a = { byExternalId: new Map(), webhookIds: new Set(), duplicates: 0, waiters: [], last: 0 }));
    return a;
  }

  /** externalId -> first arrival (ms, see nowMs) of the run's deliveries. */
  arrivalTimes(tag: string): ReadonlyMap<string, number> {
    return this.arrivals(tag).byExternalId;
  }

  received(tag: string): { distinct: number; duplicates: number } {
    const a = this.arrivals(tag);
    return { distinct: a.webhookIds.size, duplicates: a.duplicates };
  }

  /** Resolves with the arrival time of the `count`-th distinct delivery of the run. */
  waitFor(tag: string, count: number, timeoutMs: number): Promise<number> {
    const a = this.arrivals(tag);
    if (a.webhookIds.size >= count) return Promise.resolve(a.last);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${a.webhookIds.size} of ${count} deliveries of "${tag}" arrived within ${timeoutMs} ms`)), timeoutMs);
      a.waiters.push({
        count,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  forget(tag: string): void {
    this.tags.delete(tag);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const [, kind, arg] = url.pathname.split('/');
    if (req.method === 'GET' && kind === 'music' && arg) {
      const started = performance.now();
      const total = Number(arg);
      const page = Number(url.searchParams.get('page') ?? '1');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      const body = Buffer.from(JSON.stringify(recordsPage(total, page, limit)));
      this.pagesServed++;
      this.pageMs += performance.now() - started;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (req.method === 'POST' && kind === 'sync' && arg) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const at = nowMs();
      const a = this.arrivals(arg);
      const webhookId = req.headers['webhook-id'];
      const id = typeof webhookId === 'string' ? webhookId : '';
      if (a.webhookIds.has(id)) a.duplicates++;
      else {
        a.webhookIds.add(id);
        a.last = at;
        try {
          const record = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown };
          if (typeof record.id === 'string' && !a.byExternalId.has(record.id)) a.byExternalId.set(record.id, at);
        } catch {
          // Counted by webhook-id all the same.
        }
        const size = a.webhookIds.size;
        a.waiters = a.waiters.filter((w) => {
          if (size < w.count) return true;
          w.resolve(at);
          return false;
        });
      }
      const delay = this.delaysMs.get(arg);
      if (delay) await new Promise((r) => setTimeout(r, delay));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      res.end('{"ok":true}');
      return;
    }
    res.writeHead(404).end();
  }
}
