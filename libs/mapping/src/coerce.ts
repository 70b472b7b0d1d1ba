// The lossless coercions toItem applies when a third-party value does not have the declared type.
// Anything not listed is an error: a value is never guessed into shape.

/** Marks a value that could not be coerced. */
export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

/** string <- string, finite number (`String(n)`), boolean (`"true"`/`"false"`). */
export function asString(value: unknown): string | Invalid {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : INVALID;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return INVALID;
}

/**
 * number <- finite number, or a string whose trimmed text is exactly how the number prints
 * (`"42"`, `"-1.5"`, `" 7 "`; not `"1.50"`, `"007"`, `"0x10"`, `""`). -0 becomes 0 (JSON has no -0).
 */
export function asNumber(value: unknown): number | Invalid {
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : INVALID;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return INVALID;
    const n = Number(text);
    return Number.isFinite(n) && String(n) === text ? n + 0 : INVALID;
  }
  return INVALID;
}

/** boolean <- boolean, or exactly `"true"` / `"false"`. */
export function asBoolean(value: unknown): boolean | Invalid {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return INVALID;
}

/** A short description of a value for error messages (long strings are cut). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
