// Strict date parsing for the toDate transform. Date.parse is lenient and reads zone-less times
// in the server's local zone, so ISO-8601 is parsed here by hand, always in UTC.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const EPOCH_DIGITS = /^-?\d{1,16}$/;
// The range a JavaScript Date can hold.
const MAX_EPOCH_MS = 8.64e15;

function fromEpoch(ms: number): string | null {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? new Date(ms).toISOString() : null;
}

function fromIso(text: string): string | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const part = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  // setUTCFullYear rolls 2024-02-30 over to March: refuse dates that are not on the calendar.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (digits[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return fromEpoch(date.getTime() - offsetMinutes * 60_000);
}

/**
 * An ISO-8601 UTC string from an ISO-8601 date or date-time (no zone = UTC), or from epoch time as
 * a number or a string of digits (`unit` ms or s); null when the value is not a date.
 */
export function toIsoDate(value: unknown, unit: 'ms' | 's'): string | null {
  const scale = unit === 's' ? 1000 : 1;
  if (typeof value === 'number') return fromEpoch(value * scale);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (EPOCH_DIGITS.test(text)) return fromEpoch(Number(text) * scale);
  return fromIso(text);
}
