// @ts-check
// Deliveries as a table (the Deliveries and Dead letters sections): each change sent to an output
// webhook, with a Replay button on a failed (dead-lettered) one.
import { history } from '../api.js';
import { badge, h } from '../dom.js';
import { when } from '../format.js';

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {any} org
 * @param {any[]} items
 * @param {() => Promise<void>} reload  lists them again
 */
export function deliveriesTable(ctx, org, items, reload) {
  if (items.length === 0) return h('p', { class: 'empty' }, 'No delivery matches.');
  const cols = ['Created', 'Record', 'Sent', 'To', 'Status', 'Attempts', 'Last error', ''];
  return h(
    'table',
    { class: 'deliveries' },
    h('caption', { class: 'visually-hidden' }, 'Deliveries, newest first'),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c || h('span', { class: 'visually-hidden' }, 'Action'))))),
    h(
      'tbody',
      {},
      items.map((d) => {
        const replay =
          d.status === 'failed'
            ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Replay the delivery of ${d.externalId}` }, 'Replay')
            : null;
        replay?.addEventListener('click', async () => {
          replay.toggleAttribute('disabled', true);
          try {
            await history.replay(org.id, d.id);
            ctx.announce(`Replay of ${d.externalId} queued`);
            // The row changes (or leaves a filtered list): the focus goes to the section's heading.
            window.setTimeout(() => void reload().then(() => focusLost() && focusSectionHeading()), 1000);
          } catch (error) {
            ctx.announce(`Replay refused: ${/** @type {Error} */ (error).message}`);
            replay.removeAttribute('disabled');
          }
        });
        return h(
          'tr',
          { 'data-delivery-id': d.id },
          h('td', {}, when(d.createdAt)),
          h('th', { scope: 'row' }, h('code', {}, d.externalId)),
          h('td', {}, `${d.method} (${d.op})`),
          h('td', { class: 'url' }, d.url),
          h('td', {}, badge(d.status)),
          h('td', { class: 'num' }, d.attempts),
          h('td', { class: 'message' }, d.lastError ?? '', d.status === 'resolved' && d.resolution ? h('span', { class: 'hint block' }, `Resolved: ${d.resolution}`) : null),
          h('td', {}, replay),
        );
      }),
    ),
  );
}

/** True when the focused element was removed from the page (the focus fell back to the body). */
export function focusLost() {
  return !document.activeElement || document.activeElement === document.body;
}

/** Moves the focus to the current section's heading (after what had it went away). */
export function focusSectionHeading() {
  const heading = /** @type {HTMLElement | null} */ (document.querySelector('.section-body h2'));
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus();
}
