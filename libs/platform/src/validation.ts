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
