import { RE2JS } from 're2js';
import { z } from 'zod';

// One segment of our field path: same rule as FIELD_NAME in mapping-spec.ts. Not imported from there
// because mapping-spec re-exports this module, and a value import back would be an import cycle that
// ESM bundles evaluate in the wrong order.
const FIELD_SEGMENT = '(?!__proto__(?:\\.|$))[A-Za-z_][A-Za-z0-9_]{0,63}';
/** A dot path into our fields: `album`, `meta.label`, `tracks.title` (every element of `tracks`). */
export const FIELD_PATH = new RegExp(`^${FIELD_SEGMENT}(?:\\.${FIELD_SEGMENT})*$`);
/** `{{ field }}` or `{{field.path}}` inside a template. */
export const TEMPLATE_TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;

export const MAX_REGEX_PATTERN = 200;
/**
 * Most instructions a compiled pattern may have. RE2 matches in time proportional to the input times
 * (at worst) the program's size: 200 keeps a 10,000-character value under about 0.1 s for any
 * pattern, while ordinary patterns (`\s*\(feat\. [^)]*\)`: 16) stay far below it.
 */
export const MAX_REGEX_PROGRAM = 200;
const MAX_TEMPLATE = 1000;
const MAX_MAP_ENTRIES = 1000;

const fieldPath = z.string().max(256).regex(FIELD_PATH, 'must be a dot path of our field names, e.g. `album` or `meta.label`');
const direction = z.enum(['inbound', 'outbound', 'both']).default('inbound');
const scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);
const separator = z.string().max(16);

/** RE2 flags for the transform's `flags` (`g` is not a matching flag: it picks replaceAll). */
export function re2Flags(flags: string | undefined): number {
  return flags?.includes('i') ? RE2JS.CASE_INSENSITIVE : 0;
}

/**
 * Why a pattern cannot be a transform's regex, or null when it can. Patterns run in RE2 (linear
 * time in the input, whatever the pattern), so what is refused is what RE2 does not support
 * (backreferences, lookarounds) and programs too large to stay cheap.
 */
export function regexProblem(pattern: string, flags?: string): string | null {
  let program: number;
  try {
    program = RE2JS.compile(pattern, re2Flags(flags)).programSize();
  } catch (error) {
    // RE2's own words, e.g. "invalid or unsupported Perl syntax: `(?=`".
    const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    return `is not a valid RE2 regular expression (no backreferences or lookarounds): ${reason}`;
  }
  return program > MAX_REGEX_PROGRAM ? `is too complex (${program} RE2 instructions, at most ${MAX_REGEX_PROGRAM})` : null;
}

/** Problems with a template's `{{field}}` tokens (only our field paths, no expressions). */
function templateProblem(template: string): string | null {
  for (const match of template.matchAll(TEMPLATE_TOKEN)) {
    if (!FIELD_PATH.test(match[1] ?? '')) return `\`${match[0]}\` is not a field path (only {{field}} or {{field.path}})`;
  }
  if (template.replace(TEMPLATE_TOKEN, '').includes('{{')) return 'has an unclosed `{{`';
  return null;
}

const target = { field: fieldPath, direction };

const replaceSchema = z
  .object({
    ...target,
    op: z.literal('replace'),
    pattern: z.string().min(1).max(MAX_REGEX_PATTERN),
    replacement: z.string().max(1000),
    /** Only when true is `pattern` a regular expression (RE2 syntax); otherwise every literal occurrence is replaced. */
    regex: z.boolean().default(false),
    flags: z.enum(['g', 'i', 'gi']).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!t.regex) {
      if (t.flags !== undefined) ctx.addIssue({ code: 'custom', path: ['flags'], message: 'only allowed with regex: true' });
      return;
    }
    const problem = regexProblem(t.pattern, t.flags);
    if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
  });

// Keys of `map.values` are third-party values, so any string: the organization is stored as JSON
// text, so keys with '.' or '$' are fine. (zod skips a `__proto__` key, so that one never matches.)
const mapKey = z.string().max(256);
const mapValue = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

/**
 * One declarative operation on one of our fields (no code is ever evaluated). `direction` says when
 * it runs: `inbound` (default) in toItem, `outbound` in toRecord, `both` in each.
 */
export const transformSchema = z.discriminatedUnion('op', [
  z.object({ ...target, op: z.literal('trim') }).strict(),
  z.object({ ...target, op: z.literal('lowercase') }).strict(),
  z.object({ ...target, op: z.literal('uppercase') }).strict(),
  z.object({ ...target, op: z.literal('default'), value: z.union([scalar, z.array(scalar).max(100)]) }).strict(),
  replaceSchema,
  z.object({ ...target, op: z.literal('split'), separator }).strict(),
  z.object({ ...target, op: z.literal('join'), separator }).strict(),
  z.object({ ...target, op: z.literal('toNumber') }).strict(),
  z.object({ ...target, op: z.literal('toString') }).strict(),
  z.object({ ...target, op: z.literal('toBoolean') }).strict(),
  /** Numbers are epoch milliseconds (`unit: 's'` for seconds); output is an ISO-8601 UTC string. */
  z.object({ ...target, op: z.literal('toDate'), unit: z.enum(['ms', 's']).optional() }).strict(),
  z
    .object({
      ...target,
      op: z.literal('map'),
      values: z
        .record(mapKey, mapValue)
        .refine((v) => Object.keys(v).length <= MAX_MAP_ENTRIES, `at most ${MAX_MAP_ENTRIES} entries`),
      default: mapValue.optional(),
    })
    .strict(),
  z
    .object({
      ...target,
      op: z.literal('template'),
      template: z
        .string()
        .max(MAX_TEMPLATE)
        .superRefine((t, ctx) => {
          const problem = templateProblem(t);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
    })
    .strict(),
]);

/** An organization's transforms, applied in order. */
export const transformsSchema = z.array(transformSchema).max(200).default([]);
export type Transform = z.infer<typeof transformSchema>;
export type TransformOp = Transform['op'];
