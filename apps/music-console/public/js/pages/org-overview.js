// @ts-check
// An organization's sync at a glance: its health, what waits for the owner (dead letters, diverged
// items), each polling entry's last and next run, and pause / resume of the whole organization or
// of one entry, with the reason people will read later.
import { ApiError, controls } from '../api.js';
import { ask } from '../dialog.js';
import { badge, h } from '../dom.js';
import { count, fullTime, when } from '../format.js';
import { healthBadge, HEALTH_TEXT, loadStatus } from './org-status.js';

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {import('./organization.js').OrgView} view
 * @param {HTMLElement} body
 */
export function overviewSection(ctx, view, body) {
  const { org } = view;
  const base = `#/organizations/${encodeURIComponent(org.id)}`;
  const content = h('div', {});
  const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
  body.replaceChildren(h('div', { class: 'section-head' }, h('h2', {}, 'Sync status'), refresh), content);

  /**
   * Shows a status; `focusKey` names the control to give the focus back to (the one just used is
   * replaced by its opposite: Pause by Resume).
   * @param {string} [focusKey]
   */
  const render = (focusKey) => {
    const status = view.status.status;
    content.replaceChildren(...(status ? statusView(status) : unavailableView(view.status.unavailable)));
    if (focusKey) /** @type {HTMLElement | null} */ (content.querySelector(`[data-control="${focusKey}"]`))?.focus();
  };

  /**
   * @param {'pause' | 'resume'} action
   * @param {{ entryId?: string, label: string }} target
   */
  const act = async (action, target) => {
    const key = target.entryId ? `entry:${target.entryId}` : 'org';
    let reason = '';
    if (action === 'pause') {
      const answer = await ask({
        title: `Pause ${target.label}?`,
        text: target.entryId
          ? 'This polling entry stops polling until you resume it; the others go on. Webhooks from the third party are still taken.'
          : 'Nothing of this organization polls, and none of our changes is delivered, until you resume it: the changes wait, none is lost. Webhooks from the third party are still taken.',
        confirm: 'Pause',
        field: { label: 'Reason (shown with the status)', hint: 'Optional, e.g. “their API is down until Monday”.', maxlength: 500 },
      });
      if (answer === null) return;
      reason = answer;
    }
    try {
      const body = { ...(target.entryId ? { entryId: target.entryId } : {}), ...(action === 'pause' && reason ? { reason } : {}) };
      const next = action === 'pause' ? await controls.pause(org.id, body) : await controls.resume(org.id, body);
      view.setStatus(next);
      render(`${action === 'pause' ? 'resume' : 'pause'}:${key}`);
      ctx.announce(`${target.label}: ${action === 'pause' ? 'paused' : 'resumed'}. Health: ${next.health}.`);
    } catch (error) {
      ctx.announce(`${action === 'pause' ? 'Pause' : 'Resume'} refused: ${/** @type {ApiError} */ (error).message}`);
    }
  };

  /** @param {import('./org-status.js').SyncStatus} status */
  const statusView = (status) => {
    const entries = new Map(org.polling.map((/** @type {any} */ p) => [p.id, p]));
    // Every delivery that gave up (`failed`, refused for good or out of attempts): what Dead letters lists.
    const deadLetters = status.deliveries.failed ?? status.deliveries.deadLettered;
    const orgControl = status.paused
      ? h('button', { type: 'button', 'data-control': 'resume:org', onClick: () => void act('resume', { label: org.name }) }, 'Resume syncing')
      : h('button', { type: 'button', class: 'secondary', 'data-control': 'pause:org', onClick: () => void act('pause', { label: org.name }) }, 'Pause syncing…');
    return [
      h(
        'div',
        { class: `card status-card status-${status.health}` },
        status.paused
          ? h(
              'p',
              { class: 'status-line' },
              healthBadge(status.health),
              ` Paused${status.pausedAt ? ` since ${when(status.pausedAt)}` : ''}`,
              status.pausedReason ? [': ', h('q', {}, status.pausedReason)] : '',
              '. Nothing polls and none of our changes is delivered until it is resumed.',
            )
          : h('p', { class: 'status-line' }, healthBadge(status.health), ' ', capitalized(HEALTH_TEXT[status.health]), '.'),
        h('div', { class: 'actions' }, orgControl),
      ),
      h(
        'dl',
        { class: 'counts' },
        countBox('Items', count(status.items.total), null, ''),
        countBox('Deliveries waiting', count(status.deliveries.pending), `${base}/deliveries`, 'deliveries'),
        countBox('Dead letters', count(deadLetters), `${base}/dead-letters`, 'dead letters', deadLetters > 0),
        countBox('Diverged items', count(status.divergedItems), `${base}/diverged`, 'diverged items', status.divergedItems > 0),
      ),
      h('h3', {}, 'Polling entries'),
      status.pollingEntries.length === 0
        ? h('p', { class: 'empty' }, 'No polling entry: this organization syncs through webhooks only.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'entries' },
              h('caption', { class: 'visually-hidden' }, 'Polling entries: last and next run'),
              h('thead', {}, h('tr', {}, ['Endpoint', 'State', 'Last run', 'Last success', 'Next run', 'Failures in a row', ''].map((c) => h('th', { scope: 'col' }, c || h('span', { class: 'visually-hidden' }, 'Action'))))),
              h(
                'tbody',
                {},
                status.pollingEntries.map((e) => {
                  const entry = entries.get(e.entryId);
                  const label = `polling of ${e.url}`;
                  const by = pausedBy(e, status);
                  return h(
                    'tr',
                    { 'data-entry-id': e.entryId },
                    h('th', { scope: 'row', class: 'url' }, e.url, entry ? h('span', { class: 'hint block' }, `every ${entry.interval} ${entry.type}${entry.interval > 1 ? 's' : ''}`) : null),
                    h(
                      'td',
                      {},
                      by === 'entry'
                        ? [badge('paused'), e.pausedReason ? h('span', { class: 'hint block' }, e.pausedReason) : null, status.paused ? h('span', { class: 'hint block' }, 'the organization is paused too') : null]
                        : by === 'organization'
                        ? [badge('paused'), h('span', { class: 'hint block' }, 'with the organization')]
                        : badge('active'),
                    ),
                    h('td', {}, e.lastRun ? [badge(e.lastRun.status), ' ', h('time', { datetime: e.lastRun.startedAt ?? '', title: fullTime(e.lastRun.startedAt) }, when(e.lastRun.startedAt)), runCounts(e.lastRun.counts)] : 'none yet'),
                    h('td', {}, when(e.lastSuccessAt)),
                    h('td', {}, e.paused || status.paused ? 'paused' : when(e.nextRunAt)),
                    h('td', { class: 'num' }, count(e.consecutiveFailures)),
                    h(
                      'td',
                      {},
                      // An entry paused in its own right has its own Resume, even while the organization is
                      // paused; one held only by the organization's pause is resumed with it.
                      by === 'organization'
                        ? null
                        : by === 'entry'
                        ? h('button', { type: 'button', class: 'secondary', 'data-control': `resume:entry:${e.entryId}`, 'aria-label': `Resume ${label}`, onClick: () => void act('resume', { entryId: e.entryId, label }) }, 'Resume')
                        : h('button', { type: 'button', class: 'secondary', 'data-control': `pause:entry:${e.entryId}`, 'aria-label': `Pause ${label}`, onClick: () => void act('pause', { entryId: e.entryId, label }) }, 'Pause…'),
                    ),
                  );
                }),
              ),
            ),
          ),
    ];
  };

  /** @param {string} why */
  const unavailableView = (why) => [
    h('p', { class: 'card hint' }, why, ' Health, pause and resume show here when it does; runs, deliveries, diverged items and webhooks work without it.'),
    h('h3', {}, 'Polling entries'),
    org.polling.length
      ? h('ul', {}, org.polling.map((/** @type {any} */ p) => h('li', {}, h('code', {}, p.endpoint), ` every ${p.interval} ${p.type}${p.interval > 1 ? 's' : ''}`)))
      : h('p', { class: 'empty' }, 'No polling entry.'),
  ];

  refresh.addEventListener('click', async () => {
    view.status = await loadStatus(org.id);
    if (view.status.status) view.setStatus(view.status.status);
    render();
    ctx.announce(view.status.status ? `Status refreshed. Health: ${view.status.status.health}.` : 'Status refreshed.');
  });
  render();
}

/**
 * One number, linked to the section that lists what it counts (when there is one).
 * @param {string} label
 * @param {string} value
 * @param {string | null} href
 * @param {string} what
 * @param {boolean} [alert]  drawn to the eye: something waits for the owner
 */
function countBox(label, value, href, what, alert = false) {
  return h('div', { class: alert ? 'count alert' : 'count' }, h('dt', {}, label), h('dd', {}, href ? h('a', { href, 'aria-label': `${value} ${label.toLowerCase()}: see ${what}` }, value) : value));
}

/**
 * Why an entry is paused: on its own (`entry`), only with the organization, or not at all. A status
 * without `pausedBy` (an older server) counts every entry of a paused organization as paused with it.
 * @param {import('./org-status.js').EntryStatus} e
 * @param {import('./org-status.js').SyncStatus} status
 * @returns {'entry' | 'organization' | null}
 */
function pausedBy(e, status) {
  if (e.pausedBy !== undefined) return e.pausedBy;
  return status.paused ? 'organization' : e.paused ? 'entry' : null;
}

/** @param {string} text */
function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** @param {Record<string, number>} c */
function runCounts(c) {
  if (!c) return null;
  return h('span', { class: 'hint block' }, `${c['created'] ?? 0} created, ${c['updated'] ?? 0} updated, ${c['deleted'] ?? 0} deleted, ${c['invalid'] ?? 0} refused`);
}
