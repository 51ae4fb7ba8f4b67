// Manager and admin screens: groups and discounts, staff accounts, API keys, store settings, audit log.
// Each section appears only for callers with its permission, and only when the server has its API.

import { h, replace, append, toast, icon } from '../dom.js';
import { get, post, patch, put, del, optional, qs } from '../api.js';
import { emptyState, spinner, humanise, field, showError, clearErrors, dialog, formValues, badge, alertBox } from '../components.js';
import { can, session, loadStores } from '../session.js';
import * as fmt from '../format.js';

const enc = encodeURIComponent;

const SECTIONS = [
  { key: 'groups', label: 'Groups & discounts', perm: 'catalog:write', render: groups },
  { key: 'staff', label: 'Staff accounts', perm: 'staff:manage', render: staff },
  { key: 'keys', label: 'API keys', perm: 'apikeys:manage', render: apiKeys },
  { key: 'stores', label: 'Store settings', perm: 'settings:write', render: stores },
  { key: 'audit', label: 'Audit log', perm: 'audit:read', render: audit },
];

export async function view(ctx) {
  const allowed = SECTIONS.filter((s) => can(s.perm));
  if (!allowed.length) {
    return h('section', { class: 'page narrow' }, h('h1', {}, 'Admin'), emptyState('Your role has no admin screens.'));
  }
  const current = allowed.find((s) => s.key === ctx.params.section) || allowed[0];
  const body = h('div', { class: 'admin-body' }, spinner());
  const nav = h('nav', { class: 'subnav', 'aria-label': 'Admin sections' }, allowed.map((s) => h('a', {
    href: `/app/admin/${s.key}`, 'data-link': true, class: 'subnav-link' + (s === current ? ' active' : ''),
    'aria-current': s === current ? 'page' : false,
  }, s.label)));
  const draw = async () => {
    try {
      const node = await current.render(ctx, draw);
      if (ctx.isCurrent()) replace(body, node || emptyState(`${current.label}: not available on this server yet.`));
    } catch (e) {
      if (ctx.isCurrent()) replace(body, h('p', { class: 'text-error', role: 'alert' }, humanise(e)));
    }
  };
  draw();
  return h('section', { class: 'page admin' },
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, current.label)),
    h('div', { class: 'admin-layout' }, nav, body));
}

function table(headers, rows, attrs = {}) {
  return h('table', { class: 'table', ...attrs },
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell) => h('td', {}, cell))))));
}

function items(body) {
  return body ? (body.items || (Array.isArray(body) ? body : [])) : [];
}

function toolbar(...children) {
  return h('div', { class: 'toolbar' }, ...children);
}

/** A dialog holding a form; `submit(values, form)` may throw an ApiError, shown beside its field. */
function formDialog(title, fields, submitLabel, submit) {
  return dialog(title, (close) => {
    const form = h('form', { novalidate: true }, h('div', { class: 'form-error' }), fields,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel)));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      try {
        const result = await submit(formValues(form), form);
        close(result === undefined ? true : result);
      } catch (err) { showError(form, err); }
    });
    return form;
  });
}

// Groups ------------------------------------------------------------------------------------------
// The editor round-trips every field of every discount (label, kind, categories, dates): saving a
// group sends back exactly what it showed, changed only where staff changed it. A discount of a kind
// this screen does not know is shown read-only and the group's discounts are then left untouched.

async function groups(ctx, redraw) {
  const body = await optional(get('/groups'));
  if (!body) return null;
  const list = items(body);
  const known = new Set(body.discount_types || ['percent', 'amount']);
  const categories = body.categories || [];
  const edit = async (g) => {
    const ok = await dialog(g ? `Edit ${g.name}` : 'New group', (close) => groupForm(g, known, categories, close));
    if (ok) { toast(g ? 'Group saved' : 'Group created'); redraw(); }
  };
  const remove = async (g) => {
    const ok = await dialog(`Delete ${g.name}?`, (close) => h('div', {},
      h('p', {}, 'Members lose the group’s discount from their next checkout. Past orders keep theirs.'),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => close(true) }, 'Delete'))));
    if (!ok) return;
    try { await del(`/groups/${enc(g.id)}`); toast('Group deleted'); redraw(); } catch (e) { toast(humanise(e), 'error'); }
  };
  return h('div', {},
    toolbar(h('button', { type: 'button', class: 'btn btn-primary', onclick: () => edit(null) }, icon('plus'), 'New group')),
    list.length
      ? table(['Group', 'Discounts', 'Members', ''], list.map((g) => [
        h('div', {}, h('strong', {}, g.name), g.description ? h('div', { class: 'muted' }, g.description) : null),
        (g.discounts || []).length
          ? h('ul', { class: 'plain discount-list', 'data-test': 'group-discounts' }, g.discounts.map((d) => h('li', {}, fmt.discountSummary(d))))
          : h('span', { class: 'muted' }, 'No discount'),
        fmt.count(g.member_count ?? g.members),
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-sm', 'data-test': 'edit-group', 'aria-label': `Edit ${g.name}`, onclick: () => edit(g) }, 'Edit'),
          h('button', { type: 'button', class: 'btn btn-sm btn-danger-outline', onclick: () => remove(g) }, 'Delete')),
      ]), { 'data-test': 'groups' })
      : emptyState('No groups yet. Create one for veterans, seniors, industry staff or VIPs.'));
}

/** basis points → "12.5" (exact: integer arithmetic, no floats). */
function percentText(bp) {
  const whole = Math.floor(bp / 100);
  const frac = String(bp % 100).padStart(2, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

/** cents → "5.00" for the amount box. */
function dollarsText(cents) {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** "5", "5.5", "$5.50" → 550 cents; null when it is not an amount of money. */
function parseDollars(text) {
  const m = /^\$?\s*(\d+)(?:\.(\d{1,2}))?$/.exec(String(text || '').trim());
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

function groupForm(g, known, categories, close) {
  const discounts = (g && g.discounts) || [];
  const unknown = discounts.filter((d) => !known.has(d.type));
  const rows = h('div', { class: 'discount-rows', 'data-test': 'discount-rows' });
  const addRow = (d) => rows.append(discountRow(d, categories, rows.children.length));
  if (!unknown.length) discounts.forEach((d) => addRow(d));
  const form = h('form', { novalidate: true, class: 'group-form' }, h('div', { class: 'form-error' }),
    field({ label: 'Name', name: 'name', value: g && g.name, required: true, attrs: { 'data-autofocus': true } }),
    field({ label: 'Description', name: 'description', value: g && g.description }),
    h('fieldset', { class: 'discounts' }, h('legend', {}, 'Discounts'),
      h('p', { class: 'hint' }, 'At checkout the one discount worth most to the customer applies; discounts never stack.'),
      unknown.length
        ? alertBox('warn', `This group has a discount this screen cannot edit (${unknown.map((d) => d.label).join(', ')}). Its discounts are kept as they are.`)
        : [rows, h('button', { type: 'button', class: 'btn btn-sm', 'data-test': 'add-discount', onclick: () => addRow(null) }, icon('plus'), 'Add discount')]),
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn btn-primary' }, g ? 'Save' : 'Create group')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const name = form.elements.name.value.trim();
    const input = { name, description: form.elements.description.value.trim() || null };
    if (!unknown.length) {
      const out = [];
      for (const [i, row] of [...rows.querySelectorAll('.discount-row')].entries()) {
        const d = readDiscountRow(row, i);
        if (d.error) return showError(form, d.error);
        out.push(d.value);
      }
      input.discounts = out;
    }
    try {
      if (g) await patch(`/groups/${enc(g.id)}`, input);
      else await post('/groups', input);
      close(true);
    } catch (err) { showError(form, err); }
  });
  return form;
}

function discountRow(d, categories, index) {
  const name = (f) => `discounts[${index}].${f}`;
  const type = (d && d.type) || 'percent';
  const limited = new Set((d && d.categories) || []);
  const row = h('div', { class: 'discount-row card', 'data-test': 'discount-row', dataset: { index: String(index) } });
  const kindField = field({ label: 'Kind', name: name('type'), value: type, options: [['percent', 'Percent off'], ['amount', 'Amount off']] });
  const percent = field({ label: 'Percent', name: name('percent'), value: d && d.type === 'percent' ? percentText(d.basis_points) : '', attrs: { inputmode: 'decimal', placeholder: '10' } });
  const amount = field({ label: 'Amount ($)', name: name('amount_cents'), value: d && d.type === 'amount' ? dollarsText(d.cents) : '', attrs: { inputmode: 'decimal', placeholder: '5.00' } });
  const showKind = () => {
    const v = kindField.querySelector('select').value;
    percent.hidden = v !== 'percent';
    amount.hidden = v !== 'amount';
  };
  kindField.querySelector('select').addEventListener('change', showKind);
  showKind();
  const cats = h('fieldset', { class: 'cats', dataset: { field: name('categories') } },
    h('legend', {}, 'Applies to'),
    h('label', { class: 'check-plain' }, h('input', { type: 'checkbox', class: 'every', checked: !limited.size, onchange: (e) => { for (const c of cats.querySelectorAll('input.cat')) { if (e.target.checked) c.checked = false; } } }), 'Every item'),
    h('div', { class: 'cat-grid' }, categories.map((c) => h('label', { class: 'check-plain' },
      h('input', { type: 'checkbox', class: 'cat', value: c, checked: limited.has(c), onchange: () => { cats.querySelector('input.every').checked = !cats.querySelector('input.cat:checked'); } }),
      fmt.category(c)))),
    h('div', { class: 'field-error' }));
  append(row, [
    h('div', { class: 'grid-3' }, kindField, percent, amount,
      field({ label: 'Receipt label', name: name('label'), value: d && d.label, hint: 'Empty: named from the group and the amount', wide: true })),
    cats,
    h('div', { class: 'grid-3' },
      field({ label: 'From (optional)', name: name('starts_on'), type: 'date', value: d && d.starts_on }),
      field({ label: 'Until (optional)', name: name('ends_on'), type: 'date', value: d && d.ends_on }),
      h('div', { class: 'row-end' }, h('button', { type: 'button', class: 'btn btn-sm btn-danger-outline', 'data-test': 'remove-discount', onclick: () => row.remove() }, icon('x'), 'Remove')))]);
  return row;
}

/** A row's values as the API's `DiscountInput`, or the first thing wrong with them. */
function readDiscountRow(row, i) {
  const val = (f) => {
    const el = row.querySelector(`[name$=".${f}"]`);
    return el ? el.value.trim() : '';
  };
  const out = { type: val('type') };
  if (out.type === 'percent') {
    out.percent = val('percent');
    if (!out.percent) return { error: { field: row.querySelector('[name$=".percent"]').name, message: 'Enter the percentage off' } };
  } else {
    const cents = parseDollars(val('amount_cents'));
    if (cents === null) return { error: { field: row.querySelector('[name$=".amount_cents"]').name, message: 'Enter the amount off in dollars, e.g. 5 or 5.50' } };
    out.amount_cents = cents;
  }
  if (val('label')) out.label = val('label');
  const chosen = [...row.querySelectorAll('input.cat:checked')].map((c) => c.value);
  if (chosen.length) out.categories = chosen;
  if (val('starts_on')) out.starts_on = val('starts_on');
  if (val('ends_on')) out.ends_on = val('ends_on');
  // Field names follow the row's position now (rows may have been removed), so API errors land right.
  for (const el of row.querySelectorAll('[name^="discounts["]')) el.name = el.name.replace(/^discounts\[\d+\]/, `discounts[${i}]`);
  for (const el of row.querySelectorAll('[data-field^="discounts["]')) el.dataset.field = el.dataset.field.replace(/^discounts\[\d+\]/, `discounts[${i}]`);
  return { value: out };
}

// Staff -------------------------------------------------------------------------------------------

const ROLES = [['budtender', 'Budtender'], ['manager', 'Manager'], ['admin', 'Admin']];

async function staff(ctx, redraw) {
  const body = await optional(get('/staff'));
  if (!body) return null;
  const list = items(body);
  const add = async () => {
    const ok = await formDialog('New staff account', [
      field({ label: 'Username', name: 'username', required: true, attrs: { 'data-autofocus': true, autocapitalize: 'none', autocomplete: 'off' } }),
      field({ label: 'Display name', name: 'display_name' }),
      field({ label: 'Role', name: 'role', value: 'budtender', options: ROLES }),
      field({ label: 'Temporary password', name: 'password', type: 'password', required: true, hint: 'At least 12 characters; they should change it', attrs: { autocomplete: 'new-password' } }),
    ], 'Create account', (v) => post('/staff', { username: v.username, display_name: v.display_name || null, role: v.role, password: v.password || '' }));
    if (ok) { toast('Account created'); redraw(); }
  };
  const setRole = async (u, role) => {
    try { await patch(`/staff/${enc(u.id)}`, { role }); toast('Role changed'); redraw(); } catch (e) { toast(humanise(e), 'error'); redraw(); }
  };
  const setActive = async (u) => {
    try { await patch(`/staff/${enc(u.id)}`, { active: !u.active }); toast(u.active ? 'Account disabled' : 'Account enabled'); redraw(); } catch (e) { toast(humanise(e), 'error'); }
  };
  const resetPassword = async (u) => {
    const ok = await formDialog(`New password for ${u.display_name || u.username}`, [
      field({ label: 'New password', name: 'password', type: 'password', required: true, attrs: { 'data-autofocus': true, autocomplete: 'new-password' } }),
    ], 'Set password', (v) => put(`/staff/${enc(u.id)}/password`, { password: v.password || '' }));
    if (ok) toast('Password changed; their other sessions are signed out');
  };
  return h('div', {},
    toolbar(h('button', { type: 'button', class: 'btn btn-primary', onclick: add }, icon('plus'), 'New account')),
    table(['Name', 'Username', 'Role', 'Status', ''], list.map((u) => {
      const self = session.user && session.user.id === u.id;
      const role = h('select', { 'aria-label': `Role of ${u.username}`, disabled: self, onchange: (e) => setRole(u, e.target.value) },
        ROLES.map(([v, t]) => h('option', { value: v, selected: u.role === v }, t)));
      return [
        h('strong', {}, u.display_name || u.username),
        u.username,
        role,
        u.active === false ? badge('Disabled', 'danger') : badge('Active', 'ok'),
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-sm', onclick: () => resetPassword(u) }, 'Reset password'),
          self ? null : h('button', { type: 'button', class: 'btn btn-sm' + (u.active === false ? '' : ' btn-danger-outline'), onclick: () => setActive(u) }, u.active === false ? 'Enable' : 'Disable')),
      ];
    })));
}

// API keys ----------------------------------------------------------------------------------------

const SCOPES = [
  'customers:read', 'customers:write', 'checkin:write', 'orders:read', 'orders:write', 'orders:history',
  'customers:ban', 'loyalty:adjust', 'limits:override', 'id_images:read', 'audit:read', 'catalog:write',
  'staff:manage', 'apikeys:manage', 'settings:write',
];

async function apiKeys(ctx, redraw) {
  const body = await optional(get('/api-keys'));
  if (!body) return null;
  const list = items(body);
  const create = async () => {
    const secret = await dialog('New API key', (close) => {
      const boxes = h('fieldset', { class: 'scopes' }, h('legend', {}, 'Scopes'),
        SCOPES.map((s) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'scopes', value: s, checked: s === 'customers:read' }), s)));
      const form = h('form', { novalidate: true }, h('div', { class: 'form-error' }),
        field({ label: 'Name', name: 'name', required: true, hint: 'Who uses it, e.g. “Online store”', attrs: { 'data-autofocus': true } }),
        h('div', { dataset: { field: 'scopes' } }, boxes, h('div', { class: 'field-error' })),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
          h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key')));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const scopes = [...form.querySelectorAll('input[name=scopes]:checked')].map((i) => i.value);
        try {
          const created = await post('/api-keys', { name: form.elements.name.value.trim(), scopes });
          close(created.secret || created.token || created.key_secret);
        } catch (err) { showError(form, err); }
      });
      return form;
    });
    if (!secret) return;
    await dialog('Copy the key now', (close) => h('div', {},
      alertBox('warn', 'This is the only time the key is shown. Store it in the integration’s settings.'),
      h('code', { class: 'secret', 'data-test': 'api-key-secret' }, secret),
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => close(true) }, 'Done'))));
    redraw();
  };
  const revoke = async (k) => {
    const ok = await dialog(`Revoke ${k.name}?`, (close) => h('div', {},
      h('p', {}, 'Requests with this key are refused from now on. This cannot be undone.'),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => close(true) }, 'Revoke'))));
    if (!ok) return;
    try { await del(`/api-keys/${enc(k.id)}`); toast('Key revoked'); redraw(); } catch (e) { toast(humanise(e), 'error'); }
  };
  return h('div', {},
    toolbar(h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, icon('plus'), 'New key')),
    list.length
      ? table(['Name', 'Key', 'Scopes', 'Created', 'Last used', ''], list.map((k) => [
        h('strong', {}, k.name),
        h('code', {}, (k.prefix || '') + '…'),
        h('div', { class: 'scope-list' }, (k.scopes || []).map((s) => badge(s, 'neutral'))),
        h('div', {}, fmt.dateTime(k.created_at), k.created_by ? h('div', { class: 'muted' }, k.created_by) : null),
        k.last_used_at ? fmt.relative(k.last_used_at) : 'Never',
        k.revoked_at ? badge('Revoked', 'danger') : h('button', { type: 'button', class: 'btn btn-sm btn-danger-outline', onclick: () => revoke(k) }, 'Revoke'),
      ]))
      : emptyState('No API keys yet.'));
}

// Stores ------------------------------------------------------------------------------------------

const LICENCES = [['adult_use', 'Adult use'], ['medical', 'Medical'], ['both', 'Adult use and medical']];
const ENFORCEMENT = [['block', 'Block over-limit sales'], ['warn', 'Warn; a manager may override']];

async function stores(ctx, redraw) {
  const body = await optional(get('/stores'));
  if (!body) return null;
  const list = items(body);
  const loyalty = await optional(get('/loyalty/program')).catch(() => null);
  const edit = async (s) => {
    const ok = await formDialog(s ? `Settings for ${s.name}` : 'New store', [
      field({ label: 'Name', name: 'name', value: s && s.name, required: true, attrs: { 'data-autofocus': true } }),
      field({ label: 'Licensee', name: 'licensee', value: s && s.licensee, hint: 'Stores of one licensee share purchase-limit history' }),
      field({ label: 'Licence', name: 'licence_type', value: (s && s.licence_type) || 'adult_use', options: LICENCES }),
      field({ label: 'Jurisdiction', name: 'jurisdiction', value: s && s.jurisdiction, required: true, hint: 'e.g. US-CO, US-WA, CA-ON' }),
      field({ label: 'Time zone', name: 'time_zone', value: s && s.time_zone, hint: 'IANA name, e.g. America/Denver; empty for the jurisdiction’s' }),
      field({ label: 'Purchase limits', name: 'enforcement', value: (s && s.enforcement) || 'block', options: ENFORCEMENT }),
    ], s ? 'Save' : 'Create store', async (v) => {
      const input = { name: v.name, licence_type: v.licence_type, jurisdiction: v.jurisdiction, enforcement: v.enforcement };
      if (v.licensee) input.licensee = v.licensee;
      if (v.time_zone) input.time_zone = v.time_zone;
      if (s) await patch(`/stores/${enc(s.id)}`, input);
      else await post('/stores', input);
    });
    if (ok) { toast('Store saved'); await loadStores(); ctx.refreshShell(); redraw(); }
  };
  const parts = [
    toolbar(h('button', { type: 'button', class: 'btn btn-primary', onclick: () => edit(null) }, icon('plus'), 'New store')),
    list.length
      ? table(['Store', 'Jurisdiction', 'Licence', 'Time zone', 'Limits', ''], list.map((s) => [
        h('strong', {}, s.name),
        s.jurisdiction,
        (s.licence_type || '').replace('_', ' '),
        s.time_zone,
        s.enforcement === 'warn' ? badge('Warn', 'warn') : badge('Block', 'ok'),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => edit(s) }, 'Edit'),
      ]))
      : emptyState('No stores yet.'),
  ];
  if (loyalty) parts.push(loyaltySettings(loyalty, redraw));
  return h('div', {}, parts);
}

/** The program's choices in staff words; a value the server has that this list lacks is shown as it is. */
const EARN_BASIS = [['after_discounts', 'What they pay (after discounts)'], ['before_discounts', 'List prices (before discounts)']];
const ROUNDING = [['down', 'Round down'], ['nearest', 'Round to the nearest point']];
const PROGRAM_TYPES = [['adult_use', 'Adult use'], ['medical', 'Medical patients'], ['caregiver', 'Caregivers']];

function choices(list, current) {
  return list.some(([v]) => v === current) ? list : [...list, [current, String(current).replace(/_/g, ' ')]];
}

/**
 * The loyalty program in the words and units staff use: amounts in dollars (sent as the API's cents),
 * each choice from a list, customer types as boxes. The server validates the program; its refusals
 * land beside the field they name.
 */
function loyaltySettings(settings, redraw) {
  const types = [...PROGRAM_TYPES];
  for (const t of settings.customer_types || []) if (!types.some(([v]) => v === t)) types.push([t, t.replace(/_/g, ' ')]);
  const typeBoxes = h('fieldset', { class: 'program-types', dataset: { field: 'customer_types' } },
    h('legend', {}, 'Customers in the program'),
    types.map(([v, label]) => h('label', { class: 'check-plain' },
      h('input', { type: 'checkbox', name: 'customer_types', value: v, checked: (settings.customer_types || []).includes(v) }), ' ', label)),
    h('div', { class: 'field-error' }));
  const form = h('form', { class: 'card settings-form', novalidate: true, 'data-test': 'loyalty-settings' },
    h('h2', { class: 'panel-title' }, 'Loyalty program'),
    h('div', { class: 'form-error' }),
    h('div', { class: 'grid-4' },
      field({ label: 'Program', name: 'enabled', value: String(settings.enabled), options: [['true', 'On'], ['false', 'Off (balances are kept)']] }),
      field({ label: 'Spend per point ($)', name: 'spend_cents_per_point', value: dollarsText(settings.spend_cents_per_point), hint: '1.00 means every dollar earns a point', attrs: { inputmode: 'decimal' } }),
      field({ label: 'Points', name: 'value_points', type: 'number', value: String(settings.value_points), hint: 'This many points…', attrs: { min: '1', step: '1' } }),
      field({ label: 'Are worth ($)', name: 'value_cents', value: dollarsText(settings.value_cents), hint: '…take this much off an order', attrs: { inputmode: 'decimal' } }),
      field({ label: 'Points are earned on', name: 'earn_basis', value: settings.earn_basis, options: choices(EARN_BASIS, settings.earn_basis) }),
      field({ label: 'Part points', name: 'rounding', value: settings.rounding, options: choices(ROUNDING, settings.rounding), hint: 'At $1 a point, $9.50 earns 9 rounded down, 10 to the nearest' }),
      field({ label: 'Locked for (days)', name: 'pending_days', type: 'number', value: String(settings.pending_days), hint: 'The return window: points can be spent after it', attrs: { min: '0', step: '1' } }),
      field({ label: 'Expire after (days)', name: 'expiry_days', type: 'number', value: settings.expiry_days === null || settings.expiry_days === undefined ? '' : String(settings.expiry_days), hint: 'Empty: points never expire', attrs: { min: '1', step: '1' } }),
      field({ label: 'No points in (jurisdictions)', name: 'excluded_jurisdictions', value: (settings.excluded_jurisdictions || []).join(', '), hint: 'Codes separated by commas, e.g. NY', wide: true }),
      typeBoxes),
    h('div', { class: 'row-end' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save loyalty settings')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    const errors = [];
    const cents = (name, what) => {
      const c = parseDollars(v[name]);
      if (c === null) errors.push({ field: name, message: `Enter ${what} in dollars, e.g. 1 or 0.50` });
      return c;
    };
    const whole = (name, { optional = false } = {}) => {
      if (optional && !v[name]) return null;
      if (!/^\d+$/.test(v[name] || '')) { errors.push({ field: name, message: 'Enter a whole number' }); return null; }
      return Number(v[name]);
    };
    const body = {
      ...settings,
      enabled: v.enabled === 'true',
      spend_cents_per_point: cents('spend_cents_per_point', 'the spend per point'),
      value_points: whole('value_points'),
      value_cents: cents('value_cents', 'the value'),
      earn_basis: v.earn_basis,
      rounding: v.rounding,
      pending_days: whole('pending_days'),
      expiry_days: whole('expiry_days', { optional: true }),
      customer_types: [...form.querySelectorAll('input[name=customer_types]:checked')].map((el) => el.value),
      excluded_jurisdictions: (v.excluded_jurisdictions || '').split(',').map((j) => j.trim()).filter(Boolean),
    };
    if (errors.length) return showError(form, { detail: { errors } });
    try { await put('/loyalty/program', body); toast('Loyalty settings saved'); redraw(); } catch (err) { showError(form, err); }
  });
  return form;
}

// Audit log ---------------------------------------------------------------------------------------
// Written for people: "Morgan Manager adjusted Yuki Reed's points by +50: birthday", with links to the
// customer or order, each changed field as before → after, and filters chosen from lists.

/** Action codes in words: the verb, and whether the object is the customer ("banned Yuki Reed"). */
const ACTIONS = {
  'customer.create': 'created the profile of',
  'customer.update': 'edited the profile of',
  'customer.ban': 'banned',
  'customer.unban': 'lifted the ban on',
  'customer.id_verify': 'recorded a verified ID for',
  'customer.id_image_view': 'viewed the ID image of',
  'customer.note_add': 'added a note to',
  'customer.medical_card_set': 'recorded the medical card of',
  'customer.patient_link': 'linked a patient to',
  'customer.patient_unlink': 'unlinked a patient from',
  'customer.import': 'imported',
  'customer.bulk_insert': 'added customers in bulk',
  'checkin.create': 'checked in',
  'checkin.refused': 'was refused check-in for',
  'checkout.refused': 'was refused a sale to',
  'order.checkout': 'sold',
  'order.return': 'took a return on',
  'order.void': 'voided',
  'order.status': 'changed the status of',
  'order.history_view': 'viewed the full purchase history of',
  'loyalty.adjust': 'adjusted the points of',
  'loyalty.program': 'changed the loyalty program',
  'consent.change': 'changed the consent of',
  'group.create': 'created the group',
  'group.update': 'edited the group',
  'group.delete': 'deleted the group',
  'group.member_add': 'added a member to the group',
  'group.member_remove': 'removed a member from the group',
  'product.create': 'added the product',
  'product.update': 'edited the product',
  'product.archive': 'archived the product',
  'product.import': 'imported products',
  'staff.create': 'created the staff account',
  'staff.update': 'changed the staff account',
  'staff.password_reset': 'reset the password of',
  'api_key.create': 'created the API key',
  'api_key.revoke': 'revoked the API key',
  'store.create': 'created the store',
  'store.update': 'changed the settings of the store',
  'session.sign_in': 'signed in',
  'session.sign_in_failed': 'failed to sign in',
  'sms.template_update': 'changed an SMS template',
  'webhook.endpoint_create': 'added a webhook',
  'webhook.endpoint_update': 'changed a webhook',
  'webhook.endpoint_delete': 'deleted a webhook',
  'webhook.delivery_replay': 'replayed a webhook delivery',
};

function actionWords(code) {
  return ACTIONS[code] || String(code || '').replace(/[._]/g, ' ');
}

/** Field names in words. */
function fieldWords(k) {
  return String(k).replace(/[._]/g, ' ').replace(/\bid\b/g, 'ID');
}

async function audit() {
  const first = await optional(get('/audit' + qs({ limit: 50 })));
  if (!first) return null;
  const names = new Map(); // customer id → name (or null while loading)
  const actors = new Map(); // actor id → label
  const rows = h('tbody', {});
  const more = h('button', { type: 'button', class: 'btn', 'data-test': 'audit-more' }, 'Older entries');
  let before = null;
  let filters = {};

  const customerName = async (id) => {
    if (names.has(id)) return names.get(id);
    const p = get(`/customers/${enc(id)}`).then((c) => fmt.fullName(c)).catch(() => null);
    names.set(id, p);
    return p;
  };
  const customerLink = (id) => {
    const a = h('a', { href: `/app/customers/${enc(id)}`, 'data-link': true, 'data-test': 'audit-customer' }, 'a customer');
    customerName(id).then((n) => { if (n) a.textContent = n; });
    return a;
  };
  const orderLink = (id, number) => (can('orders:history')
    ? h('a', { href: `/app/orders/${enc(id)}`, 'data-link': true }, number ? `order #${number}` : 'an order')
    : (number ? `order #${number}` : 'an order'));

  const sentence = (a) => {
    const ch = a.changes && typeof a.changes === 'object' ? a.changes : {};
    const who = h('strong', {}, a.actor_label || a.actor_kind || 'Someone');
    const verb = actionWords(a.action);
    let object = null;
    let tail = '';
    if (a.entity === 'customer' && a.entity_id) object = customerLink(a.entity_id);
    else if (a.entity === 'order' && a.entity_id) {
      object = h('span', {}, orderLink(a.entity_id, ch.number), ch.customer_id ? [' to ', customerLink(ch.customer_id)] : null);
    } else if (ch.name && typeof ch.name !== 'object') object = h('span', {}, `“${ch.name}”`);
    if (a.action === 'loyalty.adjust' && ch.points !== undefined) tail = ` by ${ch.points > 0 ? '+' : ''}${fmt.count(ch.points)}${ch.reason ? `: ${ch.reason}` : ''}`;
    else if (a.action === 'customer.ban' && (ch.reason || (ch.ban && ch.ban.new))) tail = `: ${ch.reason || (ch.ban.new && ch.ban.new.reason) || ''}`;
    else if (a.action === 'order.checkout' && ch.total_cents !== undefined) tail = ` for ${fmt.money(ch.total_cents)}`;
    else if ((a.action === 'checkout.refused' || a.action === 'checkin.refused') && Array.isArray(ch.reasons)) tail = `: ${ch.reasons.map((r) => r.message || r).join('; ')}`;
    return h('span', {}, who, ` ${verb} `, object, tail);
  };

  /** Each changed field as "field: before → after"; other details only when there is no sentence for them. */
  const diff = (changes) => {
    if (!changes || typeof changes !== 'object') return null;
    const items = [];
    for (const [k, v] of Object.entries(changes)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && ('old' in v || 'new' in v)) {
        items.push(h('li', {}, h('span', { class: 'muted' }, `${fieldWords(k)}: `), h('del', {}, valueText(v.old)), ' → ', h('ins', {}, valueText(v.new))));
      }
    }
    return items.length ? h('ul', { class: 'plain diff' }, items) : null;
  };

  const addRows = (page) => {
    for (const a of items(page)) {
      if (a.actor_id && !actors.has(a.actor_id)) actors.set(a.actor_id, a.actor_label);
      rows.append(h('tr', { 'data-test': 'audit-row' },
        h('td', { class: 'nowrap' }, fmt.dateTime(a.at)),
        h('td', {}, sentence(a)),
        h('td', { class: 'changes' }, diff(a.changes))));
    }
    before = page.next_before ?? null;
    more.hidden = before === null;
    fillActors();
  };

  // Filters: staff and action from lists, customer by searching.
  const actorSelect = h('select', { name: 'actor', id: 'audit-actor' }, h('option', { value: '' }, 'Anyone'));
  const fillActors = () => {
    const have = new Set([...actorSelect.options].map((o) => o.value));
    for (const [id, label] of actors) if (!have.has(id)) actorSelect.append(h('option', { value: id }, label));
  };
  const staffList = await optional(get('/staff')).catch(() => null);
  for (const u of items(staffList)) actors.set(u.id, u.display_name || u.username);
  const actionSelect = h('select', { name: 'action', id: 'audit-action' }, h('option', { value: '' }, 'Any action'),
    Object.entries(ACTIONS).sort((x, y) => x[1].localeCompare(y[1])).map(([code, words]) => h('option', { value: code }, words)));
  let customerId = '';
  const customerInput = h('input', { type: 'search', id: 'audit-customer', placeholder: 'Name, phone or ID', autocomplete: 'off' });
  const customerPick = h('ul', { class: 'plain pick-list' });
  let t = null;
  customerInput.addEventListener('input', () => {
    customerId = '';
    clearTimeout(t);
    const q = customerInput.value.trim();
    if (!q) { replace(customerPick); return; }
    t = setTimeout(async () => {
      const found = await get('/customers' + qs({ q, limit: 6 })).catch(() => ({ items: [] }));
      replace(customerPick, items(found).map((c) => h('li', {}, h('button', {
        type: 'button', class: 'btn btn-sm btn-ghost',
        onclick: () => { customerId = c.id; customerInput.value = fmt.fullName(c); replace(customerPick); },
      }, `${fmt.fullName(c)}${c.date_of_birth ? ' · ' + fmt.date(c.date_of_birth) : ''}`))));
    }, 150);
  });
  const labelled = (text, forId, control, extra) => h('div', { class: 'field' }, h('label', { for: forId }, text), control, extra || null);
  const filterForm = h('form', { class: 'filters', role: 'search' },
    labelled('Staff member', 'audit-actor', actorSelect),
    labelled('Action', 'audit-action', actionSelect),
    labelled('Customer', 'audit-customer', customerInput, customerPick),
    h('div', {}),
    h('button', { type: 'submit', class: 'btn' }, 'Filter'));
  filterForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    filters = { actor: actorSelect.value, action: actionSelect.value };
    if (customerId) { filters.entity = 'customer'; filters.entity_id = customerId; }
    rows.replaceChildren();
    try { addRows(await get('/audit' + qs({ ...filters, limit: 50 }))); } catch (err) { toast(humanise(err), 'error'); }
  });
  addRows(first);
  more.addEventListener('click', async () => {
    more.disabled = true;
    try { addRows(await get('/audit' + qs({ ...filters, limit: 50, before }))); } catch (e) { toast(humanise(e), 'error'); }
    more.disabled = false;
  });
  return h('div', {}, filterForm,
    h('table', { class: 'table audit', 'data-test': 'audit' },
      h('thead', {}, h('tr', {}, ['When', 'What happened', 'Changes'].map((x) => h('th', { scope: 'col' }, x)))),
      rows),
    h('div', { class: 'row-start' }, more));
}

function valueText(v) {
  if (v === null || v === undefined || v === '') return '(empty)';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') {
    if (v.reason) return v.reason;
    const parts = Object.entries(v).filter(([, x]) => x !== null && typeof x !== 'object').map(([k, x]) => `${fieldWords(k)} ${x}`);
    return parts.join(', ') || '…';
  }
  return String(v);
}
