// @ts-check
// Asking before an action that changes things: a native modal <dialog> (the browser keeps the focus
// inside it and Escape cancels it), optionally with one text field (a reason). The focus goes back
// to where it was when the dialog closes.
import { field, h, uid } from './dom.js';

/**
 * @typedef {{ label: string, hint?: string, maxlength?: number }} AskField
 * @typedef {{ title: string, text: string, confirm: string, field?: AskField, danger?: boolean }} AskOptions
 */

/**
 * Resolves with the field's value ('' when there is no field) once confirmed, or null when cancelled.
 * @param {AskOptions} options
 * @returns {Promise<string | null>}
 */
export function ask(options) {
  const before = /** @type {HTMLElement | null} */ (document.activeElement);
  const input = options.field ? h('input', { type: 'text', name: 'answer', maxlength: options.field.maxlength ?? 500, autocomplete: 'off' }) : null;
  const confirm = h('button', { type: 'submit', value: 'confirm', class: options.danger ? 'danger' : null }, options.confirm);
  const cancel = h('button', { type: 'submit', value: 'cancel', class: 'secondary', formnovalidate: true }, 'Cancel');
  const titleId = uid('dialog-title');
  const textId = uid('dialog-text');
  const dialog = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      { 'aria-labelledby': titleId, 'aria-describedby': textId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, options.title),
        h('p', { id: textId }, options.text),
        input && options.field ? field(options.field.label, input, options.field.hint) : null,
        h('div', { class: 'actions' }, confirm, cancel),
      ),
    )
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const answer = dialog.returnValue === 'confirm' ? (input ? /** @type {HTMLInputElement} */ (input).value.trim() : '') : null;
      dialog.remove();
      if (before && before.isConnected) before.focus();
      resolve(answer);
    });
    dialog.showModal();
    (input ?? confirm).focus();
  });
}
