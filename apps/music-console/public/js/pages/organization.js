// @ts-check
// One organization: an overview of its sync (health, polling entries, pause and resume), its runs
// (a timeline and a table), its deliveries (filters, replay), dead letters (bulk replay), diverged
// items (replay or accept the remote version), its webhooks (test event, secret rotation), and the
// mapping preview beside the third party's records.
import { ApiError, history, organizations } from '../api.js';
import { runsChart } from '../charts.js';
import { badge, field, h, uid } from '../dom.js';
import { count, duration, json, when } from '../format.js';
import { deadLettersSection } from './org-dead-letters.js';
import { divergencesSection } from './org-divergences.js';
import { overviewSection } from './org-overview.js';
import { healthBadge, HEALTH_TEXT, loadStatus } from './org-status.js';
import { webhooksSection } from './org-webhooks.js';
import { deliveriesTable } from './deliveries-table.js';

/** The organization's sections, each a link (`#/organizations/<id>/<key>`) and a renderer. */
export const SECTIONS = /** @type {const} */ ([
  { key: 'overview', label: 'Overview' },
  { key: 'runs', label: 'Runs' },
  { key: 'deliveries', label: 'Deliveries' },
  { key: 'dead-letters', label: 'Dead letters' },
  { key: 'diverged', label: 'Diverged items' },
  { key: 'webhooks', label: 'Webhooks' },
  { key: 'preview', label: 'Mapping preview' },
]);

const FINISHED = ['succeeded', 'partial', 'failed', 'attention', 'skipped'];
const RUNS_SHOWN = 30;

/**
 * What every section of an organization gets: the organization (as music-config shows it), its
 * sync status (null when the server does not report it), and a way to show a newer status (the
 * answer of pause and resume) in the page's header.
 * @typedef {{ org: any, status: import('./org-status.js').StatusAnswer, setStatus: (status: import('./org-status.js').SyncStatus) => void, refreshStatus: () => Promise<void> }} OrgView
 */

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {string[]} params  [organization id, section]
 */
export async function organizationPage(ctx, params) {
  const id = params[0] ?? '';
  const section = params[1] || 'overview';
  let org;
  /** @type {import('./org-status.js').StatusAnswer} */
  let status;
  try {
    [org, status] = await Promise.all([organizations.get(id), loadStatus(id)]);
  } catch (error) {
    if (/** @type {ApiError} */ (error).status === 404) {
      ctx.main.replaceChildren(h('h1', {}, 'Organization not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your organizations')));
      return 'Not found';
    }
    throw error;
  }
  if (!ctx.isCurrent()) return org.name;

  const body = h('div', { class: 'section-body' });
  const controls = h('div', { class: 'controls' });
  const health = h('p', { class: 'meta health-line' });
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Organization' },
    SECTIONS.map((s) => h('a', { href: `#/organizations/${encodeURIComponent(id)}/${s.key}`, 'aria-current': s.key === section ? 'page' : null }, s.label)),
  );
  ctx.main.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Organizations'), ' / '),
    h('div', { class: 'org-head' }, h('div', {}, h('h1', {}, org.name), h('p', { class: 'meta' }, describe(org)), health), controls),
    tabs,
    body,
  );

  /** @type {OrgView} */
  const view = {
    org,
    status,
    setStatus: (next) => {
      view.status = { status: next };
      showHealth(health, view.status);
    },
    // After an action that may change the health (a run, a replay): the header reads it again.
    refreshStatus: async () => {
      const next = await loadStatus(id).catch(() => null);
      if (next?.status && health.isConnected) view.setStatus(next.status);
    },
  };
  showHealth(health, status);

  if (section === 'deliveries') await deliveriesSection(ctx, view, body);
  else if (section === 'preview') previewSection(ctx, org, body);
  else if (section === 'runs') await runsSection(ctx, view, body, controls);
  else if (section === 'dead-letters') await deadLettersSection(ctx, view, body);
  else if (section === 'diverged') await divergencesSection(ctx, view, body);
  else if (section === 'webhooks') webhooksSection(ctx, view, body);
  else overviewSection(ctx, view, body);
  return `${org.name}: ${SECTIONS.find((s) => s.key === section)?.label ?? 'Overview'}`;
}

/**
 * The header's health line: a badge and what it means (paused: why and since when).
 * @param {HTMLElement} el
 * @param {import('./org-status.js').StatusAnswer} answer
 */
function showHealth(el, answer) {
  const status = answer.status;
  if (!status) {
    el.replaceChildren();
    return;
  }
  const why = status.paused ? `${status.pausedReason ?? 'no reason given'}${status.pausedAt ? ` (since ${when(status.pausedAt)})` : ''}` : HEALTH_TEXT[status.health];
  el.replaceChildren(healthBadge(status.health), ' ', why);
}

/** @param {any} org */
function describe(org) {
  const polling = org.polling.map((/** @type {any} */ p) => `every ${p.interval} ${p.type}${p.interval > 1 ? 's' : ''}`).join(', ');
  const outputs = org.webhooks.filter((/** @type {any} */ w) => w.type === 'output').length;
  return `${org.synchronization} · ${org.polling.length ? `polls ${polling}` : 'no polling entry'} · ${outputs} output webhook${outputs === 1 ? '' : 's'}`;
}

// ---- runs ----------------------------------------------------------------------------------

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {OrgView} view
 * @param {HTMLElement} body
 * @param {HTMLElement} controls
 */
async function runsSection(ctx, view, body, controls) {
  const { org } = view;
  const figure = h('figure', { class: 'card chart-card' });
  const table = h('div', { class: 'table-wrap' });
  const heading = h('h2', {}, 'Sync runs');
  body.replaceChildren(heading, figure, table);

  /** @type {number | undefined} */
  let timer;
  const refresh = async () => {
    const page = await history.runs(org.id, { limit: RUNS_SHOWN });
    if (!body.isConnected) return [];
    const runs = /** @type {any[]} */ (page.items);
    const { svg, legend } = runsChart(runs);
    figure.replaceChildren(svg, h('figcaption', {}, legend, h('span', { class: 'hint' }, 'One bar per run: what it changed in your inventory, and the records its mapping refused. Hover a bar for its numbers; every run is in the table below.')));
    table.replaceChildren(runsTable(runs));
    // Runs in progress are followed until they finish.
    window.clearTimeout(timer);
    if (runs.some((r) => !FINISHED.includes(r.status))) timer = window.setTimeout(() => void refresh(), 1500);
    return runs;
  };

  const syncNow = h('button', { type: 'button' }, 'Sync now');
  syncNow.addEventListener('click', async () => {
    syncNow.toggleAttribute('disabled', true);
    try {
      const { runs } = await organizations.syncNow(org.id);
      ctx.announce(`Sync started: ${runs.length} run${runs.length === 1 ? '' : 's'} queued`);
      const ids = new Set(runs.map((/** @type {any} */ r) => r.id));
      const deadline = Date.now() + 120_000;
      for (;;) {
        const latest = await refresh();
        const mine = latest.filter((r) => ids.has(r.id));
        if (mine.length > 0 && mine.every((r) => FINISHED.includes(r.status))) {
          ctx.announce(mine.map((r) => `Run finished: ${r.status}; ${r.counts.created} created, ${r.counts.updated} updated, ${r.counts.deleted} deleted, ${r.counts.invalid} failed records`).join('. '));
          void view.refreshStatus();
          break;
        }
        if (!body.isConnected || Date.now() > deadline) break;
        await new Promise((resolve) => window.setTimeout(resolve, 1000));
      }
    } catch (error) {
      ctx.announce(`Sync not started: ${/** @type {Error} */ (error).message}`);
    } finally {
      syncNow.removeAttribute('disabled');
    }
  });
  controls.replaceChildren(syncNow);
  await refresh();
}

/** @param {any[]} runs */
function runsTable(runs) {
  if (runs.length === 0) return h('p', { class: 'empty' }, 'No run yet: "Sync now" polls at once; scheduled polls appear here too.');
  const cols = ['Started', 'Trigger', 'Status', 'Took', 'Fetched', 'Created', 'Updated', 'Deleted', 'Failed records', 'Message'];
  return h(
    'table',
    { class: 'runs' },
    h('caption', { class: 'visually-hidden' }, 'Sync runs, newest first'),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      runs.map((run) =>
        h(
          'tr',
          { 'data-run-id': run.id },
          h('td', {}, when(run.startedAt ?? run.queuedAt)),
          h('td', {}, run.trigger),
          h('td', {}, badge(run.status)),
          h('td', {}, duration(run.startedAt, run.finishedAt)),
          ['fetched', 'created', 'updated', 'deleted', 'invalid'].map((k) => h('td', { class: 'num' }, count(run.counts[k] ?? 0))),
          h('td', { class: 'message' }, run.message ?? '', run.errors?.length ? recordErrors(run.errors) : null),
        ),
      ),
    ),
  );
}

/** @param {any[]} errors */
function recordErrors(errors) {
  return h(
    'details',
    {},
    h('summary', {}, `${errors.length} refused record${errors.length === 1 ? '' : 's'} (sample)`),
    h('ul', {}, errors.map((e) => h('li', {}, h('code', {}, e.externalId ?? `#${e.index}`), ` ${e.path}: ${e.message}`))),
  );
}

// ---- deliveries ----------------------------------------------------------------------------

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {OrgView} view
 * @param {HTMLElement} body
 */
async function deliveriesSection(ctx, view, body) {
  const { org } = view;
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    h('option', { value: 'failed' }, 'failed (dead-lettered)'),
    h('option', { value: 'pending' }, 'pending'),
    h('option', { value: 'succeeded' }, 'succeeded'),
    h('option', { value: 'resolved' }, 'resolved (failed, no longer needing you)'),
    h('option', { value: 'superseded' }, 'superseded'),
    h('option', { value: 'cancelled' }, 'cancelled'),
  );
  const externalId = h('input', { type: 'search', name: 'externalId', maxlength: 256 });
  const list = h('div', { class: 'table-wrap' });
  const more = h('div', { class: 'actions' });
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter deliveries', onSubmit: (event) => { event.preventDefault(); void load(); } },
    field('Status', status),
    field('Record (externalId)', externalId),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')),
  );
  body.replaceChildren(
    h('h2', {}, 'Deliveries'),
    h('p', { class: 'hint' }, 'Each local change of an item, sent to each output webhook. A failed one was dead-lettered after its attempts; fix the cause, then replay it.'),
    filters,
    list,
    more,
  );

  /** @type {any[]} */
  let items = [];
  /** @param {string | null} [cursor] */
  const load = async (cursor = null) => {
    const page = await history.deliveries(org.id, {
      limit: 50,
      status: /** @type {HTMLSelectElement} */ (status).value || undefined,
      externalId: /** @type {HTMLInputElement} */ (externalId).value.trim() || undefined,
      cursor: cursor ?? undefined,
    });
    items = cursor ? [...items, ...page.items] : page.items;
    list.replaceChildren(deliveriesTable(ctx, org, items, () => {
      void view.refreshStatus();
      return load();
    }));
    more.replaceChildren(...(page.nextCursor ? [h('button', { type: 'button', class: 'secondary', onClick: () => void load(page.nextCursor) }, 'Load more')] : []));
  };
  await load();
}

// ---- mapping preview -----------------------------------------------------------------------

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {any} org
 * @param {HTMLElement} body
 */
function previewSection(ctx, org, body) {
  const group = uid('source');
  const fromEndpoint = h('input', { type: 'radio', name: group, value: 'polling', id: uid('from-endpoint'), checked: org.polling.length > 0 });
  const fromSample = h('input', { type: 'radio', name: group, value: 'sample', id: uid('from-sample'), checked: org.polling.length === 0 });
  const entry = h('select', { name: 'pollingId' }, org.polling.map((/** @type {any} */ p) => h('option', { value: p.id }, p.endpoint)));
  const sample = h('textarea', { name: 'records', rows: 8, spellcheck: 'false', class: 'code' });
  /** @type {HTMLTextAreaElement} */ (sample).value = json([{ id: 'song-1', name: 'A song', artist: 'An artist', album: 'An album' }]);
  const result = h('div', { class: 'preview-result', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit' }, 'Preview');

  const submit = async () => {
    /** @type {Record<string, unknown>} */
    let request;
    if (/** @type {HTMLInputElement} */ (fromSample).checked) {
      try {
        const records = JSON.parse(/** @type {HTMLTextAreaElement} */ (sample).value);
        request = { records: Array.isArray(records) ? records : [records] };
      } catch (error) {
        result.replaceChildren(h('p', { class: 'problem', role: 'alert' }, `The sample is not valid JSON: ${/** @type {Error} */ (error).message}`));
        return;
      }
    } else {
      request = { pollingId: /** @type {HTMLSelectElement} */ (entry).value };
    }
    run.toggleAttribute('disabled', true);
    result.replaceChildren(h('p', { class: 'loading' }, 'Mapping…'));
    try {
      const preview = await organizations.previewMapping(org.id, request);
      result.replaceChildren(...previewResult(preview));
      ctx.announce(preview.source.ok === false ? `Preview failed: ${preview.source.error}` : `Preview: ${preview.counts.valid} of ${preview.counts.records} records map`);
    } catch (error) {
      const e = /** @type {ApiError} */ (error);
      result.replaceChildren(h('div', { class: 'problem', role: 'alert' }, h('p', {}, e.message), e.details?.length ? h('ul', {}, e.details.map((d) => h('li', {}, `${d.path}: ${d.message}`))) : null));
    } finally {
      run.removeAttribute('disabled');
    }
  };

  body.replaceChildren(
    h('h2', {}, 'Mapping preview'),
    h('p', { class: 'hint' }, 'A dry run of this organization’s mapping: each of the third party’s records beside the item it becomes, or why it is refused. Nothing is written.'),
    h(
      'form',
      { class: 'card', onSubmit: (event) => { event.preventDefault(); void submit(); } },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Records to map'),
        h('div', { class: 'choice' }, fromEndpoint, h('label', { for: fromEndpoint.id }, 'The first page of a polling endpoint')),
        org.polling.length ? field('Polling endpoint', entry) : h('p', { class: 'hint' }, 'This organization has no polling entry.'),
        h('div', { class: 'choice' }, fromSample, h('label', { for: fromSample.id }, 'A sample I paste')),
        field('Sample records (a JSON array)', sample),
      ),
      h('div', { class: 'actions' }, run),
    ),
    result,
  );
}

/** @param {any} preview */
function previewResult(preview) {
  const src = preview.source;
  const head =
    src.kind === 'sample'
      ? 'Your sample'
      : src.ok
        ? `First page of ${src.endpoint} (HTTP ${src.httpStatus}, ${src.ms} ms)`
        : null;
  if (src.kind === 'polling' && !src.ok) {
    return [h('div', { class: 'problem', role: 'alert' }, h('p', {}, `Could not read ${src.endpoint}: ${src.error}`))];
  }
  const c = preview.counts;
  return [
    h(
      'p',
      { class: 'summary' },
      `${head}: ${count(c.records)} record${c.records === 1 ? '' : 's'}, `,
      h('strong', {}, `${count(c.valid)} map`),
      ', ',
      h('strong', { class: c.invalid ? 'error' : '' }, `${count(c.invalid)} refused`),
      c.records > preview.results.length ? ` (the first ${preview.results.length} shown)` : '',
      preview.reversible ? '' : '. Items written back to the third party would not read the same: check the transforms before syncing two-way.',
    ),
    h(
      'table',
      { class: 'preview' },
      h('caption', { class: 'visually-hidden' }, 'Each record beside what the mapping makes of it'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Third party’s record'), h('th', { scope: 'col' }, 'Our item, or why it is refused'))),
      h(
        'tbody',
        {},
        preview.results.map((/** @type {any} */ r) =>
          h(
            'tr',
            { class: r.ok ? 'ok' : 'refused' },
            h('th', { scope: 'row', class: 'num' }, r.index + 1),
            h('td', {}, h('pre', {}, json(r.record))),
            h(
              'td',
              {},
              r.ok
                ? h('pre', {}, json({ externalId: r.item.externalId, ...r.item.data }))
                : h('div', {}, badge('refused'), h('ul', { class: 'errors' }, r.errors.map((/** @type {any} */ e) => h('li', {}, h('code', {}, e.path || '(record)'), `: ${e.message}`)))),
            ),
          ),
        ),
      ),
    ),
  ];
}
