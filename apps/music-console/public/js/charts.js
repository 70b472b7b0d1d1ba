// @ts-check
// The runs timeline: one bar per run, oldest on the left, stacked by what the run did to the
// inventory (created, updated, deleted) and the records that failed mapping; a run that failed, or
// held back a suspicious delete, is marked under its bar. Inline SVG, no library.
import { h, s, uid } from './dom.js';
import { fullTime, hhmm, hhmmss } from './format.js';

/** The series, in stacking order; each colour keeps 3:1 or more against white. */
export const SERIES = [
  { key: 'created', label: 'created', colour: '#137333' },
  { key: 'updated', label: 'updated', colour: '#0b57d0' },
  { key: 'deleted', label: 'deleted', colour: '#9a4a00' },
  { key: 'invalid', label: 'failed records', colour: '#b3261e' },
];

/** Run statuses that get a marker under their bar. */
const MARKERS = /** @type {Record<string, { colour: string, label: string }>} */ ({
  failed: { colour: '#b3261e', label: 'failed run' },
  attention: { colour: '#8a5a00', label: 'needs attention' },
  partial: { colour: '#8a5a00', label: 'partial run' },
});

const WIDTH = 760;
const HEIGHT = 240;
const PAD = { top: 12, right: 12, bottom: 44, left: 44 };

/** @param {any} run */
function summary(run) {
  const c = run.counts;
  return `${fullTime(run.startedAt ?? run.queuedAt)}: ${run.status}; ${c.created} created, ${c.updated} updated, ${c.deleted} deleted, ${c.invalid} failed records, ${c.unchanged} unchanged`;
}

/**
 * The chart of `runs` (newest first, as the API lists them).
 * @param {any[]} runs
 */
export function runsChart(runs) {
  const ordered = [...runs].reverse();
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  const totals = ordered.map((r) => SERIES.reduce((sum, series) => sum + (r.counts[series.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(ordered.length, 1);
  const barW = Math.max(4, Math.min(36, slot * 0.7));
  const y = (/** @type {number} */ v) => PAD.top + plotH - (v / max) * plotH;

  const failed = ordered.filter((r) => r.status === 'failed').length;
  const latest = runs[0];
  const description = runs.length === 0
    ? 'No runs yet.'
    : `${runs.length} runs, ${failed} failed. Latest: ${summary(latest)}.`;

  const bars = ordered.map((run, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let top = PAD.top + plotH;
    const segments = SERIES.map((series) => {
      const value = run.counts[series.key] ?? 0;
      if (value === 0) return null;
      const height = Math.max(1, (value / max) * plotH);
      top -= height;
      return s('rect', { x: x.toFixed(1), y: top.toFixed(1), width: barW.toFixed(1), height: height.toFixed(1), fill: series.colour });
    });
    const marker = MARKERS[run.status];
    return s(
      'g',
      { class: 'run', 'data-status': run.status },
      s('title', {}, summary(run)),
      // A run that changed nothing still shows, as a thin grey line on the axis.
      totals[i] === 0 ? s('rect', { x: x.toFixed(1), y: (PAD.top + plotH - 2).toFixed(1), width: barW.toFixed(1), height: 2, fill: '#6b6b6b' }) : null,
      segments,
      marker ? s('path', { d: `M${x + barW / 2 - 5},${PAD.top + plotH + 14} l5,-8 l5,8 z`, fill: marker.colour }) : null,
    );
  });

  // Minutes, unless several runs share one: then seconds too, so no two labels read the same.
  const minutes = new Set(ordered.map((r) => hhmm(r.startedAt ?? r.queuedAt)));
  const label = minutes.size < ordered.length ? hhmmss : hhmm;
  const ticks = [0, Math.round(max / 2), max].filter((v, i, all) => all.indexOf(v) === i);
  const labelEvery = Math.ceil(ordered.length / 8);
  const svg = s(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, class: 'chart' },
    s('title', { id: titleId }, 'Sync runs, oldest on the left'),
    s('desc', { id: descId }, description),
    ticks.map((v) =>
      s('g', {}, s('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), stroke: '#d0d0d0' }), s('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, String(v))),
    ),
    bars,
    ordered.map((run, i) =>
      i % labelEvery === 0 || i === ordered.length - 1
        ? s('text', { x: PAD.left + i * slot + slot / 2, y: HEIGHT - 8, 'text-anchor': 'middle', class: 'tick' }, label(run.startedAt ?? run.queuedAt))
        : null,
    ),
  );

  const legend = h(
    'ul',
    { class: 'legend' },
    SERIES.map((series) => h('li', {}, swatch(series.colour, 'square'), series.label)),
    Object.values(MARKERS)
      .filter((m, i, all) => all.findIndex((o) => o.label === m.label) === i && m.label !== 'partial run')
      .map((m) => h('li', {}, swatch(m.colour, 'triangle'), m.label === 'needs attention' ? 'needs attention / partial' : m.label)),
  );
  return { svg, legend };
}

/**
 * @param {string} colour
 * @param {'square' | 'triangle'} shape
 */
function swatch(colour, shape) {
  return s(
    'svg',
    { width: 12, height: 12, viewBox: '0 0 12 12', 'aria-hidden': 'true', class: 'swatch' },
    shape === 'square' ? s('rect', { width: 12, height: 12, fill: colour }) : s('path', { d: 'M1,11 L6,2 L11,11 z', fill: colour }),
  );
}
