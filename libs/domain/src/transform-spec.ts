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
const MAX_REGEX_QUANTIFIERS = 8;
const MAX_TEMPLATE = 1000;
const MAX_MAP_ENTRIES = 1000;

const fieldPath = z.string().max(256).regex(FIELD_PATH, 'must be a dot path of our field names, e.g. `album` or `meta.label`');
const direction = z.enum(['inbound', 'outbound', 'both']).default('inbound');
const scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);
const separator = z.string().max(16);

/**
 * Why a regex could backtrack catastrophically, or null when it passes the guard. A syntactic guard,
 * not a proof: it refuses backreferences, a repeated group that contains a quantifier (`(a+)+`) or an
 * alternation (`(a|ab)*`), and more than a few quantifiers; the engine also caps the input length.
 */
export function unsafeRegexReason(pattern: string): string | null {
  // `risky`: the group holds a quantifier or an alternation (itself or in a nested group).
  type Group = { risky: boolean };
  const stack: Group[] = [{ risky: false }];
  let last: Group | 'atom' | null = null;
  let quantifiers = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const top = stack[stack.length - 1] as Group;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || (next === 'k' && pattern[i + 2] === '<')) return 'backreferences are not allowed';
      i++;
      last = 'atom';
    } else if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      last = 'atom';
    } else if (c === '(') {
      if (pattern[i + 1] === '?') {
        // Skip the group kind: (?: (?= (?! (?<= (?<! (?<name>
        const rest = pattern.slice(i + 2);
        const named = /^<[A-Za-z_$][\w$]*>/.exec(rest);
        const kind = named ? named[0].length : rest.startsWith('<=') || rest.startsWith('<!') ? 2 : 1;
        i += 1 + kind;
      }
      stack.push({ risky: false });
      last = null;
    } else if (c === ')') {
      const group = stack.pop();
      if (!group || stack.length === 0) return 'unbalanced parentheses';
      if (group.risky) (stack[stack.length - 1] as Group).risky = true;
      last = group;
    } else if (c === '|') {
      top.risky = true;
      last = null;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)))) {
      if (c === '{') i = pattern.indexOf('}', i);
      if (pattern[i + 1] === '?') i++;
      if (last === null) return 'a quantifier must follow something to repeat';
      if (last !== 'atom' && last.risky) {
        return 'a repeated group must not contain quantifiers or alternations (write `[ab]+` instead of `(a|b)+`)';
      }
      top.risky = true;
      if (++quantifiers > MAX_REGEX_QUANTIFIERS) return `at most ${MAX_REGEX_QUANTIFIERS} quantifiers are allowed`;
      last = null;
    } else {
      last = 'atom';
    }
  }
  return stack.length === 1 ? null : 'unbalanced parentheses';
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
    /** Only when true is `pattern` a regular expression; otherwise every literal occurrence is replaced. */
    regex: z.boolean().default(false),
    flags: z.enum(['g', 'i', 'gi']).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!t.regex) {
      if (t.flags !== undefined) ctx.addIssue({ code: 'custom', path: ['flags'], message: 'only allowed with regex: true' });
      return;
    }
    const unsafe = unsafeRegexReason(t.pattern);
    if (unsafe) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: unsafe });
      return;
    }
    try {
      new RegExp(t.pattern, t.flags);
    } catch {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'is not a valid regular expression' });
    }
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
