// Lookup: one search box with results as you type, keyboard-only; the ID scan field and photo upload;
// and, beside them, who is checked in right now.

import { h, replace, icon, toast, announce } from '../dom.js';
import { get, post, qs, ApiError } from '../api.js';
import { badge, panel, alertBox, humanise } from '../components.js';
import { session, can } from '../session.js';
import { handoff } from '../handoff.js';
import { attachScanField, looksLikeAamva } from '../scan.js';
import * as fmt from '../format.js';
import { queueList } from './queue.js';

const DEBOUNCE_MS = 150;

export async function view(ctx) {
  const listId = 'lookup-results';
  const input = h('input', {
    id: 'lookup-search', type: 'search', class: 'search-input',
    placeholder: 'Name, phone, email or ID number',
    autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none',
    role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
    'data-autofocus': true,
    value: ctx.query.get('q') || '',
  });
  const results = h('ul', { id: listId, class: 'results', role: 'listbox', 'aria-label': 'Matching customers' });
  const status = h('div', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  let items = [];
  let active = -1;
  let timer = null;
  let inflight = null;
  let lastQuery = null;

  const setActive = (i) => {
    active = i;
    const options = results.querySelectorAll('[role=option]');
    options.forEach((el, j) => el.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    if (i >= 0 && options[i]) {
      input.setAttribute('aria-activedescendant', options[i].id);
      options[i].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };

  const open = (customer) => ctx.navigate(`/app/customers/${encodeURIComponent(customer.id)}`);

  const PAGE = 12;
  let shown = PAGE;
  let hasMore = false;
  let total = null;
  const more = h('button', { type: 'button', class: 'btn btn-sm', 'data-test': 'more-results', hidden: true,
    onclick: () => { shown += PAGE; const q = lastQuery; lastQuery = null; search(q, { keepPage: true }); } }, 'Show more');
  const renderResults = (q) => {
    const rows = items.map((c, i) => resultRow(c, i, () => open(c)));
    replace(results, rows);
    more.hidden = !hasMore;
    input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
    emptyHelp.hidden = Boolean(q);
    active = -1;
    if (items.length) setActive(0);
    if (!q) {
      status.textContent = '';
    } else if (!items.length) {
      replace(status, h('span', {}, `No customer matches “${q}”. `),
        can('customers:write') ? h('a', { href: '/app/customers/new' + prefillQuery(q), 'data-link': true }, 'Add a new customer') : null);
    } else {
      const n = total ?? items.length;
      status.textContent = total !== null
        ? `${n} ${n === 1 ? 'match' : 'matches'}${items.length < n ? `, showing ${items.length}` : ''}`
        : `${hasMore ? 'More than ' : ''}${items.length} ${items.length === 1 && !hasMore ? 'match' : 'matches'}${hasMore ? `: showing the best ${items.length}` : ''}`;
    }
  };

  const search = async (q, { keepPage = false } = {}) => {
    if (q === lastQuery) return;
    if (!keepPage) shown = PAGE;
    lastQuery = q;
    history.replaceState({}, '', '/app/lookup' + qs({ q }));
    if (inflight) inflight.abort();
    if (!q) {
      items = [];
      hasMore = false;
      total = null;
      renderResults('');
      return;
    }
    const controller = new AbortController();
    inflight = controller;
    try {
      // One more than shown tells whether there are more, on servers that do not count matches.
      const body = await get('/customers' + qs({ q, limit: Math.min(200, shown + 1) }), { signal: controller.signal });
      if (controller.signal.aborted || !ctx.isCurrent()) return;
      const all = body.items || [];
      total = typeof body.total === 'number' ? body.total : null;
      hasMore = typeof body.has_more === 'boolean' ? body.has_more || all.length > shown : all.length > shown;
      items = all.slice(0, shown);
      renderResults(q);
    } catch (e) {
      if (e.name === 'AbortError') return;
      items = [];
      replace(results);
      replace(status, h('span', { class: 'text-error' }, humanise(e)));
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.startsWith('@')) return; // an ID scan is arriving; see the Enter handling below
    timer = setTimeout(() => search(q), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (items.length) setActive(Math.min(items.length - 1, active + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (items.length) setActive(Math.max(0, active - 1));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (input.value.trim().startsWith('@')) {
        // A scanner typed into the search box: carry on in the scan field, which keeps line breaks.
        scanField.value = input.value + '\n';
        input.value = '';
        scanField.focus();
        return;
      }
      clearTimeout(timer);
      const q = input.value.trim();
      if (q !== lastQuery) {
        search(q).then(() => { if (items.length === 1) open(items[0]); });
      } else if (active >= 0 && items[active]) {
        open(items[active]);
      }
    } else if (e.key === 'Escape') {
      input.value = '';
      search('');
    }
  });

  // The scan field: a textarea, because the payload has line breaks.
  const scanStatus = h('div', { class: 'scan-status', role: 'status', 'aria-live': 'polite' });
  const scanField = h('textarea', {
    id: 'scan-field', class: 'scan-field', rows: '2', spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': 'scan-hint', placeholder: 'Click here, then scan the barcode on the back of the ID',
  });
  const runScan = async (payload) => {
    replace(scanStatus, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Reading ID…');
    const outcome = await openScan(payload, ctx.navigate, { quiet: true });
    if (!ctx.isCurrent()) return;
    scanField.value = '';
    if (outcome && outcome.error) {
      replace(scanStatus, h('span', { class: 'text-error' }, outcome.error));
      scanField.focus();
    } else {
      replace(scanStatus);
    }
  };
  attachScanField(scanField, runScan);
  const photo = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', capture: 'environment', class: 'visually-hidden', id: 'scan-photo' });
  photo.addEventListener('change', async () => {
    const file = photo.files && photo.files[0];
    if (!file) return;
    replace(scanStatus, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Reading the photo…');
    const outcome = await openScan(file, ctx.navigate, { quiet: true });
    photo.value = '';
    if (!ctx.isCurrent()) return;
    if (outcome && outcome.error) replace(scanStatus, h('span', { class: 'text-error' }, outcome.error));
    else replace(scanStatus);
  });

  const scanActions = h('div', { class: 'scan-actions' },
    h('button', {
      type: 'button', class: 'btn btn-sm',
      onclick: () => {
        const text = scanField.value;
        if (looksLikeAamva(text)) runScan(text);
        else replace(scanStatus, h('span', { class: 'text-error' }, 'That is not an ID barcode. Scan the PDF417 barcode on the back.'));
      },
    }, 'Read scan'),
    h('label', {
      for: 'scan-photo', class: 'btn btn-sm', tabindex: '0', role: 'button',
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); photo.click(); } },
    }, icon('camera'), 'Upload ID photo'),
    photo);
  const scanPanel = h('section', { class: 'scan-panel', 'aria-labelledby': 'scan-title' },
    h('div', { class: 'scan-head' },
      h('h2', { id: 'scan-title', class: 'scan-title' }, icon('scan'), h('label', { for: 'scan-field' }, 'Scan ID'))),
    scanField,
    scanActions,
    h('div', { id: 'scan-hint', class: 'hint' }, 'Works with keyboard-wedge scanners. A scan anywhere on a page without a text box also lands here.'),
    scanStatus);

  const emptyHelp = h('div', { class: 'lookup-help' },
    h('h2', {}, 'Serving the line faster'),
    h('ul', {},
      h('li', {}, h('kbd', {}, '/'), ' or ', h('kbd', {}, 'F2'), ' jumps to search from any screen.'),
      h('li', {}, 'Phone numbers work in any format: 303.555.0142, (303) 555-0142, 3035550142.'),
      h('li', {}, 'Scan the barcode on the back of an ID to open the customer, or start a new profile from it.')));
  const side = h('aside', { class: 'lookup-side', 'aria-label': 'Scan and queue' }, scanPanel);
  if (session.storeId) {
    const list = queueList(session.storeId, ctx, { compact: true });
    side.append(panel('Checked in now', { class: 'panel queue-mini' }, list,
      h('a', { href: '/app/queue', 'data-link': true, class: 'link-more' }, 'Open the queue →')));
  }

  const page = h('section', { class: 'page lookup' },
    h('div', { class: 'lookup-main' },
      h('h1', { class: 'page-title' }, 'Find a customer'),
      h('div', { class: 'search-row' },
        h('div', { class: 'searchbox' },
          h('label', { for: 'lookup-search', class: 'visually-hidden' }, 'Search customers'),
          icon('search'), input),
        can('customers:write')
          ? h('a', { href: '/app/customers/new', 'data-link': true, class: 'btn btn-primary btn-lg' }, icon('plus'), 'New customer')
          : null),
      h('div', { class: 'hint search-hint' }, 'Type a name, any phone format, email or ID number. ↑ ↓ to move, Enter to open.'),
      status,
      results,
      h('div', { class: 'row-start' }, more),
      emptyHelp),
    side);

  if (input.value) queueMicrotask(() => search(input.value.trim()));
  return page;
}

function prefillQuery(q) {
  const digits = q.replace(/\D/g, '');
  if (digits.length >= 7 && digits.length === q.replace(/[\s()+.-]/g, '').length) return qs({ phone: q });
  if (q.includes('@')) return qs({ email: q });
  const words = q.split(/\s+/);
  return qs({ first_name: words[0], last_name: words.slice(1).join(' ') });
}

/** The server's verification state in staff words (never judged here). */
export function verificationBadge(c) {
  const status = c.verification ? c.verification.status : null;
  if (status === 'verified') return badge('ID verified', 'ok', 'check');
  if (status === 'expired') return badge('ID expired', 'danger', 'warn');
  return badge('ID not verified', 'warn', 'warn');
}

function resultRow(c, index, open) {
  const flags = [];
  if (c.banned) flags.push(badge('Banned', 'danger', 'ban'));
  flags.push(verificationBadge(c));
  if (c.customer_type && c.customer_type !== 'adult_use') flags.push(badge(fmt.customerType(c.customer_type), 'info'));
  // The search answer carries each row's points: no request per row.
  const points = typeof c.loyalty_points === 'number'
    ? h('span', { class: 'result-points', 'data-test': 'result-points' }, `${fmt.count(c.loyalty_points)} pts`)
    : null;
  const preferred = c.preferred_name && c.preferred_name !== c.first_name ? ` “${c.preferred_name}”` : '';
  const row = h('li', {
    id: `result-${index}`, role: 'option', class: 'result' + (c.banned ? ' result-banned' : ''),
    'aria-selected': 'false', dataset: { customerId: c.id },
    onclick: open,
  },
  h('div', { class: 'avatar', 'aria-hidden': 'true' }, fmt.initials(c)),
  h('div', { class: 'result-main' },
    h('div', { class: 'result-name' }, fmt.fullName(c), preferred),
    h('div', { class: 'result-meta' },
      c.phone ? h('span', {}, fmt.phone(c.phone)) : null,
      c.email ? h('span', {}, c.email) : null,
      c.date_of_birth ? h('span', {}, `${fmt.date(c.date_of_birth)} · ${c.age} yrs`) : null,
      points),
    c.banned && c.ban ? h('div', { class: 'result-ban', 'data-test': 'result-ban' }, `Banned: ${c.ban.reason}`) : null),
  h('div', { class: 'result-flags' }, flags));
  return row;
}

/**
 * Sends a scanned payload (text) or ID photo (File) to the server and opens what it found: the matching
 * profile, or a new-customer form filled from the ID. Returns `{error}` instead of throwing.
 */
export async function openScan(payload, navigate, { quiet = false } = {}) {
  let result;
  try {
    if (payload instanceof Blob) {
      const form = new FormData();
      form.append('image', payload, payload.name || 'id.jpg');
      result = await post('/id-scans' + qs({ store_id: session.storeId }), form);
    } else {
      result = await post('/id-scans' + qs({ store_id: session.storeId }), { payload });
    }
  } catch (e) {
    let message;
    if (e instanceof ApiError && e.missingRoute) message = 'ID scanning is not available on this server yet. Search by name or ID number instead.';
    else message = humanise(e);
    if (!quiet) toast(message, 'error');
    announce(message);
    return { error: message };
  }
  const customer = result.customer || (result.match && result.match.customer) || null;
  const matches = result.matches || result.candidates || [];
  const id = (customer && customer.id) || result.customer_id || (matches.length === 1 && (matches[0].id || matches[0].customer_id));
  handoff.scanNotice = { result, payload: payload instanceof Blob ? null : payload, image: payload instanceof Blob ? payload : null };
  if (id) {
    navigate(`/app/customers/${encodeURIComponent(id)}`);
    return { ok: true };
  }
  handoff.prefill = result.new_profile || result.prefill || result.draft || result.customer_draft || cardToPrefill(result.card || result.id_card || result);
  navigate('/app/customers/new?from=scan');
  return { ok: true };
}

/** A parsed card (as the server returns it) to the new-customer form's fields. */
function cardToPrefill(card) {
  if (!card) return null;
  const out = {
    first_name: card.first_name || card.given_name || card.first,
    middle_name: card.middle_name || card.middle,
    last_name: card.last_name || card.family_name || card.last,
    date_of_birth: card.date_of_birth || card.dob || card.birth_date,
    id_document: {
      kind: card.kind || card.document_kind || 'drivers_license',
      number: card.id_number || card.number || card.document_number,
      jurisdiction: card.jurisdiction || card.issuer || card.state,
      expiry: card.expiry || card.expiry_date || card.expires,
    },
  };
  const a = card.address;
  if (a && (a.line1 || a.street)) {
    out.addresses = [{ line1: a.line1 || a.street, line2: a.line2, city: a.city, region: a.region || a.state || a.jurisdiction, postal_code: a.postal_code || a.zip, country: a.country || 'US' }];
  }
  return out;
}
