// Small building blocks shared by the screens: badges, tiles, form fields with inline errors, dialogs.

import { h, uid, icon, replace } from './dom.js';

export function badge(text, kind = 'neutral', iconName) {
  return h('span', { class: `badge badge-${kind}` }, iconName ? icon(iconName) : null, text);
}

export function tile({ label, value, sub, kind, test }) {
  return h('div', { class: 'tile' + (kind ? ` tile-${kind}` : ''), 'data-test': test || false },
    h('div', { class: 'tile-value' }, value),
    h('div', { class: 'tile-label' }, label),
    sub ? h('div', { class: 'tile-sub' }, sub) : null);
}

export function panel(title, attrs, ...children) {
  const headingId = uid('panel');
  return h('section', { class: 'panel', 'aria-labelledby': headingId, ...(attrs || {}) },
    h('h2', { class: 'panel-title', id: headingId }, title), ...children);
}

export function spinner(label = 'Loading') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label + '…');
}

export function emptyState(text) {
  return h('p', { class: 'empty' }, text);
}

/**
 * The page for an address that names nothing (an unknown customer or order id): says so in people's
 * words and offers the way back, instead of a generic error.
 */
export function missingPage(title, text, back) {
  return h('section', { class: 'page narrow', 'data-test': 'not-found' },
    h('h1', { class: 'page-title' }, title),
    h('p', {}, text),
    h('a', { href: back.href, class: 'btn btn-primary', 'data-link': true, 'data-test': 'not-found-back' }, back.label));
}

/** A customer address that names nobody (a mistyped link, an erased or never-created profile). */
export function missingCustomer() {
  return missingPage('No customer with this id',
    'Nobody on file has this id: the link may be mistyped or out of date. Look the customer up by name, phone or ID instead.',
    { href: '/app/lookup', label: 'Back to lookup' });
}

export function alertBox(kind, ...children) {
  return h('div', { class: `alert alert-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/**
 * A labelled input with a place for its error. `name` is the API's field path (`id_document.number`,
 * `addresses[0].city`), so errors from the API land next to the right input.
 */
export function field({ label, name, type = 'text', value = '', required = false, hint, autocomplete, options, attrs = {}, wide = false }) {
  const id = uid('in');
  const errorId = id + '-err';
  const hintId = hint ? id + '-hint' : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  let input;
  if (options) {
    input = h('select', { id, name, 'aria-describedby': describedBy, ...attrs },
      options.map(([v, text]) => h('option', { value: v, selected: String(value ?? '') === v }, text)));
  } else if (type === 'textarea') {
    input = h('textarea', { id, name, 'aria-describedby': describedBy, required, ...attrs });
    input.value = value ?? '';
  } else {
    input = h('input', { id, name, type, value: value ?? '', required, autocomplete: autocomplete || false, 'aria-describedby': describedBy, ...attrs });
  }
  return h('div', { class: 'field' + (wide ? ' field-wide' : ''), dataset: { field: name } },
    h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input,
    hint ? h('div', { class: 'hint', id: hintId }, hint) : null,
    h('div', { class: 'field-error', id: errorId }));
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const summary = form.querySelector('.form-error');
  if (summary) replace(summary);
}

/**
 * Shows an API error next to its field (focusing it), or in the form's summary when no field matches.
 * When the API listed several fields at fault (`errors`), every one is marked at once and the first is
 * focused. Returns true when at least one error found its field.
 */
export function showError(form, err) {
  clearErrors(form);
  const listed = err && err.detail && Array.isArray(err.detail.errors) && err.detail.errors.length ? err.detail.errors : [err];
  const unplaced = [];
  let first = null;
  for (const one of listed) {
    const name = one && one.field;
    const wrapper = name ? form.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
    if (!wrapper) { unplaced.push(one); continue; }
    const input = wrapper.querySelector('input, select, textarea');
    const slot = wrapper.querySelector('.field-error');
    slot.textContent = slot.textContent ? `${slot.textContent} ${humanise(one)}` : humanise(one);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (!first) first = input;
    }
  }
  const summary = form.querySelector('.form-error');
  if (summary && (unplaced.length || listed.length > 1)) {
    const lines = unplaced.length ? unplaced : [];
    const count = listed.length - unplaced.length;
    replace(summary, alertBox('error',
      count > 1 ? h('strong', { 'data-test': 'error-count' }, `${count} fields need attention. `) : null,
      lines.map((e) => h('span', {}, humanise(e), ' '))));
    if (!first) summary.scrollIntoView({ block: 'nearest' });
  }
  if (first) first.focus();
  return Boolean(first);
}

/** The API's message with its snake_case field names turned into words. */
export function humanise(err) {
  const msg = (err && err.message) || 'Something went wrong';
  const text = msg.replace(/\b([a-z]+(?:_[a-z]+)+)\b/g, (m) => m.replace(/_/g, ' '));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * A modal dialog (native <dialog>, so focus is trapped and Escape closes it). `build(close)` returns the
 * body; resolves when closed with the value passed to close().
 */
export function dialog(title, build) {
  return new Promise((resolve) => {
    const headingId = uid('dlg');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': headingId });
    let result;
    const close = (value) => { result = value; dlg.close(); };
    dlg.append(h('h2', { id: headingId, class: 'dialog-title' }, title), build(close));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('[data-autofocus], input, textarea, select, button');
    if (first) first.focus();
  });
}

/** Form values as a plain object; empty strings are left out. */
export function formValues(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    if (typeof v === 'string' && v.trim() === '') continue;
    out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}
