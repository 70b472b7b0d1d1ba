import { RE2JS } from 're2js';
import { re2Flags, type Transform } from '@music/domain';
import { toIsoDate } from './dates';
import { compileReader, type Reader } from './paths';

// Each transform compiles once into a function of one value. Conventions (README.md, "Transforms"):
// a missing value (undefined/null) passes through every op but `default` and `template`; ops that act
// on one scalar (trim ... map) act on every element of an array; string ops leave non-strings alone.

/** Why an op could not apply; `index` is the array element at fault, if any. */
export class OpFailure {
  constructor(
    readonly message: string,
    readonly index?: number,
  ) {}
}

/** Marks a field whose transform failed (the error is reported once, not again as a type error). */
export const FAILED: unique symbol = Symbol('failed');

/** Applies an op to a field's current value; `root` is the whole record in our field names. */
export type OpFn = (value: unknown, root: Record<string, unknown>) => unknown;

// A regex only runs on values up to this length. RE2 takes time linear in the value (there is no
// backtracking to bound), so this caps one value's cost at about 0.1 s for the largest pattern
// transformsSchema accepts (MAX_REGEX_PROGRAM).
export const MAX_REGEX_INPUT = 10_000;
const TEMPLATE_TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off']);

const isMissing = (v: unknown): boolean => v === undefined || v === null;

/** Wraps a scalar op so that it also maps every element of an array value. */
function eachElement(fn: (value: unknown) => unknown): OpFn {
  return (value) => {
    if (!Array.isArray(value)) return fn(value);
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const r = fn(value[i]);
      if (r instanceof OpFailure) return new OpFailure(r.message, i);
      out[i] = r;
    }
    return out;
  };
}

const onStrings = (fn: (s: string) => unknown): OpFn => eachElement((v) => (typeof v === 'string' ? fn(v) : v));

function toNumber(v: unknown): unknown {
  if (isMissing(v)) return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : new OpFailure('not a finite number');
  if (typeof v === 'string') {
    const text = v.trim();
    const n = Number(text);
    if (text !== '' && Number.isFinite(n)) return n;
  }
  return new OpFailure(`cannot read a number from ${kind(v)}`);
}

function toText(v: unknown): unknown {
  if (isMissing(v) || typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return new OpFailure(`cannot make a string of ${kind(v)}`);
}

function toBoolean(v: unknown): unknown {
  if (isMissing(v) || typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const word = v.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return new OpFailure(`cannot read a boolean from ${kind(v)}`);
}

function kind(v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? 'a long string' : JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function split(separator: string): OpFn {
  return (v) => {
    if (isMissing(v) || Array.isArray(v)) return v;
    if (typeof v !== 'string') return new OpFailure(`expects a string, got ${kind(v)}`);
    if (v === '') return [];
    // An empty separator splits into characters (code points, so that join restores the string).
    return separator === '' ? Array.from(v) : v.split(separator);
  };
}

function join(separator: string): OpFn {
  return (v) => {
    if (isMissing(v) || typeof v === 'string') return v;
    if (!Array.isArray(v)) return new OpFailure(`expects an array, got ${kind(v)}`);
    const parts = new Array<string>(v.length);
    for (let i = 0; i < v.length; i++) {
      const el: unknown = v[i];
      const text = isMissing(el) ? '' : toText(el);
      if (typeof text !== 'string') return new OpFailure('only scalar elements can be joined', i);
      parts[i] = text;
    }
    return parts.join(separator);
  };
}

function replace(t: Extract<Transform, { op: 'replace' }>): OpFn {
  if (!t.regex) {
    // split/join: a literal replacement, where `$&` and friends mean nothing.
    return onStrings((s) => s.split(t.pattern).join(t.replacement));
  }
  // RE2, never the backtracking RegExp: patterns come from tenants and values from third parties,
  // and a pattern such as `a*a*b` took cubic time in V8 (one 3,000-character value froze the worker
  // for 10 s). The replacement keeps String.prototype.replace's meaning (`$1`, `$&`, `$<name>`, `$$`).
  const re = RE2JS.compile(t.pattern, re2Flags(t.flags));
  const all = t.flags?.includes('g') ?? false;
  return onStrings((s) => {
    if (s.length > MAX_REGEX_INPUT) return new OpFailure(`value longer than ${MAX_REGEX_INPUT} characters`);
    const matcher = re.matcher(s);
    return all ? matcher.replaceAll(t.replacement) : matcher.replaceFirst(t.replacement);
  });
}

function map(t: Extract<Transform, { op: 'map' }>): OpFn {
  // A Map, not the values object: keys such as `constructor` must not find inherited properties.
  const table = new Map<string, unknown>(Object.keys(t.values).map((k) => [k, t.values[k]]));
  const hasDefault = t.default !== undefined;
  return eachElement((v) => {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return v;
    const key = String(v);
    if (table.has(key)) return table.get(key);
    return hasDefault ? t.default : v;
  });
}

function template(text: string): OpFn {
  // Precompiled into literal text and readers of our fields, alternating: lit, read, lit, ..., lit.
  const literals: string[] = [];
  const readers: Reader[] = [];
  const names: string[] = [];
  let last = 0;
  for (const match of text.matchAll(TEMPLATE_TOKEN)) {
    literals.push(text.slice(last, match.index));
    names.push(match[1] ?? '');
    readers.push(compileReader(match[1] ?? ''));
    last = (match.index ?? 0) + match[0].length;
  }
  literals.push(text.slice(last));
  return (_value, root) => {
    let out = literals[0] as string;
    for (let i = 0; i < readers.length; i++) {
      const v = (readers[i] as Reader)(root);
      let part: string;
      if (typeof v === 'string') part = v;
      else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') part = String(v);
      else if (isMissing(v) || v === FAILED) part = '';
      else return new OpFailure(`{{${names[i]}}} is not a scalar value`);
      out += part + (literals[i + 1] as string);
    }
    return out;
  };
}

/** Compiles one (schema-valid) transform into its op function. */
export function compileOp(t: Transform): OpFn {
  switch (t.op) {
    case 'trim':
      return onStrings((s) => s.trim());
    case 'lowercase':
      return onStrings((s) => s.toLowerCase());
    case 'uppercase':
      return onStrings((s) => s.toUpperCase());
    case 'replace':
      return replace(t);
    case 'default': {
      const value = t.value;
      return (v) => (isMissing(v) ? (Array.isArray(value) ? value.slice() : value) : v);
    }
    case 'split':
      return split(t.separator);
    case 'join':
      return join(t.separator);
    case 'toNumber':
      return eachElement(toNumber);
    case 'toString':
      return eachElement(toText);
    case 'toBoolean':
      return eachElement(toBoolean);
    case 'toDate': {
      const unit = t.unit ?? 'ms';
      return eachElement((v) => (isMissing(v) ? v : (toIsoDate(v, unit) ?? new OpFailure(`${kind(v)} is not a date`))));
    }
    case 'map':
      return map(t);
    case 'template':
      return template(t.template);
    default: {
      const unknownOp: never = t;
      throw new Error(`unknown transform op ${JSON.stringify((unknownOp as { op?: unknown }).op)}`);
    }
  }
}
