/** A page of a newest-first listing; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Where the previous page ended: the sort key (time and id) of its last entry. */
export interface PageCursor {
  at: Date;
  id: string;
}

/** A page of at most `limit` entries; a full page's cursor is its last entry's sort key, opaque to clients. */
export function pageOf<T extends { id: string }>(items: T[], limit: number, key: (item: T) => Date): Page<T> {
  const last = items[items.length - 1];
  const nextCursor = items.length === limit && last ? Buffer.from(JSON.stringify([key(last).toISOString(), last.id])).toString('base64url') : null;
  return { items, nextCursor };
}

/** The sort key a `nextCursor` stands for; null for anything `pageOf` did not write. */
export function decodeCursor(cursor: string): PageCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') return null;
    const at = new Date(value[0]);
    return Number.isNaN(at.getTime()) ? null : { at, id: value[1] };
  } catch {
    return null;
  }
}
