import { createHash } from 'node:crypto';

// Canonical JSON: object keys sorted at every level, so equal content always hashes equal
// whatever order the third party or a client sent the keys in.
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

/**
 * The content hash of an item's synced fields. Both sides of the sync compute it the same way:
 * an inbound record whose hash equals the stored one is an echo or a repeat, and nothing is written.
 */
export function contentHash(externalId: string, data: Record<string, unknown>): string {
  return createHash('sha256').update(canonical({ externalId, data })).digest('base64url').slice(0, 32);
}
