import type { PageFacts } from '@music/persistence';
import { createHash } from 'node:crypto';
import type { PollingEntry } from '@music/domain';
import type { OutboundClient } from '@music/platform';
import { isTransient } from '../engine/transient';

/** Why a fetch failed, and whether trying again later can help. */
export class PollFetchError extends Error {
  override readonly name = 'PollFetchError';
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** What the walk needs to know of a page again when the third party answers it 304 (kept in the poll memory). */
export type { PageFacts };

export interface FetchedPage {
  index: number;
  /** The page's records (after the overlap record was taken off); empty when `notModified`. */
  records: unknown[];
  /** Answered 304 to the remembered page's validators: the same page as remembered. */
  notModified: boolean;
  facts: PageFacts;
}

export interface FetchOptions {
  /** A remembered page the third party may answer 304 for (conditional request); undefined: ask plainly. */
  remembered?: (index: number) => PageFacts | undefined;
  /** Extra query parameters on every request (incremental polling's cursor). */
  params?: Record<string, string | number>;
}

/** What a walk found out about itself while it ran. */
export interface WalkState {
  /** The walk ended by itself (a short/empty page, or no next cursor) within maxPages. */
  complete: boolean;
  /** Why its pages cannot be taken for one consistent snapshot (null: nothing showed a shift). */
  inconsistent: string | null;
  /** Records read (the overlap records of offset pagination not counted twice). */
  read: number;
}

export const newWalkState = (): WalkState => ({ complete: false, inconsistent: null, read: 0 });

/**
 * Whether deletions after this entry's walks need two consecutive misses: page numbers without a
 * reported total cannot see a delete before a page boundary (docs/sync-model.md, "Consistent").
 */
export function needsTwoMisses(entry: PollingEntry): boolean {
  const p = entry.pagination;
  if (!p) return false;
  if (p.type === 'page') return p.totalPath === undefined;
  return p.type === 'offset' && p.limit < 2 && p.totalPath === undefined;
}

/** Reads a dot path with own-property checks only (a third party's `__proto__` reads nothing). */
export function readPath(value: unknown, path: string): unknown {
  let node: unknown = value;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

// Without an itemsPath the body is the array, or the one conventional wrapper a list API uses.
function recordsOf(body: unknown, itemsPath: string | undefined): unknown[] {
  if (itemsPath) {
    const found = readPath(body, itemsPath);
    if (!Array.isArray(found)) throw new PollFetchError(`response has no array at "${itemsPath}"`, false);
    return found;
  }
  if (Array.isArray(body)) return body;
  for (const key of ['items', 'data', 'results']) {
    const found = readPath(body, key);
    if (Array.isArray(found)) return found;
  }
  throw new PollFetchError('response is not an array (set the polling entry itemsPath)', false);
}

interface Answer {
  /** The third party answered 304 Not Modified to a conditional request. */
  notModified: boolean;
  body: unknown;
  bodyHash: string | null;
  etag: string | null;
  lastModified: string | null;
}

async function getJson(http: OutboundClient, url: string, params: Record<string, string | number>, conditional?: { etag: string | null; lastModified: string | null }): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (conditional?.etag) headers['if-none-match'] = conditional.etag;
  if (conditional?.lastModified) headers['if-modified-since'] = conditional.lastModified;
  const response = await http.send({ method: 'GET', url, params, headers });
  if (!response.ok) {
    // Blocked or malformed URLs do not fix themselves; the rest may (a quota: the next minute).
    throw new PollFetchError(`${response.kind}: ${response.message}`, isTransient(response));
  }
  if (response.status === 304 && conditional) return { notModified: true, body: null, bodyHash: null, etag: conditional.etag, lastModified: conditional.lastModified };
  if (response.status < 200 || response.status >= 300) {
    throw new PollFetchError(`GET ${url} answered ${response.status}`, isTransient(response));
  }
  try {
    const body = JSON.parse(response.text) as unknown;
    const bodyHash = createHash('sha256').update(response.text).digest('base64url');
    return { notModified: false, body, bodyHash, etag: response.headers['etag'] ?? null, lastModified: response.headers['last-modified'] ?? null };
  } catch {
    throw new PollFetchError(`GET ${url} did not return JSON`, true);
  }
}

/** The identity of a record for the overlap check: its externalId when readable, else its JSON. */
function identityOf(record: unknown, keyOf: (record: unknown) => string | undefined): string {
  return keyOf(record) ?? JSON.stringify(record) ?? '';
}

/**
 * Walks the endpoint page by page (none, page, offset or cursor pagination), yielding each page's
 * records so a poll never holds more than one page, and noting in `state` whether the walk ended by
 * itself and whether anything showed the list shifting while it was read:
 * - a total (`pagination.totalPath`) that changed between pages, or that differs from what was read;
 * - offset pagination reads each page from the last record of the previous one (one record of
 *   overlap) and checks it is the same record: an insert or delete before the boundary moves it.
 * Duplicate externalIds are checked by the caller, which holds them.
 */
export async function* fetchPages(
  http: OutboundClient,
  entry: PollingEntry,
  state: WalkState,
  keyOf: (record: unknown) => string | undefined,
  options: FetchOptions = {},
): AsyncGenerator<FetchedPage> {
  state.complete = false;
  const pagination = entry.pagination;
  const extra = options.params ?? {};
  const conditionalFor = (index: number): PageFacts | undefined => {
    const facts = options.remembered?.(index);
    return facts && (facts.etag || facts.lastModified) ? facts : undefined;
  };
  if (!pagination) {
    const memo = conditionalFor(0);
    const answer = await getJson(http, entry.endpoint, { ...extra }, memo);
    if (answer.notModified && memo) {
      state.read += memo.fetched;
      yield { index: 0, records: [], notModified: true, facts: memo };
    } else {
      const records = recordsOf(answer.body, entry.itemsPath);
      state.read += records.length;
      yield { index: 0, records, notModified: false, facts: { bodyHash: answer.bodyHash, etag: answer.etag, lastModified: answer.lastModified, next: null, fetched: records.length, total: null, first: null, last: null, trimmed: false } };
    }
    state.complete = true;
    return;
  }
  let cursor: string | undefined;
  let offset = 0;
  let total: number | null = null;
  let lastOfPrevious: string | null = null;
  // One record of overlap needs pages of two or more.
  const overlap = pagination.type === 'offset' && pagination.limit >= 2;
  const noteTotal = (value: number | null): void => {
    if (!pagination.totalPath) return;
    if (value === null || !Number.isFinite(value)) {
      state.inconsistent ??= `the response has no number at "${pagination.totalPath}"`;
      return;
    }
    if (total !== null && value !== total) state.inconsistent ??= `the reported total changed from ${total} to ${value} while the pages were read`;
    total = value;
  };
  let ended = false;
  for (let index = 0; index < pagination.maxPages && !ended; index++) {
    const params: Record<string, string | number> = { ...extra, [pagination.limitParam]: pagination.limit };
    if (pagination.type === 'page') params[pagination.pageParam] = pagination.firstPage + index;
    if (pagination.type === 'offset') params[pagination.offsetParam] = offset;
    // The first request names the cursor too (empty): an API that enters its cursor mode only when
    // asked would otherwise answer a plain slice.
    if (pagination.type === 'cursor') params[pagination.cursorParam] = cursor ?? '';
    let memo = conditionalFor(index);
    let answer = await getJson(http, entry.endpoint, params, memo);
    // A 304 stands for the remembered page only when the overlap decision comes out as it did then;
    // otherwise the page is asked for again, plainly.
    if (answer.notModified && memo && overlap && (lastOfPrevious !== null) !== memo.trimmed) {
      memo = undefined;
      answer = await getJson(http, entry.endpoint, params);
    }
    if (answer.notModified && memo) {
      noteTotal(memo.total);
      if (overlap && lastOfPrevious !== null && memo.first !== lastOfPrevious) {
        state.inconsistent ??= `the record at offset ${offset} changed between pages: the list shifted while it was read`;
      }
      const kept = memo.fetched - (memo.trimmed ? 1 : 0);
      state.read += kept;
      yield { index, records: [], notModified: true, facts: memo };
      if (pagination.type === 'cursor') {
        if (memo.next === null) ended = true;
        else cursor = memo.next;
        continue;
      }
      if (memo.fetched < pagination.limit) ended = true;
      else if (overlap) {
        lastOfPrevious = memo.last;
        offset += memo.fetched - 1;
      } else {
        offset += memo.fetched;
      }
      continue;
    }
    const body = answer.body;
    const reported = pagination.totalPath ? Number(readPath(body, pagination.totalPath)) : null;
    noteTotal(reported);
    const fetched = recordsOf(body, entry.itemsPath);
    let records = fetched;
    let trimmed = false;
    if (overlap && lastOfPrevious !== null) {
      const first = fetched[0];
      if (first === undefined) {
        state.inconsistent ??= `the last record of the previous page was gone at offset ${offset}: the list shrank while it was read`;
      } else if (identityOf(first, keyOf) !== lastOfPrevious) {
        state.inconsistent ??= `the record at offset ${offset} changed between pages: the list shifted while it was read`;
      } else {
        records = fetched.slice(1);
        trimmed = true;
      }
    }
    state.read += records.length;
    const facts: PageFacts = {
      bodyHash: answer.bodyHash,
      etag: answer.etag,
      lastModified: answer.lastModified,
      next: null,
      fetched: fetched.length,
      total: reported !== null && Number.isFinite(reported) ? reported : null,
      first: fetched.length > 0 ? identityOf(fetched[0], keyOf) : null,
      last: fetched.length > 0 ? identityOf(fetched[fetched.length - 1], keyOf) : null,
      trimmed,
    };
    if (pagination.type === 'cursor') {
      const next = readPath(body, pagination.nextCursorPath);
      if (next === null || next === '' || (next === undefined && fetched.length < pagination.limit)) ended = true;
      else if (next !== undefined) {
        cursor = String(next);
        facts.next = cursor;
      } else {
        // A full page without any next-cursor field: the API did not paginate the way it was
        // configured, so whether more records exist is unknown. Stop with the walk incomplete: the
        // records are stored, nothing is deleted (taking one page for the snapshot would delete the
        // rest). Such a page is never answered from memory.
        yield { index, records, notModified: false, facts: { ...facts, etag: null, lastModified: null } };
        return;
      }
      yield { index, records, notModified: false, facts };
      continue;
    }
    yield { index, records, notModified: false, facts };
    if (fetched.length < pagination.limit) ended = true;
    else if (overlap) {
      lastOfPrevious = identityOf(fetched[fetched.length - 1], keyOf);
      offset += fetched.length - 1;
    } else {
      offset += fetched.length;
    }
  }
  // Stopped at maxPages with more to read: incomplete.
  if (!ended) return;
  state.complete = true;
  if (total !== null && state.read !== total) state.inconsistent ??= `the API reported ${total} record(s) and the walk read ${state.read}`;
}
