// Manager and admin screens: groups and discounts, staff accounts, API keys, store settings, audit log.
// Each section appears only for callers with its permission, and only when the server has its API.

import { h, replace, toast, icon } from '../dom.js';
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

function discountText(g) {
  const ds = g.discounts || [];
  if (!ds.length) return '—';
  return ds.map((d) => (d.type === 'percent' ? `${d.basis_points / 100}% off` : d.type === 'amount' ? `${fmt.money(d.cents)} off` : d.label)).join(', ');
}

async function groups(ctx, redraw) {
  const body = await optional(get('/groups'));
  if (!body) return null;
  const list = items(body);
  const edit = async (g) => {
    const d = (g && g.discounts && g.discounts[0]) || {};
    d.percent = d.basis_points !== undefined ? d.basis_points / 100 : undefined;
    const ok = await formDialog(g ? `Edit ${g.name}` : 'New group', [
      field({ label: 'Name', name: 'name', value: g && g.name, required: true, attrs: { 'data-autofocus': true } }),
      field({ label: 'Description', name: 'description', value: g && g.description }),
      field({ label: 'Discount (%)', name: 'discounts[0].percent', type: 'number', value: d.percent, hint: 'Applied automatically at checkout; leave empty for none', attrs: { min: '0', max: '100', step: '0.01' } }),
    ], g ? 'Save' : 'Create group', async (v) => {
      const input = { name: v.name, description: v.description || null };
      input.discounts = v['discounts[0].percent'] ? [{ type: 'percent', percent: String(v['discounts[0].percent']) }] : [];
      if (g) await patch(`/groups/${enc(g.id)}`, input);
      else await post('/groups', input);
    });
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
      ? table(['Group', 'Discount', 'Members', ''], list.map((g) => [
        h('div', {}, h('strong', {}, g.name), g.description ? h('div', { class: 'muted' }, g.description) : null),
        discountText(g),
        fmt.count(g.member_count ?? g.members),
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-sm', onclick: () => edit(g) }, 'Edit'),
          h('button', { type: 'button', class: 'btn btn-sm btn-danger-outline', onclick: () => remove(g) }, 'Delete')),
      ]))
      : emptyState('No groups yet. Create one for veterans, seniors, industry staff or VIPs.'));
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

function loyaltySettings(settings, redraw) {
  const form = h('form', { class: 'card settings-form', novalidate: true },
    h('h2', { class: 'panel-title' }, 'Loyalty program'),
    h('div', { class: 'form-error' }),
    h('div', { class: 'grid-4' },
      Object.entries(settings).filter(([, v]) => typeof v !== 'object').map(([k, v]) => field({
        label: k.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()),
        name: k, value: String(v),
        options: typeof v === 'boolean' ? [['true', 'Yes'], ['false', 'No']] : undefined,
      }))),
    h('div', { class: 'row-end' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save loyalty settings')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const patchBody = {};
    for (const [k, old] of Object.entries(settings)) {
      if (!(k in v) || typeof old === 'object') continue;
      patchBody[k] = typeof old === 'number' ? Number(v[k]) : typeof old === 'boolean' ? v[k] === 'true' : v[k];
    }
    try { await put('/loyalty/program', { ...settings, ...patchBody }); toast('Loyalty settings saved'); redraw(); } catch (err) { showError(form, err); }
  });
  return form;
}

// Audit log ---------------------------------------------------------------------------------------

async function audit(ctx) {
  const first = await optional(get('/audit' + qs({ limit: 50 })));
  if (!first) return null;
  const rows = h('tbody', {});
  const more = h('button', { type: 'button', class: 'btn' }, 'Older entries');
  let before = null;
  let filters = {};
  const addRows = (page) => {
    for (const a of items(page)) {
      rows.append(h('tr', {},
        h('td', { class: 'nowrap' }, fmt.dateTime(a.at)),
        h('td', {}, a.actor_label || a.actor || '', a.actor_kind ? h('div', { class: 'muted' }, a.actor_kind.replace('_', ' ')) : null),
        h('td', {}, h('code', {}, a.action)),
        h('td', {}, a.entity, a.entity_id ? h('div', { class: 'muted mono' }, a.entity_id) : null),
        h('td', { class: 'changes' }, changesText(a.changes))));
    }
    before = page.next_before ?? null;
    more.hidden = before === null;
  };
  addRows(first);
  more.addEventListener('click', async () => {
    more.disabled = true;
    try { addRows(await get('/audit' + qs({ ...filters, limit: 50, before }))); } catch (e) { toast(humanise(e), 'error'); }
    more.disabled = false;
  });
  const filterForm = h('form', { class: 'filters', role: 'search' },
    field({ label: 'Action', name: 'action', hint: 'e.g. customer.ban' }),
    field({ label: 'Entity', name: 'entity', hint: 'e.g. customer' }),
    field({ label: 'Entity id', name: 'entity_id' }),
    field({ label: 'Actor', name: 'actor' }),
    h('button', { type: 'submit', class: 'btn' }, 'Filter'));
  filterForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    filters = formValues(filterForm);
    rows.replaceChildren();
    try { addRows(await get('/audit' + qs({ ...filters, limit: 50 }))); } catch (err) { showError(filterForm, err); }
  });
  return h('div', {}, filterForm,
    h('table', { class: 'table audit' },
      h('thead', {}, h('tr', {}, ['When', 'Who', 'Action', 'Entity', 'Changes'].map((t) => h('th', { scope: 'col' }, t)))),
      rows),
    h('div', { class: 'row-start' }, more));
}

function changesText(changes) {
  if (!changes || typeof changes !== 'object') return '';
  const parts = [];
  for (const [k, v] of Object.entries(changes)) {
    if (v && typeof v === 'object' && ('old' in v || 'new' in v)) parts.push(`${k}: ${short(v.old)} → ${short(v.new)}`);
    else parts.push(`${k}: ${short(v)}`);
  }
  return parts.join('; ');
}

function short(v) {
  if (v === null || v === undefined) return '∅';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '…' : s;
}
