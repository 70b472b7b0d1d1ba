// The store's answer to a document whose `_id` (or another unique key) is taken: every writer that
// inserts what may already exist (a repeated job, a concurrent writer) reads it the same way.

/** The store's code for a unique key already taken. */
export const DUPLICATE_KEY = 11000;

/** A single write refused because its key is taken. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * The ids an unordered insertMany of documents with these `ids` (in order) refused as duplicates;
 * any other error is thrown again. A duplicate reported without its index counts every id refused,
 * so the caller treats them all as possibly stored.
 */
export function refusedDuplicates(error: unknown, ids: readonly string[]): Set<string> {
  const e = error as { code?: number; writeErrors?: Array<{ code?: number; index?: number; err?: { code?: number; index?: number } }> };
  const writeErrors = e.writeErrors ?? [];
  const onlyDuplicates = writeErrors.length > 0 ? writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY) : e.code === DUPLICATE_KEY;
  if (!onlyDuplicates) throw error;
  const refused = new Set<string>();
  for (const w of writeErrors) {
    const id = ids[w.index ?? w.err?.index ?? -1];
    if (id !== undefined) refused.add(id);
  }
  return refused.size > 0 ? refused : new Set(ids);
}
