import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A record as the stub third party holds it (its own shape: `id`, not `externalId`). */
export type StubRecord = Record<string, unknown> & { id: string };

export interface StubDelivery {
  webhookId: string | undefined;
  method: string;
  path: string;
  body: unknown;
  status: number;
}

/**
 * A controllable third party on a loopback port, for integration tests: it serves its records at
 * GET /music (whole array, or `?page=&limit=` pages), receives our deliveries at /sync/create
 * (POST upserts by id, DELETE removes), records every delivery with its `webhook-id`, and can be
 * told to fail the next N calls.
 */
export class ThirdPartyStub {
  readonly records = new Map<string, StubRecord>();
  readonly deliveries: StubDelivery[] = [];
  /** The query string of every GET /music it answered, in order (`''` for none). */
  readonly musicRequests: string[] = [];
  /** Answer GET /music with this raw text instead of the records (a third party answering garbage). */
  musicRawBody: string | null = null;
  /** Answer this status to the next `count` calls of the given kind. */
  failures = { sync: { count: 0, status: 500 }, music: { count: 0, status: 500 } };
  /** Delay before answering deliveries (ms). */
  syncDelayMs = 0;
  /** Delay before answering GET /music (ms). */
  musicDelayMs = 0;
  /** GET /music ignores `cursor` and answers a plain slice (an API not paginating as configured). */
  ignoreCursor = false;
  private server: Server | null = null;
  baseUrl = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  put(...records: StubRecord[]): void {
    for (const r of records) this.records.set(r.id, r);
  }

  /** Distinct webhook-ids that were applied (2xx). */
  appliedWebhookIds(): Set<string> {
    return new Set(this.deliveries.filter((d) => d.status < 300 && d.webhookId).map((d) => d.webhookId as string));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (url.pathname === '/music' && req.method === 'GET') {
      this.musicRequests.push(url.search.replace(/^\?/, ''));
      if (this.musicRawBody !== null) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(this.musicRawBody);
      }
      if (this.musicDelayMs > 0) await new Promise((r) => setTimeout(r, this.musicDelayMs));
      if (this.failures.music.count > 0) {
        this.failures.music.count--;
        return send(this.failures.music.status, { error: 'injected' });
      }
      const all = [...this.records.values()];
      const page = Number(url.searchParams.get('page'));
      const limit = Number(url.searchParams.get('limit'));
      const cursor = url.searchParams.get('cursor');
      if (limit > 0 && (this.ignoreCursor || (cursor === null && !(page > 0)))) return send(200, all.slice(0, limit));
      if (cursor !== null && limit > 0) {
        const start = cursor === '' ? 0 : Number(cursor);
        const end = start + limit;
        return send(200, { items: all.slice(start, end), nextCursor: end < all.length ? String(end) : null });
      }
      if (page > 0 && limit > 0) return send(200, all.slice((page - 1) * limit, page * limit));
      return send(200, all);
    }
    if (url.pathname.startsWith('/sync')) {
      const webhookId = req.headers['webhook-id'] as string | undefined;
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return send(400, { error: 'bad json' });
      }
      if (this.syncDelayMs > 0) await new Promise((r) => setTimeout(r, this.syncDelayMs));
      let status = 200;
      if (this.failures.sync.count > 0) {
        this.failures.sync.count--;
        status = this.failures.sync.status;
      } else {
        const items = (Array.isArray(body) ? body : [body]) as StubRecord[];
        for (const item of items) {
          if (!item || typeof item.id !== 'string') continue;
          if (req.method === 'DELETE') this.records.delete(item.id);
          else this.records.set(item.id, item);
        }
      }
      this.deliveries.push({ webhookId, method: req.method ?? '', path: url.pathname, body, status });
      return send(status, { ok: status < 300 });
    }
    send(404, { error: 'not found' });
  }
}
