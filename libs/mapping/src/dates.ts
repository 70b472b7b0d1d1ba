// Strict date parsing for the toDate transform. Date.parse is lenient and reads zone-less times
// in the server's local zone, so ISO-8601 is parsed here by hand, always in UTC.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const EPOCH_DIGITS = /^-?\d{1,16}$/;
// The range a JavaScript Date can hold.
const MAX_EPOCH_MS = 8.64e15;

function fromEpoch(ms: number): string | null {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? new Date(ms).toISOString() : null;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

const num = (group: string | undefined): number => (group === undefined ? 0 : Number(group));

function fromIso(text: string): string | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const year = num(m[1]);
  const month = num(m[2]);
  const day = num(m[3]);
  const hour = num(m[4]);
  const minute = num(m[5]);
  const second = num(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  // Refuse what is not on the calendar (2024-02-30) instead of rolling it over as Date does.
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (digits[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  let time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (year < 100) {
    // Date.UTC reads years 0-99 as 1900-1999.
    const date = new Date(time);
    date.setUTCFullYear(year);
    time = date.getTime();
  }
  return fromEpoch(time - offsetMinutes * 60_000);
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
