import type { ThirdPartyStub } from '@music/testing';

// The benchmark's third-party data: records generated from their index, so any page of any size can
// be served (and regenerated) without holding the data set.
/**
 * The mappings the benchmark organizations use: renamed and nested sources, a number, an array and
 * an object, so mapping does real work per record.
 */
export const BENCH_MAPPINGS = {
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string', source: 'title', required: true },
  artist: { type: 'string', source: 'artist.name', required: true },
  album: { type: 'string', source: 'album', required: true },
  duration: { type: 'number', source: 'durationSec', required: false },
  tags: { type: 'array', source: 'tags', items: { type: 'string', required: false } },
  label: { type: 'object', source: 'label', properties: { name: { type: 'string', required: true }, year: { type: 'number', required: false } } },
} as const;

/** One inbound transform, as organizations typically have. */
export const BENCH_TRANSFORMS = [{ field: 'name', op: 'trim' }] as const;

const TAGS = ['rock', 'pop', 'jazz', 'live', 'remaster', 'acoustic', 'demo'];

/** Record `i` (0-based) of a data set, in the third party's shape. */
export function benchRecord(i: number): Record<string, unknown> {
  const n = (i * 2654435761) >>> 0; // a cheap, deterministic scramble of the index
  return {
    id: `rec-${i}`,
    title: ` Song ${i} `,
    artist: { name: `Artist ${n % 997}`, country: 'NL' },
    album: `Album ${n % 4999}`,
    durationSec: 90 + (n % 300),
    tags: [TAGS[n % TAGS.length] as string, TAGS[(n >>> 3) % TAGS.length] as string],
    label: { name: `Label ${n % 101}`, year: 1960 + (n % 64) },
    // Not mapped: third parties send more than we keep.
    popularity: n % 100,
  };
}

/** Records of page `page` (1-based) of a data set of `total` records, `limit` per page. */
export function recordsPage(total: number, page: number, limit: number): Array<Record<string, unknown>> {
  const start = (page - 1) * limit;
  const end = Math.min(total, start + limit);
  const out: Array<Record<string, unknown>> = [];
  for (let i = Math.max(0, start); i < end; i++) out.push(benchRecord(i));
  return out;
}

/** An item's data as our side holds it (what a local create through the inventory API sends). */
export function localItemData(i: number): Record<string, unknown> {
  const n = (i * 2654435761) >>> 0;
  return { name: `Local song ${i}`, artist: `Artist ${n % 997}`, album: `Album ${n % 4999}`, duration: 90 + (n % 300), tags: ['local'], label: { name: `Label ${n % 101}`, year: 2024 } };
}

/** The polling endpoint of a data set of `total` benchmark records, served page by page by the stub. */
export function benchList(thirdParty: ThirdPartyStub, total: number): string {
  return thirdParty.generatedList(`bench-${total}`, total, benchRecord);
}
