// @ts-check
import { ApiError, exampleOrganization, organizations } from '../api.js';
import { field, h } from '../dom.js';
import { when } from '../format.js';
import { healthBadge, loadStatus } from './org-status.js';

/**
 * The caller's organizations, and a form to create one.
 * @param {import('../app.js').PageContext} ctx
 */
export async function organizationsPage(ctx) {
  const [{ organizations: list }, example] = await Promise.all([organizations.list(), exampleOrganization().catch(() => null)]);
  if (!ctx.isCurrent()) return 'Organizations';

  // Each organization's health arrives after the list (one status call each): the list shows at once.
  const healthCells = new Map();
  const rows = /** @type {any[]} */ (list).map((org) =>
    h(
      'tr',
      { 'data-organization-id': org.id },
      h('th', { scope: 'row' }, h('a', { href: `#/organizations/${encodeURIComponent(org.id)}` }, org.name)),
      (() => {
        const cell = h('td', { class: 'health-cell' }, h('span', { class: 'loading' }, '…'));
        healthCells.set(org.id, cell);
        return cell;
      })(),
      h('td', {}, org.synchronization),
      h('td', { class: 'num' }, org.polling.length),
      h('td', { class: 'num' }, org.webhooks.length),
      h('td', {}, when(org.updatedAt)),
    ),
  );
  const table = rows.length
    ? h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, 'Your organizations'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Health'), h('th', { scope: 'col' }, 'Sync'), h('th', { scope: 'col' }, 'Polling entries'), h('th', { scope: 'col' }, 'Webhooks'), h('th', { scope: 'col' }, 'Updated'))),
        h('tbody', {}, rows),
      )
    : h('p', { class: 'empty' }, 'No organization yet: create one below.');

  ctx.main.replaceChildren(h('h1', {}, 'Organizations'), table, newOrganizationForm(ctx, example));
  for (const [id, cell] of healthCells) {
    void loadStatus(id)
      .then((answer) => {
        if (!answer.status) cell.replaceChildren(h('span', { class: 'hint', title: answer.unavailable }, 'not reported'));
        else cell.replaceChildren(healthBadge(answer.status.health), ...(answer.status.paused && answer.status.pausedReason ? [h('span', { class: 'hint block' }, answer.status.pausedReason)] : []));
      })
      .catch(() => cell.replaceChildren(h('span', { class: 'hint' }, 'not reported')));
  }
  return 'Organizations';
}

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {any} example  the canonical example organization
 */
function newOrganizationForm(ctx, example) {
  const { name: exampleName, synchronization, ...settings } = example ?? { name: '', synchronization: 'two-way' };
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 200, value: exampleName ?? '' });
  const mode = h('select', { name: 'synchronization' }, h('option', { value: 'two-way' }, 'two-way: both sides change'), h('option', { value: 'one-way' }, 'one-way: the third party to us'));
  /** @type {HTMLSelectElement} */ (mode).value = synchronization ?? 'two-way';
  const body = h('textarea', { name: 'settings', rows: 18, spellcheck: 'false', class: 'code' });
  /** @type {HTMLTextAreaElement} */ (body).value = JSON.stringify(settings, null, 2);
  const problem = h('div', { class: 'problem', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Create organization');

  const create = async () => {
    problem.replaceChildren();
    /** @type {Record<string, unknown>} */
    let parsed;
    try {
      parsed = JSON.parse(/** @type {HTMLTextAreaElement} */ (body).value);
    } catch (error) {
      problem.replaceChildren(h('p', {}, `The settings are not valid JSON: ${/** @type {Error} */ (error).message}`));
      body.focus();
      return;
    }
    submit.toggleAttribute('disabled', true);
    try {
      const org = await organizations.create({ ...parsed, name: /** @type {HTMLInputElement} */ (name).value.trim(), synchronization: /** @type {HTMLSelectElement} */ (mode).value });
      ctx.announce(`Organization ${org.name} created`);
      ctx.navigate(`#/organizations/${encodeURIComponent(org.id)}/runs`);
    } catch (error) {
      const e = /** @type {ApiError} */ (error);
      const fields = e.details?.length ? [h('ul', {}, e.details.map((d) => h('li', {}, h('code', {}, d.path), `: ${d.message}`)))] : [];
      problem.replaceChildren(h('p', {}, e.message), ...fields);
    } finally {
      submit.removeAttribute('disabled');
    }
  };

  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'new-org-heading' },
    h('h2', { id: 'new-org-heading' }, 'New organization'),
    h(
      'form',
      { onSubmit: (event) => { event.preventDefault(); void create(); } },
      h('div', { class: 'row' }, field('Name', name), field('Synchronization', mode)),
      field(
        'Webhooks, polling, mappings and transforms (JSON)',
        body,
        'Starts from the example: it polls the local faker every minute and delivers your changes to it. Change the URLs to your third party’s.',
      ),
      problem,
      h('div', { class: 'actions' }, submit),
    ),
  );
}
