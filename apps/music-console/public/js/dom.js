// @ts-check
// Builds DOM nodes from data. Text always goes in as text (never as HTML), so nothing a third party
// or a user typed can become markup or script.

/** @typedef {string | number | Node | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attributes */

/**
 * @param {Element} el
 * @param {Attributes} attrs
 */
function setAttributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, '').toLowerCase(), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/**
 * @param {Element} el
 * @param {Array<Child | Child[]>} children
 */
function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/**
 * An HTML element: `h('button', { type: 'button', onClick: fn }, 'Save')`.
 * @param {string} tag
 * @param {Attributes} [attrs]
 * @param {Array<Child | Child[]>} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG element.
 * @param {string} tag
 * @param {Attributes} [attrs]
 * @param {Array<Child | Child[]>} children
 * @returns {SVGElement}
 */
export function s(tag, attrs = {}, ...children) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

let ids = 0;
/**
 * A document-unique id (labels, descriptions).
 * @param {string} prefix
 */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * A labelled form field: the label is tied to the control, and a hint (if any) describes it.
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const id = control.id || uid('field');
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/**
 * A status shown as a word and a colour (never colour alone).
 * @param {string} status
 */
export function badge(status) {
  return h('span', { class: `badge badge-${status}` }, status.replace(/_/g, ' '));
}
