import type { PollingCredentials, PollingEntry } from './organization';

/** Reads a dot path with own-property checks only (a third party's `__proto__` reads nothing). */
export function readPath(value: unknown, path: string): unknown {
  let node: unknown = value;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * The query parameters of a polling entry's first page request, as a poll sends them: none without
 * pagination; the limit and the first page, offset 0, or an empty cursor (an API that enters its
 * cursor mode only when asked would otherwise answer a plain slice).
 */
export function firstPageParams(entry: Pick<PollingEntry, 'pagination'>): Record<string, string | number> {
  const pagination = entry.pagination;
  if (!pagination) return {};
  const params: Record<string, string | number> = { [pagination.limitParam]: pagination.limit };
  if (pagination.type === 'page') params[pagination.pageParam] = pagination.firstPage;
  if (pagination.type === 'offset') params[pagination.offsetParam] = 0;
  if (pagination.type === 'cursor') params[pagination.cursorParam] = '';
  return params;
}

/**
 * The records of a page body: the array at `itemsPath`; without one, the body itself when it is an
 * array, or the one conventional wrapper a list API uses (`items`, `data`, `results`).
 */
export function recordsInPage(body: unknown, itemsPath: string | undefined): { ok: true; records: unknown[] } | { ok: false; message: string } {
  if (itemsPath) {
    const found = readPath(body, itemsPath);
    return Array.isArray(found) ? { ok: true, records: found } : { ok: false, message: `response has no array at "${itemsPath}"` };
  }
  if (Array.isArray(body)) return { ok: true, records: body };
  for (const key of ['items', 'data', 'results']) {
    const found = readPath(body, key);
    if (Array.isArray(found)) return { ok: true, records: found };
  }
  return { ok: false, message: 'response is not an array (set the polling entry itemsPath)' };
}

/**
 * The request headers that present a polling entry's credentials (never the URL: redirects are not
 * followed, so they go to the endpoint and nowhere else).
 */
export function pollingCredentialHeaders(auth: PollingCredentials | undefined): Record<string, string> {
  if (!auth) return {};
  switch (auth.type) {
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'header':
      return { [auth.name.toLowerCase()]: auth.value };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` };
    default: {
      const unknown: never = auth;
      throw new Error(`unknown credentials type ${JSON.stringify(unknown)}`);
    }
  }
}
