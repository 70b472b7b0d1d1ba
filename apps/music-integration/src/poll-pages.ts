import type { PollingEntry } from '@music/domain';
import type { OutboundClient } from '@music/platform';

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

export interface FetchedPage {
  index: number;
  records: unknown[];
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

async function getJson(http: OutboundClient, url: string, params: Record<string, string | number>): Promise<unknown> {
  const response = await http.send({ method: 'GET', url, params, headers: { accept: 'application/json' } });
  if (!response.ok) {
    // Blocked or malformed URLs do not fix themselves; the rest may (a quota: the next minute).
    const transient = response.kind === 'timeout' || response.kind === 'network' || response.kind === 'quota';
    throw new PollFetchError(`${response.kind}: ${response.message}`, transient);
  }
  if (response.status < 200 || response.status >= 300) {
    const transient = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new PollFetchError(`GET ${url} answered ${response.status}`, transient);
  }
  try {
    return JSON.parse(response.text) as unknown;
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
export async function* fetchPages(http: OutboundClient, entry: PollingEntry, state: WalkState, keyOf: (record: unknown) => string | undefined): AsyncGenerator<FetchedPage> {
  state.complete = false;
  const pagination = entry.pagination;
  if (!pagination) {
    const records = recordsOf(await getJson(http, entry.endpoint, {}), entry.itemsPath);
    state.read += records.length;
    yield { index: 0, records };
    state.complete = true;
    return;
  }
  let cursor: string | undefined;
  let offset = 0;
  let total: number | null = null;
  let lastOfPrevious: string | null = null;
  // One record of overlap needs pages of two or more.
  const overlap = pagination.type === 'offset' && pagination.limit >= 2;
  const noteTotal = (body: unknown): void => {
    if (!pagination.totalPath) return;
    const value = Number(readPath(body, pagination.totalPath));
    if (!Number.isFinite(value)) {
      state.inconsistent ??= `the response has no number at "${pagination.totalPath}"`;
      return;
    }
    if (total !== null && value !== total) state.inconsistent ??= `the reported total changed from ${total} to ${value} while the pages were read`;
    total = value;
  };
  let ended = false;
  for (let index = 0; index < pagination.maxPages && !ended; index++) {
    const params: Record<string, string | number> = { [pagination.limitParam]: pagination.limit };
    if (pagination.type === 'page') params[pagination.pageParam] = pagination.firstPage + index;
    if (pagination.type === 'offset') params[pagination.offsetParam] = offset;
    // The first request names the cursor too (empty): an API that enters its cursor mode only when
    // asked would otherwise answer a plain slice.
    if (pagination.type === 'cursor') params[pagination.cursorParam] = cursor ?? '';
    const body = await getJson(http, entry.endpoint, params);
    noteTotal(body);
    const fetched = recordsOf(body, entry.itemsPath);
    let records = fetched;
    if (overlap && lastOfPrevious !== null) {
      const first = fetched[0];
      if (first === undefined) {
        state.inconsistent ??= `the last record of the previous page was gone at offset ${offset}: the list shrank while it was read`;
      } else if (identityOf(first, keyOf) !== lastOfPrevious) {
        state.inconsistent ??= `the record at offset ${offset} changed between pages: the list shifted while it was read`;
      } else {
        records = fetched.slice(1);
      }
    }
    state.read += records.length;
    yield { index, records };
    if (pagination.type === 'cursor') {
      const next = readPath(body, pagination.nextCursorPath);
      if (next === null || next === '' || (next === undefined && fetched.length < pagination.limit)) ended = true;
      // A full page without any next-cursor field: the API did not paginate the way it was
      // configured, so whether more records exist is unknown. Stop with the walk incomplete: the
      // records are stored, nothing is deleted (taking one page for the snapshot would delete the rest).
      else if (next === undefined) return;
      else cursor = String(next);
      continue;
    }
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
