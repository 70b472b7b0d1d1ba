// @ts-check
// The organization's webhooks: where they point, their secret's visible tail, a test event for an
// output webhook, and secret rotation (the new secret is shown here once; the previous one keeps
// working for the overlap window, so the third party can switch without losing a call).
import { ApiError, controls, organizations } from '../api.js';
import { ask } from '../dialog.js';
import { badge, field, h } from '../dom.js';
import { fullTime } from '../format.js';

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {import('./organization.js').OrgView} view
 * @param {HTMLElement} body
 */
export function webhooksSection(ctx, view, body) {
  const { org } = view;
  const revealed = h('div', { class: 'revealed-slot' });

  /**
   * @param {any} w  a webhook as music-config shows it
   * @param {HTMLElement} outcome  where the test's result goes
   */
  const sendTest = async (w, outcome) => {
    outcome.replaceChildren(h('span', { class: 'loading' }, 'Sending…'));
    try {
      const r = await controls.testWebhook(org.id, w.id);
      const text = r.delivered
        ? `Test event delivered: HTTP ${r.status} in ${r.durationMs} ms.`
        : `Test event not delivered${r.status ? `: HTTP ${r.status}` : ''}${r.error ? ` (${r.error})` : ''}.`;
      outcome.replaceChildren(badge(r.delivered ? 'succeeded' : 'failed'), ' ', text);
      ctx.announce(text);
    } catch (error) {
      const e = /** @type {ApiError} */ (error);
      const text = e.status === 404 ? 'This server cannot send test events.' : `Test refused: ${e.message}`;
      outcome.replaceChildren(h('span', { class: 'error' }, text));
      ctx.announce(text);
    }
  };

  /**
   * @param {any} w
   * @param {HTMLElement} row  the webhook's card, shown again with the new secret's hint
   */
  const rotate = async (w, row) => {
    const confirmed = await ask({
      title: `Rotate the secret of ${w.url}?`,
      text:
        w.type === 'input'
          ? 'A new secret and a new call URL are made and shown once. The current ones keep working for a while, so the third party can switch to the new ones without losing a call.'
          : 'A new signing secret is made and shown once. Deliveries are signed with the new secret at once, and with the current one too for a while, so the receiver can switch without refusing a call.',
      confirm: 'Rotate the secret',
    });
    if (confirmed === null) return;
    try {
      const { webhook } = await organizations.rotateSecret(org.id, w.id);
      const index = org.webhooks.findIndex((/** @type {any} */ o) => o.id === w.id);
      const { secret, callUrlWithToken, ...kept } = webhook;
      if (index >= 0) org.webhooks[index] = kept;
      row.replaceWith(card(kept));
      revealed.replaceChildren(revealedPanel(webhook));
      /** @type {HTMLElement | null} */ (revealed.querySelector('h3'))?.focus();
      ctx.announce(`New secret for ${w.url}: shown once, copy it now`);
    } catch (error) {
      ctx.announce(`Rotation refused: ${/** @type {ApiError} */ (error).message}`);
    }
  };

  /** @param {any} w */
  const card = (w) => {
    const outcome = h('p', { class: 'outcome', role: 'status' });
    const el = h(
      'li',
      { class: 'card webhook', 'data-webhook-id': w.id },
      h('h3', {}, `${w.type === 'input' ? 'Input' : 'Output'}: `, h('span', { class: 'url' }, `${w.method} ${w.url}`)),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Secret'),
        h('dd', {}, w.hasSecret ? h('code', {}, w.secretHint ?? 'set') : 'none'),
        w.rotation ? [h('dt', {}, 'Previous secret'), h('dd', {}, `still accepted until ${fullTime(w.rotation.previousSecretExpiresAt)}`)] : null,
        w.callUrl ? [h('dt', {}, 'Call URL'), h('dd', { class: 'url' }, h('code', {}, w.callUrl))] : null,
        w.verification ? [h('dt', {}, 'Calls accepted'), h('dd', {}, w.verification === 'none' ? 'signed, with the token, or neither (development)' : 'signed with the secret, or with the token in the call URL')] : null,
      ),
      h(
        'div',
        { class: 'actions' },
        w.type === 'output' ? h('button', { type: 'button', 'aria-label': `Send a test event to ${w.url}`, onClick: () => void sendTest(w, outcome) }, 'Send a test event') : null,
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Rotate the secret of ${w.url}`, onClick: () => void rotate(w, el) }, 'Rotate the secret…'),
      ),
      outcome,
    );
    return el;
  };

  body.replaceChildren(
    h('h2', {}, 'Webhooks'),
    h('p', { class: 'hint' }, 'Output webhooks receive each local change, signed with their secret (Standard Webhooks headers). Input webhooks are where the third party tells us of its changes.'),
    revealed,
    org.webhooks.length ? h('ul', { class: 'webhooks' }, org.webhooks.map(card)) : h('p', { class: 'empty' }, 'No webhook.'),
    ...notificationsList(org.notifications ?? []),
  );
}

/**
 * Where the organization is told of trouble (`sync.failed`, `sync.paused`, ...), signed with its
 * own secret: set in the organization's settings (`notifications`), shown here.
 * @param {any[]} targets
 */
function notificationsList(targets) {
  if (targets.length === 0) return [];
  const item = (/** @type {any} */ n) =>
    h(
      'li',
      { class: 'card webhook' },
      h('h4', {}, h('span', { class: 'url' }, n.url)),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Events'),
        h('dd', {}, n.events.map((/** @type {string} */ e) => h('code', { class: 'event' }, e))),
        h('dt', {}, 'Secret'),
        h('dd', {}, n.hasSecret ? h('code', {}, n.secretHint ?? 'set') : 'none'),
      ),
    );
  return [
    h(
      'section',
      { 'aria-labelledby': 'notifications-heading' },
      h('h3', { id: 'notifications-heading' }, 'Notification webhooks'),
      h('p', { class: 'hint' }, 'Told of failed runs, pauses, dead letters and diverged items. They are part of the organization’s settings.'),
      h('ul', { class: 'webhooks' }, targets.map(item)),
    ),
  ];
}

/**
 * The new credentials, once: a read-only field each (select and copy), and a button that copies.
 * @param {any} webhook  the rotation's answer
 */
function revealedPanel(webhook) {
  const secret = h('input', { type: 'text', readonly: true, value: webhook.secret ?? '', class: 'code secret', spellcheck: 'false', autocomplete: 'off' });
  const callUrl = webhook.callUrlWithToken ? h('input', { type: 'text', readonly: true, value: webhook.callUrlWithToken, class: 'code secret', spellcheck: 'false', autocomplete: 'off' }) : null;
  /**
   * @param {HTMLElement} input
   * @param {string} what
   */
  const copy = (input, what) =>
    h('button', {
      type: 'button',
      class: 'secondary',
      'aria-label': `Copy the ${what}`,
      onClick: async (event) => {
        const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
        const value = /** @type {HTMLInputElement} */ (input).value;
        try {
          await navigator.clipboard.writeText(value);
          button.textContent = 'Copied';
          button.setAttribute('aria-label', `Copied the ${what}`);
        } catch {
          // No clipboard access (a plain-http origin other than localhost): select it for Ctrl-C.
          /** @type {HTMLInputElement} */ (input).select();
          button.textContent = 'Selected: press Ctrl-C';
          button.setAttribute('aria-label', `The ${what} is selected: press Ctrl-C`);
        }
      },
    }, 'Copy');
  return h(
    'section',
    { class: 'card revealed', 'aria-labelledby': 'revealed-heading' },
    h('h3', { id: 'revealed-heading', tabindex: -1 }, `New secret for ${webhook.url}`),
    h('p', {}, h('strong', {}, 'Shown this once: '), 'copy it now and give it to the other side. The console cannot show it again (only its last characters).'),
    h('div', { class: 'copy-row' }, field('New secret', secret), copy(secret, 'new secret')),
    callUrl ? h('div', { class: 'copy-row' }, field('New call URL (with its token)', callUrl), copy(callUrl, 'new call URL')) : null,
  );
}
