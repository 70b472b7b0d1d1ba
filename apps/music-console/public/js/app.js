// @ts-check
// The console's shell: a hash router (#/, #/organizations/<id>/<section>, #/sign-in), the header,
// and one polite live region that announces what happened to screen-reader users.
import { currentSession, signOut, whenUnauthorized } from './api.js';
import { h } from './dom.js';
import { organizationPage } from './pages/organization.js';
import { organizationsPage } from './pages/organizations.js';
import { signInPage } from './pages/sign-in.js';

/**
 * What every page gets.
 * @typedef {{ main: HTMLElement, announce: (message: string) => void, navigate: (hash: string) => void, isCurrent: () => boolean }} PageContext
 * @typedef {(ctx: PageContext, params: string[]) => Promise<string>} Page  resolves with the page title
 */

/** @type {Array<{ pattern: RegExp, page: Page, signedIn: boolean }>} */
const ROUTES = [
  { pattern: /^#\/sign-in$/, page: signInPage, signedIn: false },
  { pattern: /^#\/organizations\/([^/]+)(?:\/(overview|runs|deliveries|dead-letters|diverged|webhooks|preview))?$/, page: organizationPage, signedIn: true },
  { pattern: /^(#\/?)?$/, page: organizationsPage, signedIn: true },
];

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
let renders = 0;

/** @param {string} message */
function announce(message) {
  // Cleared first so the same message twice is announced twice.
  status.textContent = '';
  window.setTimeout(() => (status.textContent = message), 50);
}

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

function renderHeader() {
  const session = currentSession();
  const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
  const box = /** @type {HTMLElement} */ (document.getElementById('session'));
  nav.replaceChildren(...(session ? [h('a', { href: '#/', 'aria-current': location.hash.startsWith('#/organizations') ? null : 'page' }, 'Organizations')] : []));
  box.replaceChildren(
    ...(session
      ? [
          h('span', { class: 'who' }, session.email),
          h('button', { type: 'button', class: 'secondary', onClick: () => { signOut(); announce('Signed out'); navigate('#/sign-in'); } }, 'Sign out'),
        ]
      : []),
  );
}

async function render() {
  const hash = location.hash;
  const route = ROUTES.find((r) => r.pattern.test(hash)) ?? ROUTES[ROUTES.length - 1];
  if (!route) return;
  if (route.signedIn && !currentSession()) return navigate('#/sign-in');
  if (!route.signedIn && currentSession()) return navigate('#/');
  renderHeader();
  const token = ++renders;
  const params = (route.pattern.exec(hash) ?? []).slice(1).map((p) => (p === undefined ? '' : decodeURIComponent(p)));
  main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  /** @type {PageContext} */
  const ctx = { main, announce, navigate, isCurrent: () => token === renders };
  try {
    const title = await route.page(ctx, params);
    if (!ctx.isCurrent()) return;
    document.title = `${title} · music-sync console`;
    // Keyboard and screen-reader users start at the page's heading.
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  } catch (error) {
    if (!ctx.isCurrent()) return;
    main.replaceChildren(h('h1', {}, 'Something went wrong'), h('p', { role: 'alert', class: 'error' }, /** @type {Error} */ (error).message));
  }
}

whenUnauthorized(() => {
  announce('Your session ended: sign in again.');
  navigate('#/sign-in');
});
document.getElementById('skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => void render());
void render();
