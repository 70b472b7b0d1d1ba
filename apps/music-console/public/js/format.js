// @ts-check

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * A moment people read at a glance: the time today, else the date and time.
 * @param {string | null | undefined} iso
 */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? time.format(d) : dateTime.format(d);
}

/** @param {string | null | undefined} iso */
export function fullTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : '';
}

/** @param {string} iso */
export function hhmm(iso) {
  return shortTime.format(new Date(iso));
}

/** @param {string} iso */
export function hhmmss(iso) {
  return time.format(new Date(iso));
}

/**
 * From one moment to another, as "850 ms", "12.3 s" or "4 min 5 s".
 * @param {string | null | undefined} from
 * @param {string | null | undefined} to
 */
export function duration(from, to) {
  if (!from || !to) return '—';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** @param {number} n */
export function count(n) {
  return new Intl.NumberFormat().format(n);
}

/** @param {unknown} value */
export function json(value) {
  return JSON.stringify(value, null, 2);
}
