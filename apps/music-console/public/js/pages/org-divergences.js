// @ts-check
// Diverged items: local changes the third party never took, kept as they are (polls and webhooks
// do not overwrite them) until the owner sends ours again or takes the third party's version.
import { ApiError, history } from '../api.js';
import { ask } from '../dialog.js';
import { badge, h } from '../dom.js';
import { json, when } from '../format.js';
import { focusSectionHeading } from './deliveries-table.js';

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {import('./organization.js').OrgView} view
 * @param {HTMLElement} body
 */
export async function divergencesSection(ctx, view, body) {
  const { org } = view;
  const list = h('div', { class: 'table-wrap' });
  body.replaceChildren(
    h('h2', {}, 'Diverged items'),
    h(
      'p',
      { class: 'hint' },
      'Items whose local change an output webhook never took. Each keeps our version; what the third party sent meanwhile is held beside it. ',
      h('strong', {}, 'Replay ours'),
      ' sends our change again (fix the cause first); ',
      h('strong', {}, 'Accept theirs'),
      ' drops our change and takes the third party’s version.',
    ),
    list,
  );

  const load = async () => {
    const { items } = await history.divergences(org.id);
    list.replaceChildren(items.length ? table(items) : h('p', { class: 'empty' }, 'No diverged item: every local change reached the third party.'));
  };

  /**
   * @param {'replay' | 'accept'} action
   * @param {any} d  a divergence
   */
  const act = async (action, d) => {
    if (action === 'accept') {
      const theirs = d.held ? (d.held.op === 'delete' ? 'their delete (the item goes away here too)' : 'the version they sent') : 'their version (the item is left as the third party last had it, or goes away if they never had it)';
      const confirmed = await ask({
        title: `Accept the third party’s version of ${d.externalId}?`,
        text: `Our change (version ${d.version}) is dropped and the item takes ${theirs}. This cannot be undone.`,
        confirm: 'Accept theirs',
        danger: true,
      });
      if (confirmed === null) return;
    }
    try {
      if (action === 'replay') {
        await history.replayDivergence(org.id, d.externalId);
        ctx.announce(`Our change of ${d.externalId} is being sent again`);
      } else {
        await history.acceptRemote(org.id, d.externalId);
        ctx.announce(`${d.externalId} now has the third party’s version`);
      }
      await load();
      // The row is gone (the item is no longer diverged): start again from the section's heading.
      focusSectionHeading();
      void view.refreshStatus();
    } catch (error) {
      ctx.announce(`${action === 'replay' ? 'Replay' : 'Accept'} refused: ${/** @type {ApiError} */ (error).message}`);
    }
  };

  /** @param {any[]} items */
  const table = (items) =>
    h(
      'table',
      { class: 'divergences' },
      h('caption', { class: 'visually-hidden' }, 'Diverged items: ours beside what the third party sent meanwhile'),
      h('thead', {}, h('tr', {}, ['Record', 'State', 'Ours', 'Theirs, held meanwhile', 'Why it failed', ''].map((c) => h('th', { scope: 'col' }, c || h('span', { class: 'visually-hidden' }, 'Actions'))))),
      h(
        'tbody',
        {},
        items.map((d) =>
          h(
            'tr',
            { 'data-external-id': d.externalId },
            h('th', { scope: 'row' }, h('code', {}, d.externalId)),
            h('td', {}, badge(d.state), h('span', { class: 'hint block' }, `version ${d.version}`)),
            h('td', {}, d.state === 'delete-diverged' ? h('em', {}, 'deleted here') : h('pre', {}, json(d.data))),
            h('td', {}, d.held ? [h('span', { class: 'hint block' }, `${d.held.op} at ${when(d.held.at)}`), d.held.data ? h('pre', {}, json(d.held.data)) : h('em', {}, 'deleted there')] : h('span', { class: 'hint' }, 'nothing since')),
            h('td', { class: 'message' }, h('ul', { class: 'plain' }, d.failedDeliveries.map((/** @type {any} */ f) => h('li', {}, `${f.method} (${f.op}), ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}: ${f.lastError ?? 'no answer'}`)))),
            h(
              'td',
              {},
              h(
                'div',
                { class: 'row-actions' },
                h('button', { type: 'button', class: 'secondary', 'aria-label': `Replay ours: our change of ${d.externalId}`, onClick: () => void act('replay', d) }, 'Replay ours'),
                h('button', { type: 'button', class: 'secondary', 'aria-label': `Accept theirs: the third party’s version of ${d.externalId}`, onClick: () => void act('accept', d) }, 'Accept theirs…'),
              ),
            ),
          ),
        ),
      ),
    );

  await load();
}
