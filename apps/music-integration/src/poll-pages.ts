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
    // Blocked or malformed URLs do not fix themselves; the rest may.
    const transient = response.kind === 'timeout' || response.kind === 'network';
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

/**
 * Walks the endpoint page by page (none, page, offset or cursor pagination), yielding each page's
 * records so a poll never holds more than one page. `complete` tells whether the walk ended by
 * itself (a short/empty page, or a next cursor null/empty, or absent after a short page) rather
 * than at maxPages or on a full page with no cursor at all.
 */
export async function* fetchPages(http: OutboundClient, entry: PollingEntry, state: { complete: boolean }): AsyncGenerator<FetchedPage> {
  state.complete = false;
  const pagination = entry.pagination;
  if (!pagination) {
    yield { index: 0, records: recordsOf(await getJson(http, entry.endpoint, {}), entry.itemsPath) };
    state.complete = true;
    return;
  }
  let cursor: string | undefined;
  let offset = 0;
  for (let index = 0; index < pagination.maxPages; index++) {
    const params: Record<string, string | number> = { [pagination.limitParam]: pagination.limit };
    if (pagination.type === 'page') params[pagination.pageParam] = pagination.firstPage + index;
    if (pagination.type === 'offset') params[pagination.offsetParam] = offset;
    // The first request names the cursor too (empty): an API that enters its cursor mode only when
    // asked would otherwise answer a plain slice.
    if (pagination.type === 'cursor') params[pagination.cursorParam] = cursor ?? '';
    const body = await getJson(http, entry.endpoint, params);
    const records = recordsOf(body, entry.itemsPath);
    yield { index, records };
    if (pagination.type === 'cursor') {
      const next = readPath(body, pagination.nextCursorPath);
      if (next === null || next === '' || (next === undefined && records.length < pagination.limit)) {
        state.complete = true;
        return;
      }
      // A full page without any next-cursor field: the API did not paginate the way it was
      // configured, so whether more records exist is unknown. Stop with the walk incomplete: the
      // records are stored, nothing is deleted (taking one page for the snapshot would delete the rest).
      if (next === undefined) return;
      cursor = String(next);
    } else {
      offset += records.length;
      if (records.length < pagination.limit) {
        state.complete = true;
        return;
      }
    }
  }
}
