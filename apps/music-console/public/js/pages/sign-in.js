// @ts-check
import { ApiError, signIn, signUp } from '../api.js';
import { field, h } from '../dom.js';

/**
 * Sign in, or create an account and sign in (music-auth's sign-up and sign-in).
 * @param {import('../app.js').PageContext} ctx
 */
export async function signInPage(ctx) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, minlength: 8 });
  const problem = h('div', { class: 'problem', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const create = h('button', { type: 'button', class: 'secondary' }, 'Create account');

  /** @param {'in' | 'up'} mode */
  const go = async (mode) => {
    const form = /** @type {HTMLFormElement} */ (email.closest('form'));
    if (!form.reportValidity()) return;
    problem.replaceChildren();
    submit.toggleAttribute('disabled', true);
    create.toggleAttribute('disabled', true);
    const address = /** @type {HTMLInputElement} */ (email).value.trim();
    const secret = /** @type {HTMLInputElement} */ (password).value;
    try {
      if (mode === 'up') await signUp(address, secret);
      await signIn(address, secret);
      ctx.announce(mode === 'up' ? 'Account created; signed in' : 'Signed in');
      ctx.navigate('#/');
    } catch (error) {
      const e = /** @type {ApiError} */ (error);
      problem.replaceChildren(h('p', {}, e.message), ...(e.details ?? []).map((d) => h('p', {}, `${d.path}: ${d.message}`)));
    } finally {
      submit.removeAttribute('disabled');
      create.removeAttribute('disabled');
    }
  };

  const form = h(
    'form',
    { class: 'card narrow', onSubmit: (event) => { event.preventDefault(); void go('in'); } },
    field('Email', email),
    field('Password', password, 'At least 8 characters.'),
    problem,
    h('div', { class: 'actions' }, submit, create),
  );
  create.addEventListener('click', () => void go('up'));
  ctx.main.replaceChildren(
    h('h1', {}, 'Sign in'),
    h('p', { class: 'lead' }, 'The console shows your organizations’ syncs: their runs, their deliveries, and how their mapping reads the third party’s records.'),
    form,
  );
  return 'Sign in';
}
