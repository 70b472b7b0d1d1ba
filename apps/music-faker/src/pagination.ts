import { Result } from '@sapphire/result';
import { z } from 'zod';
import { AppError, parseInput } from '@music/platform';

/** How `GET /music` was asked to page: the whole list, a slice (page/offset), or a cursor walk. */
export type MusicPage =
  | { mode: 'all' }
  | { mode: 'slice'; offset: number; limit: number }
  | { mode: 'cursor'; afterSeq: number; limit: number };

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 1000;

const intParam = (min: number) => z.coerce.number().int().min(min);

export const musicPageQuerySchema = z.object({
  page: intParam(1).optional(),
  offset: intParam(0).optional(),
  limit: intParam(1).max(MAX_PAGE_LIMIT).optional(),
  cursor: z.string().max(200).optional(),
  /** Only songs whose `updatedAt` is at or after this time (incremental polling). */
  updatedSince: z.iso.datetime({ offset: true }).optional(),
});

/** The `updatedSince` filter of a list query: songs written at or after it (inclusive, so a poll never misses one written in the same millisecond). */
export function updatedSinceFilter(query: unknown): (item: Record<string, unknown>) => boolean {
  const raw = (query as Record<string, unknown> | null)?.['updatedSince'];
  if (typeof raw !== 'string') return () => true;
  const since = Date.parse(raw);
  return (item) => typeof item['updatedAt'] === 'string' && Date.parse(item['updatedAt']) >= since;
}

/** Encodes an insertion position as an opaque cursor. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s:${seq}`).toString('base64url');
}

/** The insertion position in a cursor; empty means "from the start"; undefined when malformed. */
export function decodeCursor(cursor: string): number | undefined {
  if (cursor === '') return 0;
  const match = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match?.[1] !== undefined ? Number(match[1]) : undefined;
}

const invalid = (path: string, message: string): AppError =>
  new AppError('VALIDATION_FAILED', 'Query validation failed', [{ path, message }]);

/** Reads `page`, `offset`, `limit` and `cursor` from a query string (repeated params are refused). */
export function parseMusicPage(query: unknown): Result<MusicPage, AppError> {
  const parsed = parseInput(musicPageQuerySchema, query, 'Query');
  if (parsed.isErr()) return parsed as Result<never, AppError>;
  const { page, offset, limit, cursor } = parsed.unwrap();
  if (cursor !== undefined) {
    if (page !== undefined || offset !== undefined) return Result.err(invalid('cursor', 'cursor cannot be combined with page or offset'));
    const afterSeq = decodeCursor(cursor);
    if (afterSeq === undefined) return Result.err(invalid('cursor', 'unknown cursor'));
    return Result.ok({ mode: 'cursor', afterSeq, limit: limit ?? DEFAULT_PAGE_LIMIT });
  }
  if (page !== undefined && offset !== undefined) return Result.err(invalid('page', 'use page or offset, not both'));
  if (page === undefined && offset === undefined && limit === undefined) return Result.ok({ mode: 'all' });
  const size = limit ?? DEFAULT_PAGE_LIMIT;
  return Result.ok({ mode: 'slice', offset: page !== undefined ? (page - 1) * size : (offset ?? 0), limit: size });
}
