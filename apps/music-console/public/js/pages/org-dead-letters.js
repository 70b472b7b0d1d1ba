// @ts-check
// Dead letters: deliveries that gave up (status `failed`), by webhook, record and time, each with
// a Replay button, and one button that replays every one the filters match once the cause is fixed.
import { ApiError, history } from '../api.js';
import { ask } from '../dialog.js';
import { field, h } from '../dom.js';
import { count } from '../format.js';
import { deliveriesTable } from './deliveries-table.js';

/** The most one bulk replay takes (oldest first). */
const BULK_LIMIT = 500;

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {import('./organization.js').OrgView} view
 * @param {HTMLElement} body
 */
export async function deadLettersSection(ctx, view, body) {
  const { org } = view;
  const outputs = org.webhooks.filter((/** @type {any} */ w) => w.type === 'output');
  const webhook = h('select', { name: 'webhookId' }, h('option', { value: '' }, 'Any webhook'), outputs.map((/** @type {any} */ w) => h('option', { value: w.id }, `${w.method} ${w.url}`)));
  const externalId = h('input', { type: 'search', name: 'externalId', maxlength: 256 });
  const since = h('input', { type: 'datetime-local', name: 'since', step: 1 });
  const until = h('input', { type: 'datetime-local', name: 'until', step: 1 });
  const list = h('div', { class: 'table-wrap' });
  const more = h('div', { class: 'actions' });
  const outcome = h('p', { class: 'outcome', role: 'status' });
  const bulk = h('button', { type: 'button' }, 'Replay all that match…');

  /** The filters as the API takes them (times in UTC). */
  const filter = () => {
    const value = (/** @type {HTMLElement} */ el) => /** @type {HTMLInputElement} */ (el).value.trim();
    const iso = (/** @type {string} */ local) => (local ? new Date(local).toISOString() : undefined);
    return {
      status: 'failed',
      webhookId: value(webhook) || undefined,
      externalId: value(externalId) || undefined,
      since: iso(value(since)),
      until: iso(value(until)),
    };
  };

  /** @type {any[]} */
  let items = [];
  /** @param {string | null} [cursor] */
  const load = async (cursor = null) => {
    // The header's health follows what is listed here (a replay can end a failing state).
    if (!cursor) void view.refreshStatus();
    const { webhookId, ...query } = filter();
    const page = await history.deliveries(org.id, { ...query, limit: 50, cursor: cursor ?? undefined });
    // The list API filters by status, record and time; the webhook is filtered here.
    const matching = webhookId ? page.items.filter((/** @type {any} */ d) => d.webhookId === webhookId) : page.items;
    items = cursor ? [...items, ...matching] : matching;
    list.replaceChildren(items.length ? deliveriesTable(ctx, org, items, () => load()) : h('p', { class: 'empty' }, 'No dead letter matches: every change these filters cover was delivered.'));
    bulk.toggleAttribute('disabled', items.length === 0);
    more.replaceChildren(...(page.nextCursor ? [h('button', { type: 'button', class: 'secondary', onClick: () => void load(page.nextCursor) }, 'Load more')] : []));
  };

  bulk.addEventListener('click', async () => {
    const confirmed = await ask({
      title: 'Replay every dead letter that matches?',
      text: 'Each is sent again to its webhook’s current URL, with the same webhook-id (a receiver that already has it can drop it). One whose webhook was removed since is skipped (a record changed since is no dead letter any more: the newer change is what counts). Fix the cause first.',
      confirm: 'Replay them',
    });
    if (confirmed === null) return;
    bulk.toggleAttribute('disabled', true);
    try {
      const { replayed, skipped } = await history.replayMatching(org.id, { ...filter(), limit: BULK_LIMIT });
      const text =
        `${count(replayed)} dead letter${replayed === 1 ? '' : 's'} replayed` +
        (skipped ? `, ${count(skipped)} skipped (their webhook no longer takes them, or their item changed meanwhile)` : '') +
        (replayed + skipped >= BULK_LIMIT ? `. The first ${BULK_LIMIT} were taken, oldest first: narrow the filters for the rest.` : '.');
      outcome.textContent = text;
      ctx.announce(text);
      window.setTimeout(() => void load(), 1000);
    } catch (error) {
      const e = /** @type {ApiError} */ (error);
      const text = e.status === 404 ? 'This server cannot replay in bulk: replay each one with its button.' : `Replay refused: ${e.message}`;
      outcome.textContent = text;
      ctx.announce(text);
    } finally {
      bulk.removeAttribute('disabled');
    }
  });

  body.replaceChildren(
    h('h2', {}, 'Dead letters'),
    h('p', { class: 'hint' }, 'Changes an output webhook never took: refused for good (a 4xx), or every retry failed. Their items stay as they are on our side (diverged) until you replay or accept the third party’s version.'),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter dead letters', onSubmit: (event) => { event.preventDefault(); void load(); } },
      field('Webhook', webhook),
      field('Record (externalId)', externalId),
      field('Changed since', since),
      field('Changed until', until),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')),
    ),
    h('div', { class: 'actions' }, bulk, outcome),
    list,
    more,
  );
  await load();
}
