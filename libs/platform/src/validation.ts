import { Result } from '@sapphire/result';
import type { z } from 'zod';
import { AppError, type ErrorDetail } from './errors';

/** Turns zod issues into the envelope's `details`, one per offending path. */
export function detailsFromZod(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** Validates untrusted input at the boundary; the only place request data meets a schema. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'Request'): Result<z.infer<S>, AppError> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return Result.ok(parsed.data as z.infer<S>);
  return Result.err(new AppError('VALIDATION_FAILED', `${what} validation failed`, detailsFromZod(parsed.error)));
}

/** Depth of a parsed JSON value; bodies nested deeper than the limit are refused before any schema runs. */
export function jsonDepth(value: unknown, limit: number): number {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let max = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    max = Math.max(max, depth);
    if (max > limit) return max;
    for (const child of Object.values(node as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * The path (`a.b.0`) of the first string or key in a parsed JSON value that contains U+0000, or
 * undefined. MongoDB-compatible stores refuse NUL in keys, and FerretDB on PostgreSQL refuses it in
 * any string, even in a query filter, so such input is refused at the boundary.
 */
export function nulCharacterPath(value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return path || '(root)';
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return childPath;
      stack.push([child, childPath]);
    }
  }
  return undefined;
}
