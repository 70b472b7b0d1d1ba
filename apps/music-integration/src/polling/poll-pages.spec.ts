import { pollingInputSchema, type PollingEntry } from '@music/domain';
import type { OutboundClient, OutboundRequest } from '@music/platform';
import { fetchPages, needsTwoMisses, newWalkState, type PageFacts } from './poll-pages';

// The walk's own checks of a consistent snapshot (docs/sync-model.md, "Consistent"), against a
// third party whose list is changed between two pages by `between`.

type Rec = { id: string };

function api(list: Rec[], options: { total?: boolean; between?: (page: number) => void } = {}): OutboundClient & { requests: OutboundRequest[] } {
  const requests: OutboundRequest[] = [];
  return {
    requests,
    async send(req) {
      requests.push(req);
      options.between?.(requests.length);
      const p = req.params ?? {};
      const limit = Number(p['limit']);
      let items: Rec[];
      if (p['offset'] !== undefined) items = list.slice(Number(p['offset']), Number(p['offset']) + limit);
      else if (p['page'] !== undefined) items = list.slice((Number(p['page']) - 1) * limit, Number(p['page']) * limit);
      else if (p['cursor'] !== undefined) {
        const start = p['cursor'] === '' ? 0 : Number(p['cursor']);
        const body = { items: list.slice(start, start + limit), next: start + limit < list.length ? String(start + limit) : null };
        return { ok: true, status: 200, headers: {}, text: JSON.stringify(body), ms: 1 };
      } else items = list;
      const body = options.total ? { items, total: list.length } : items;
      return { ok: true, status: 200, headers: {}, text: JSON.stringify(body), ms: 1 };
    },
  };
}

const entry = (pagination: Record<string, unknown>): PollingEntry => ({ ...pollingInputSchema.parse({ endpoint: 'https://tp.example/music', interval: 1, type: 'hour', pagination }), id: 'e1' });
const records = (n: number): Rec[] => Array.from({ length: n }, (_, i) => ({ id: `r${i + 1}` }));
const keyOf = (r: unknown): string | undefined => (r as Rec).id;

async function walk(http: OutboundClient, e: PollingEntry) {
  const state = newWalkState();
  const seen: string[] = [];
  for await (const page of fetchPages(http, e, state, keyOf)) seen.push(...page.records.map((r) => (r as Rec).id));
  return { state, seen };
}

describe('fetchPages: complete and consistent walks', () => {
  it('offset pagination overlaps pages by one record and reads each record once when nothing moves', async () => {
    const list = records(7);
    const http = api(list);
    const { state, seen } = await walk(http, entry({ type: 'offset', limit: 3 }));
    expect(seen).toEqual(list.map((r) => r.id));
    expect(state).toEqual({ complete: true, inconsistent: null, read: 7 });
    expect(http.requests.map((r) => r.params?.['offset'])).toEqual([0, 2, 4, 6]);
  });

  it('offset pagination: a delete before the page boundary shifts the list, and the overlap record shows it', async () => {
    const list = records(7);
    const { state } = await walk(api(list, { between: (n) => n === 2 && list.splice(0, 1) }), entry({ type: 'offset', limit: 3 }));
    expect(state.complete).toBe(true);
    expect(state.inconsistent).toMatch(/shifted/);
  });

  it('offset pagination: an insert before the boundary is seen the same way', async () => {
    const list = records(7);
    const { state } = await walk(api(list, { between: (n) => n === 3 && list.unshift({ id: 'new' }) }), entry({ type: 'offset', limit: 3 }));
    expect(state.inconsistent).toMatch(/shifted/);
  });

  it('a reported total that changes between pages, or differs from what was read, makes the walk inconsistent', async () => {
    const list = records(6);
    const changed = await walk(api(list, { total: true, between: (n) => n === 2 && list.splice(5, 1) }), entry({ type: 'page', limit: 2, totalPath: 'total' }));
    expect(changed.state.inconsistent).toMatch(/total changed from 6 to 5/);
    expect((await walk(api(records(6), { total: true }), entry({ type: 'page', limit: 2, totalPath: 'total' }))).state).toEqual({ complete: true, inconsistent: null, read: 6 });
    const steady = records(5);
    const lying: OutboundClient = {
      async send(req) {
        const page = Number(req.params?.['page']);
        return { ok: true, status: 200, headers: {}, text: JSON.stringify({ items: steady.slice((page - 1) * 2, page * 2), total: 9 }), ms: 1 };
      },
    };
    expect((await walk(lying, entry({ type: 'page', limit: 2, totalPath: 'total' }))).state.inconsistent).toMatch(/reported 9 record\(s\) and the walk read 5/);
  });

  it('a walk that stops at maxPages is incomplete, whatever the pagination', async () => {
    for (const pagination of [
      { type: 'page', limit: 2, maxPages: 2 },
      { type: 'offset', limit: 2, maxPages: 2 },
      { type: 'cursor', limit: 2, maxPages: 2, nextCursorPath: 'next' },
    ]) {
      expect((await walk(api(records(9)), entry(pagination))).state.complete).toBe(false);
    }
    expect((await walk(api(records(3)), entry({ type: 'cursor', limit: 2, nextCursorPath: 'next' }))).state.complete).toBe(true);
  });

  it('needs two misses for page numbers without a total (and offset pages of one record), not otherwise', () => {
    expect(needsTwoMisses(entry({ type: 'page', limit: 10 }))).toBe(true);
    expect(needsTwoMisses(entry({ type: 'page', limit: 10, totalPath: 'total' }))).toBe(false);
    expect(needsTwoMisses(entry({ type: 'offset', limit: 10 }))).toBe(false);
    expect(needsTwoMisses(entry({ type: 'offset', limit: 1 }))).toBe(true);
    expect(needsTwoMisses(entry({ type: 'cursor', limit: 10 }))).toBe(false);
  });
});

describe('fetchPages: conditional requests', () => {
  /** The same API, answering a strong ETag per body and 304 to a matching If-None-Match. */
  function withEtags(http: OutboundClient & { requests: OutboundRequest[] }): OutboundClient & { requests: OutboundRequest[]; notModified: number } {
    const wrapped = {
      requests: http.requests,
      notModified: 0,
      async send(req: OutboundRequest) {
        const answer = await http.send(req);
        if (!answer.ok) return answer;
        const etag = `"${answer.text.length}:${Buffer.from(answer.text).toString('base64').slice(-24)}"`;
        if (req.headers?.['if-none-match'] === etag) {
          wrapped.notModified++;
          return { ...answer, status: 304, text: '', headers: { etag } };
        }
        return { ...answer, headers: { etag } };
      },
    };
    return wrapped;
  }

  it.each([[{ type: 'offset', limit: 3 }], [{ type: 'page', limit: 3 }], [{ type: 'cursor', limit: 3, nextCursorPath: 'next' }]])(
    '%j: a walk answered 304 page by page continues from what was remembered and reads as the first one',
    async (pagination) => {
      const http = withEtags(api(records(7)));
      const e = entry(pagination);
      const first = newWalkState();
      const facts: PageFacts[] = [];
      for await (const page of fetchPages(http, e, first, keyOf)) facts[page.index] = page.facts;
      const again = newWalkState();
      const pages: Array<{ index: number; notModified: boolean }> = [];
      for await (const page of fetchPages(http, e, again, keyOf, { remembered: (i) => facts[i] })) pages.push({ index: page.index, notModified: page.notModified });
      expect(again).toEqual(first);
      expect(again).toMatchObject({ complete: true, inconsistent: null, read: 7 });
      expect(pages.every((p) => p.notModified)).toBe(true);
      expect(pages).toHaveLength(facts.length);
      expect(http.notModified).toBe(facts.length);
    },
  );
});
