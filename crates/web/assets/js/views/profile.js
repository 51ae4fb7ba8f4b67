// The customer profile: everything a budtender needs at a glance, check-in in one tap, and the manager
// controls (ban, loyalty adjustment). Panels whose API is not on this server (or not permitted) are hidden.

import { h, replace, icon, toast, announce } from '../dom.js';
import { get, post, del, optional, qs } from '../api.js';
import { badge, tile, panel, spinner, emptyState, alertBox, dialog, field, showError, humanise, formValues, missingCustomer } from '../components.js';
import { session, can } from '../session.js';
import { handoff } from '../handoff.js';
import * as fmt from '../format.js';
import { checkIn } from './queue.js';
import { privacyActions, retentionSlot } from './privacy.js';

const enc = encodeURIComponent;

export async function view(ctx) {
  const id = ctx.params.id;
  let customer;
  try {
    customer = await get(`/customers/${enc(id)}`);
  } catch (e) {
    if (e.status === 404) return missingCustomer();
    throw e;
  }
  const page = h('section', { class: 'page profile', dataset: { customerId: customer.id } });
  const scanned = handoff.scanNotice;
  handoff.scanNotice = null;
  const refresh = async () => {
    const fresh = await get(`/customers/${enc(id)}`);
    if (ctx.isCurrent()) draw(fresh);
  };
  const draw = (c) => {
    replace(page, ...build(c, ctx, refresh, scanned));
  };
  draw(customer);
  return page;
}

/** Verification as the API states it (`verification.status`, judged on the store's date). */
function verification(c) {
  const status = c.verification ? c.verification.status : 'unverified';
  if (status === 'verified') return { ok: true, label: 'ID Verified' };
  if (status === 'expired') return { ok: false, kind: 'danger', label: 'ID expired' };
  return { ok: false, kind: 'warn', label: c.id_document ? 'ID not verified' : 'No ID on file' };
}

/** Reason messages start lower-case in the API ("customer is 16; …"); on screen they are sentences. */
export function sentence(text) {
  const t = String(text || '');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** "Compliant", or why this customer may not buy now: the server's decision (`eligibility`). */
function eligibility(c) {
  const e = c.eligibility || { eligible: false, reasons: [] };
  if (e.eligible) return { ok: true, label: 'Compliant', reasons: [] };
  // The ban has its own banner with the reason; the verdict does not repeat it.
  const reasons = (e.reasons || []).filter((r) => !(r.code === 'customer_banned' && c.ban));
  const first = reasons[0];
  const kind = !first || first.code === 'not_verified' ? 'warn' : 'danger';
  return { ok: false, kind, label: first ? sentence(first.message) : 'Not compliant', reasons: (e.reasons || []).map((r) => sentence(r.message)) };
}

function build(c, ctx, refresh, scanned) {
  const id = c.id;
  const ver = verification(c);
  const elig = eligibility(c);
  // The ID badge already says why; the eligibility badge then just says the verdict.
  if (!elig.ok && !ver.ok && elig.label === ver.label) elig.label = 'Not compliant';
  const eligibilityEl = h('span', {}, badge(
    `Age ${c.age ?? '—'} • ${elig.label}`,
    elig.ok ? 'ok' : (elig.kind || 'danger'),
    elig.ok ? 'check' : 'warn'));
  eligibilityEl.dataset.test = 'eligibility';

  const checkinResult = h('div', { class: 'checkin-result', 'aria-live': 'assertive' });
  // Check-in refuses exactly who checkout would: offer it only when the server's decision allows.
  const checkinRefusal = elig.ok ? null : elig.reasons.join('; ') || 'Not eligible';
  const checkinButton = h('button', {
    type: 'button', class: 'btn btn-primary btn-lg btn-checkin' + (c.banned ? ' btn-blocked' : ''),
    'data-test': 'check-in',
    onclick: async () => {
      checkinButton.disabled = true;
      try {
        await checkIn(id);
        replace(checkinResult, h('div', { class: 'banner banner-ok', role: 'status' },
          icon('check'), h('div', {}, h('strong', {}, 'Customer Checked In'), h('span', {}, `${c.display_name} • Ready to serve`))));
        checkinButton.textContent = 'Checked in';
        announce(`${c.display_name} checked in`);
      } catch (e) {
        checkinButton.disabled = false;
        const reasons = Array.isArray(e.detail && e.detail.reasons) ? e.detail.reasons : [];
        const lines = reasons.length
          ? reasons.map((r) => (typeof r === 'string' ? r : (r.message || r.code)))
          : [e.code === 'customer_banned' && c.ban ? `Banned — ${c.ban.reason}` : humanise(e)];
        replace(checkinResult, h('div', { class: 'banner banner-danger', role: 'alert', 'data-test': 'checkin-refused' }, icon('ban'),
          h('div', {}, h('strong', {}, 'Check-in refused'), lines.map((l) => h('span', {}, l)))));
      }
    },
  }, icon('check'), 'Check in');

  const saleRefusal = checkinRefusal;
  if (checkinRefusal) {
    checkinButton.disabled = true;
    checkinButton.setAttribute('aria-describedby', 'checkin-why');
  }
  const actions = h('div', { class: 'profile-actions' },
    session.storeId && can('checkin:write') ? checkinButton : null,
    session.storeId && can('orders:write')
      ? (saleRefusal
        ? h('button', { type: 'button', class: 'btn btn-lg', disabled: true, title: saleRefusal, 'data-test': 'start-sale' }, 'Start sale')
        : h('a', { class: 'btn btn-lg btn-primary-outline', href: `/app/register/${enc(id)}`, 'data-link': true, 'data-test': 'start-sale' }, 'Start sale'))
      : null,
    can('customers:write') ? h('a', { class: 'btn', href: `/app/customers/${enc(id)}/edit`, 'data-link': true }, icon('edit'), 'Edit') : null,
    can('customers:ban') ? banToggle(c, refresh) : null,
    checkinRefusal && session.storeId && can('checkin:write') ? h('div', { class: 'action-why hint', id: 'checkin-why', 'data-test': 'checkin-why' }, `Check-in and sale unavailable — ${checkinRefusal}`) : null,
    h('a', { class: 'btn', href: `/app/customers/${enc(c.id)}/merges`, 'data-link': true, 'data-test': 'merges-link' }, 'Merges and duplicates'),
    ...privacyActions(c, refresh));

  const out = [];
  if (scanned) out.push(scanBanner(c, scanned, refresh));
  if (c.banned && c.ban) {
    out.push(h('div', { class: 'banner banner-danger', role: 'alert', 'data-test': 'banned-banner' }, icon('ban'),
      h('div', {}, h('strong', {}, `Banned — ${c.ban.reason}`),
        h('span', {}, `Since ${fmt.dateTime(c.ban.since)}${c.ban.by ? ' by ' + c.ban.by : ''}${c.ban.until ? ', until ' + fmt.dateTime(c.ban.until) : ''}. No check-in or sale while the ban is in force.`),
        c.ban.note ? h('span', { class: 'ban-note' }, c.ban.note) : null)));
  }
  out.push(checkinResult);
  out.push(h('header', { class: 'profile-head card' },
    h('div', { class: 'avatar avatar-lg', 'aria-hidden': 'true' }, fmt.initials(c)),
    h('div', { class: 'profile-id' },
      h('h1', { class: 'profile-name' }, fmt.fullName(c),
        ver.label === 'ID Verified' ? h('span', { class: 'verified', title: 'ID verified' }, icon('check', 'ID verified')) : null),
      h('div', { class: 'profile-sub' },
        h('span', { class: 'greeting' }, c.display_name),
        badge(fmt.customerType(c.customer_type), c.customer_type === 'adult_use' ? 'neutral' : 'info'),
        c.banned ? badge('Banned', 'danger', 'ban') : null),
      h('div', { class: 'profile-status' },
        h('span', { 'data-test': 'verification' }, badge(ver.label, ver.ok ? 'ok' : ver.kind, ver.ok ? 'check' : 'warn')),
        eligibilityEl)),
    actions));

  const tiles = h('div', { class: 'tiles', 'aria-label': 'At a glance' });
  out.push(tiles);
  fillTiles(tiles, c);

  const limits = h('div', { class: 'limits-slot' });
  out.push(limits);
  fillLimits(limits, c);

  const left = h('div', { class: 'col' }, notesPanel(c));
  const right = h('div', { class: 'col' }, detailsPanel(c), groupsPanel(c, refresh), idPanel(c));
  const history = h('div', {});
  if (can('orders:history') || can('orders:read')) left.append(history);
  const orders = fillHistory(history, c, ctx);
  const loyalty = h('div', {});
  right.append(loyalty);
  const messages = h('div', {});
  right.append(messages);
  fillMessaging(messages, c);
  fillLoyalty(loyalty, c, refresh, orders);
  out.push(h('div', { class: 'profile-grid' }, left, right));
  return out;
}

/** How `POST /id-scans` found the profile, in staff words. */
const MATCHED_BY = { id_document: 'ID number', name_and_birth_date: 'name and date of birth' };

/** After a scan opened this profile: what the card says, and one tap to record the verification. */
function scanBanner(c, scanned, refresh) {
  const r = scanned.result || {};
  const e = r.eligibility;
  const verdict = e && typeof e.eligible === 'boolean'
    ? (e.eligible ? `Age ${e.age ?? c.age} • Compliant` : (e.reasons || []).map((x) => sentence(x.message)).join('; '))
    : null;
  const box = h('div', { class: 'banner ' + (e && e.eligible === false ? 'banner-danger' : 'banner-info'), role: 'status', 'data-test': 'scan-banner' },
    icon('scan'),
    h('div', {}, h('strong', {}, r.matched_by ? `ID scanned — matched by ${MATCHED_BY[r.matched_by] || String(r.matched_by).replace(/_/g, ' ')}` : 'ID scanned'),
      verdict ? h('span', {}, verdict) : null));
  const canRecord = can('customers:write') && (scanned.payload || scanned.image) && !(c.verification && c.verification.status === 'verified' && r.document && c.verification.document && c.verification.document.number === r.document.number);
  // The server judged the scanned card itself: an expired card cannot be recorded as verified.
  const expired = e && (e.reasons || []).find((x) => x.code === 'id_expired');
  if (canRecord) {
    const button = h('button', {
      type: 'button', class: 'btn btn-sm btn-primary', 'data-test': 'record-verification', disabled: Boolean(expired),
      onclick: async () => {
        button.disabled = true;
        try {
          let body;
          if (scanned.image) { body = new FormData(); body.append('image', scanned.image, scanned.image.name || 'id.jpg'); } else body = { payload: scanned.payload };
          await post(`/customers/${enc(c.id)}/verification`, body);
          toast('ID verification recorded');
          await refresh();
        } catch (err) { button.disabled = false; toast(humanise(err), 'error'); }
      },
    }, icon('check'), 'Record ID as verified');
    box.append(h('div', { class: 'banner-action' }, button,
      expired ? h('span', { class: 'hint', 'data-test': 'record-why' }, `${sentence(expired.message)}.`) : null));
  }
  return box;
}

function banToggle(c, refresh) {
  if (c.banned) {
    return h('button', {
      type: 'button', class: 'btn', 'data-test': 'unban',
      onclick: async () => {
        const ok = await dialog('Lift the ban?', (close) => h('div', {},
          h('p', {}, `${c.display_name} will be able to check in and buy again. This is recorded in the audit log.`),
          h('div', { class: 'dialog-actions' },
            h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
            h('button', { type: 'button', class: 'btn btn-primary', 'data-autofocus': true, onclick: () => close(true) }, 'Lift ban'))));
        if (!ok) return;
        try {
          await del(`/customers/${enc(c.id)}/ban`);
          toast('Ban lifted');
          await refresh();
        } catch (e) { toast(humanise(e), 'error'); }
      },
    }, 'Lift ban');
  }
  return h('button', {
    type: 'button', class: 'btn btn-danger-outline', 'data-test': 'ban',
    onclick: async () => {
      await dialog(`Ban ${c.display_name}?`, (close) => {
        const form = h('form', { novalidate: true },
          h('p', { class: 'muted' }, 'The record is kept for compliance, but check-in and every sale are blocked. Staff see the reason at every lookup.'),
          h('div', { class: 'form-error' }),
          field({ label: 'Reason', name: 'reason', required: true, hint: 'Shown to staff at every lookup', attrs: { 'data-autofocus': true, maxlength: '200' } }),
          field({ label: 'Note (optional)', name: 'note', type: 'textarea', attrs: { rows: '2', maxlength: '2000' } }),
          field({ label: 'Ends (optional)', name: 'until', type: 'date', hint: 'Leave empty for a ban until lifted' }),
          h('div', { class: 'dialog-actions' },
            h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
            h('button', { type: 'submit', class: 'btn btn-danger' }, 'Ban customer')));
        form.addEventListener('submit', async (e) => {
          e.preventDefault();
          const v = formValues(form);
          if (!v.reason) return showError(form, { field: 'reason', message: 'Give a reason: staff will see it' });
          const body = { reason: v.reason };
          if (v.note) body.note = v.note;
          if (v.until) body.until = new Date(v.until + 'T23:59:59').toISOString();
          try {
            await post(`/customers/${enc(c.id)}/ban`, body);
            close(true);
            toast('Customer banned', 'warn');
            await refresh();
          } catch (err) { showError(form, err); }
        });
        return form;
      });
    },
  }, icon('ban'), 'Ban');
}

async function fillTiles(tiles, c) {
  const loyalty = await optional(get(`/customers/${enc(c.id)}/loyalty`)).catch(() => null);
  const items = [];
  if (loyalty) {
    const today = loyalty.earned_today ?? null;
    items.push(tile({ label: 'Loyalty Points', value: fmt.count(loyalty.balance), sub: today ? `+${fmt.count(today)} today` : (loyalty.available_value_cents ? `worth ${fmt.money(loyalty.available_value_cents)}` : null), test: 'loyalty-balance' }));
  }
  const stats = c.stats;
  if (stats) {
    items.push(tile({ label: 'Lifetime', value: fmt.moneyShort(stats.lifetime_spend_cents), test: 'lifetime' }));
    items.push(tile({ label: 'Orders', value: fmt.count(stats.order_count), test: 'orders' }));
  }
  for (const g of (c.groups || []).slice(0, 2)) {
    const d = (g.discounts || [])[0];
    items.push(tile({ label: 'Group', value: groupTitle(g), sub: d ? discountLabel(d) : null, kind: 'accent', test: 'group' }));
  }
  if (stats) {
    items.push(tile({
      label: 'Last Purchase',
      value: stats.last_purchase_at ? fmt.relative(stats.last_purchase_at) : 'None yet',
      sub: stats.last_purchase_at && stats.last_purchase_cents !== null && stats.last_purchase_cents !== undefined ? fmt.money(stats.last_purchase_cents) : null,
      test: 'last-purchase',
    }));
  }
  replace(tiles, items);
}

/** "VIP Member" for a group called VIP; other names as they are. */
function groupTitle(g) {
  return /^[A-Z]{2,4}$/.test(g.name) ? `${g.name} Member` : g.name;
}

export function discountLabel(d) {
  return fmt.discountSummary(d);
}

/** Today's and the rolling window's remaining allotment: a quote of an empty cart at this store. */
async function fillLimits(slot, c) {
  if (!session.storeId || c.banned) return;
  let quote;
  try {
    quote = await optional(post('/checkout/quote', { customer_id: c.id, store_id: session.storeId, lines: [] }));
  } catch {
    return;
  }
  const outcomes = quote && quote.limits && quote.limits.outcomes;
  if (!outcomes || !outcomes.length) return;
  const rows = outcomes.filter((o) => o.window !== 'transaction');
  const shown = rows.length ? rows : outcomes;
  replace(slot, panel('Purchase limits remaining', { class: 'panel limits', 'data-test': 'limits' },
    h('div', { class: 'meters' }, shown.map((o) => meter(o))),
    h('div', { class: 'hint' }, `${quote.limits.jurisdiction || ''} rules ${quote.limits.rule_version || ''} · ${quote.limits.enforcement === 'warn' ? 'warn mode' : 'over-limit sales are blocked'}`)));
}

function windowLabel(w) {
  if (w === 'day') return 'today';
  if (w === 'transaction') return 'per sale';
  if (w === 'calendar_month') return 'this month';
  const m = /^rolling_(\d+)_days$/.exec(w || '');
  return m ? `last ${m[1]} days` : (w || '');
}

const UNITS = { g: 'g', mg: 'mg', oz: 'oz', ml: 'mL', fl_oz: 'fl oz', units: '', days: 'days' };

/**
 * One limit as a bar. On the profile: what is left today; at the register (`cart`): what this sale
 * brings the customer to ("Concentrate: 6.5 g of 8 g today"), red when the cart goes over.
 */
export function meter(o, { cart = false } = {}) {
  const limit = Number(o.limit);
  const used = Number(o.used);
  const remaining = Number(o.remaining);
  const hasLimit = o.limit !== null && o.limit !== undefined && Number.isFinite(limit) && limit > 0;
  const pct = hasLimit ? Math.min(100, Math.round((used / limit) * 100)) : 0;
  const kind = o.exceeded ? 'danger' : pct >= 100 ? (cart ? 'warn' : 'danger') : pct >= 75 ? 'warn' : 'ok';
  const fill = h('span', { class: 'meter-fill' });
  fill.style.width = `${pct}%`; // a CSSOM write, which the no-inline-styles CSP allows
  const u = o.unit in UNITS ? UNITS[o.unit] : String(o.unit || '').replace(/_/g, ' ');
  const unit = u ? ` ${u}` : '';
  const num = (n) => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(n < 10 ? 2 : 1))));
  let value;
  if (!hasLimit) value = 'no limit';
  else if (cart) value = `${num(used)}${unit} of ${num(limit)}${unit}${o.exceeded ? ' — over the limit' : ''}`;
  else value = `${num(remaining)}${unit} left of ${num(limit)}${unit}`;
  return h('div', { class: `meter meter-${kind}`, 'data-test': 'meter', dataset: { rule: o.rule, exceeded: o.exceeded ? 'true' : 'false' } },
    h('div', { class: 'meter-head' },
      h('span', { class: 'meter-label' }, o.label || o.rule, h('span', { class: 'muted' }, ` · ${windowLabel(o.window)}`)),
      h('span', { class: 'meter-value' }, value)),
    h('div', { class: 'meter-bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(hasLimit ? limit : 0), 'aria-valuenow': String(used), 'aria-label': `${o.label || o.rule} used ${windowLabel(o.window)}` },
      fill));
}

function notesPanel(c) {
  const list = h('ul', { class: 'notes', 'data-test': 'notes' }, h('li', {}, spinner('Loading notes')));
  const load = async () => {
    try {
      const body = await get(`/customers/${enc(c.id)}/notes`);
      const notes = body.items || [];
      replace(list, notes.length ? notes.map(noteItem) : h('li', { class: 'empty' }, 'No notes yet.'));
    } catch (e) {
      replace(list, h('li', { class: 'text-error' }, humanise(e)));
    }
  };
  load();
  let form = null;
  if (can('customers:write')) {
    form = h('form', { class: 'note-form', novalidate: true },
      h('div', { class: 'form-error' }),
      field({ label: 'Add a note', name: 'body', type: 'textarea', attrs: { rows: '2', maxlength: '4000', placeholder: 'Preferences, issues, delivery instructions…' } }),
      h('div', { class: 'row-end' }, h('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, 'Add note')));
    const textarea = form.querySelector('textarea');
    textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = textarea.value.trim();
      if (!body) return showError(form, { field: 'body', message: 'Write the note first' });
      try {
        await post(`/customers/${enc(c.id)}/notes`, { body });
        textarea.value = '';
        toast('Note added');
        await load();
      } catch (err) { showError(form, err); }
    });
  }
  return panel('Notes', null, form, list);
}

function noteItem(n) {
  return h('li', { class: 'note' },
    h('p', { class: 'note-body' }, n.body),
    h('div', { class: 'note-meta' }, `${n.author} · ${fmt.dateTime(n.created_at)}`));
}

function dl(rows) {
  return h('dl', { class: 'facts' }, rows.filter((r) => r && r[1] !== null && r[1] !== undefined && r[1] !== '').map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** The customer's groups, and (for staff who edit customers) adding and removing them. */
function groupsPanel(c, refresh) {
  if (!Array.isArray(c.groups)) return null;
  const mine = new Set(c.groups.map((g) => g.id));
  const list = c.groups.length
    ? h('ul', { class: 'plain group-list' }, c.groups.map((g) => h('li', {},
      h('span', { class: 'group-name' }, g.name),
      (g.discounts || []).map((d) => badge(discountLabel(d), 'ok')),
      can('customers:write') ? h('button', {
        type: 'button', class: 'btn btn-sm btn-ghost', 'aria-label': `Remove from ${g.name}`,
        onclick: async () => {
          try { await del(`/groups/${enc(g.id)}/members/${enc(c.id)}`); toast(`Removed from ${g.name}`); await refresh(); } catch (e) { toast(humanise(e), 'error'); }
        },
      }, icon('x')) : null)))
    : emptyState('Not in any group.');
  const box = h('div', {}, list);
  if (can('customers:write')) {
    (async () => {
      const all = await optional(get('/groups')).catch(() => null);
      const others = all ? (all.items || []).filter((g) => !mine.has(g.id)) : [];
      if (!others.length) return;
      const select = h('select', { 'aria-label': 'Group to add', class: 'group-select' },
        others.map((g) => h('option', { value: g.id }, g.name)));
      box.append(h('div', { class: 'row-start' }, select,
        h('button', {
          type: 'button', class: 'btn btn-sm', 'data-test': 'add-to-group',
          onclick: async () => {
            try {
              await post(`/groups/${enc(select.value)}/members`, { customer_id: c.id });
              toast('Added to group');
              await refresh();
            } catch (e) { toast(humanise(e), 'error'); }
          },
        }, icon('plus'), 'Add to group')));
    })();
  }
  return panel('Groups', null, box);
}

function detailsPanel(c) {
  const addresses = (c.addresses || []).map((a) => h('div', { class: 'address' },
    a.label ? h('strong', {}, a.label + ': ') : null,
    [a.line1, a.line2, `${a.city}, ${a.region} ${a.postal_code}`].filter(Boolean).join(', '),
    a.delivery_instructions ? h('div', { class: 'muted' }, a.delivery_instructions) : null));
  return panel('Contact', null, dl([
    ['Phone', c.phone ? h('a', { href: `tel:${c.phone}` }, fmt.phone(c.phone)) : '—'],
    ['Email', c.email ? h('a', { href: `mailto:${c.email}` }, c.email) : '—'],
    ['Date of birth', c.date_of_birth ? `${fmt.date(c.date_of_birth)} (${c.age})` : '—'],
    ['Preferred name', c.preferred_name],
    ['Address', addresses.length ? addresses : null],
    ['Customer since', fmt.date(String(c.created_at).slice(0, 10))],
    ['Source', c.created_channel ? c.created_channel.replace('_', ' ') : null],
  ]));
}

function idPanel(c) {
  const doc = c.id_document;
  const body = h('div', {});
  if (!doc) {
    body.append(emptyState('No ID on file. Scan the ID from the lookup screen, or add it by editing the profile.'));
  } else {
    const expired = Boolean((c.eligibility && (c.eligibility.reasons || []).some((r) => r.code === 'id_expired')) || (c.verification && c.verification.status === 'expired'));
    body.append(dl([
      ['Document', fmt.idKind(doc.kind)],
      ['Number', doc.number],
      ['Issued by', doc.jurisdiction],
      ['Expires', doc.expiry ? h('span', { class: expired ? 'text-error' : '' }, fmt.date(doc.expiry), expired ? ' (expired)' : '') : null],
    ]));
  }
  const medical = c.medical_card;
  if (medical) {
    body.append(h('h3', { class: 'subhead' }, 'Medical card'), dl([
      ['Number', medical.number],
      ['State', medical.issuing_state || medical.jurisdiction],
      ['Expires', medical.expiry ? h('span', { class: medical.expired ? 'text-error' : '' }, fmt.date(medical.expiry), medical.expired ? ' (expired)' : '') : null],
    ]));
  }
  const linkList = (title, links) => {
    if (!Array.isArray(links) || !links.length) return;
    body.append(h('h3', { class: 'subhead' }, title),
      h('ul', { class: 'plain links' }, links.map((l) => h('li', {},
        h('a', { href: `/app/customers/${enc(l.id || l.customer_id)}`, 'data-link': true }, l.display_name || [l.first_name, l.last_name].filter(Boolean).join(' ') || 'Linked customer')))));
  };
  linkList('Patients (as caregiver)', c.patients);
  linkList('Caregivers', c.caregivers);
  // Offered only when the server says an image is on file.
  if (can('id_images:read') && c.has_id_image) {
    const slot = h('div', { class: 'id-image-slot' });
    const button = h('button', {
      type: 'button', class: 'btn btn-sm', 'data-test': 'show-id-image',
      onclick: async () => {
        button.disabled = true;
        try {
          const res = await fetch(`/api/v1/customers/${enc(c.id)}/id-image`, { credentials: 'same-origin' });
          if (res.status === 404) { replace(slot, emptyState('No ID image on file.')); return; }
          if (!res.ok) throw new Error(`could not load the image (${res.status})`);
          const url = URL.createObjectURL(await res.blob());
          replace(slot, h('img', { src: url, alt: `ID image of ${fmt.fullName(c)}`, class: 'id-image' }),
            h('div', { class: 'hint' }, 'This view is recorded in the audit log.'));
        } catch (e) {
          replace(slot, h('span', { class: 'text-error' }, e.message));
        } finally { button.disabled = false; }
      },
    }, icon('card'), 'Show ID image');
    body.append(h('div', { class: 'row-start' }, button), slot);
  }
  body.append(retentionSlot(c));
  return panel('ID & eligibility', null, body);
}

const byNewest = (at) => (a, b) => String(at(b)).localeCompare(String(at(a)));

/** Purchase history, newest first; resolves to the orders it showed (the ledger names them). */
async function fillHistory(slot, c, ctx) {
  const body = await optional(get(`/customers/${enc(c.id)}/orders${qs({ limit: 20 })}`)).catch(() => null);
  if (!body) return [];
  const orders = [...(body.items || [])].sort(byNewest((o) => o.placed_at));
  const summary = body.view === 'summary';
  const linked = can('orders:history');
  const open = (o) => ctx.navigate(`/app/orders/${enc(o.id)}`);
  const table = orders.length
    ? h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['Order', 'Placed', 'Channel', 'Status', 'Items', 'Total'].map((t) => h('th', { scope: 'col', class: t === 'Total' || t === 'Items' ? 'num' : null }, t)))),
      h('tbody', {}, orders.map((o) => h('tr', { class: linked ? 'row-link' : null, 'data-test': 'history-row', onclick: linked ? () => open(o) : null },
        h('td', {}, linked ? h('a', { href: `/app/orders/${enc(o.id)}`, 'data-link': true }, `#${o.number}`) : `#${o.number}`),
        h('td', {}, fmt.dateTime(o.placed_at)),
        h('td', {}, fmt.channel(o.channel)),
        h('td', {}, badge(fmt.orderStatus(o.status), ['returned', 'voided', 'cancelled', 'partially_returned'].includes(o.status) ? 'warn' : 'neutral')),
        h('td', { class: 'num' }, o.lines && o.lines.length ? fmt.count(o.lines.reduce((n, l) => n + (l.quantity || 1), 0)) : '—'),
        h('td', { class: 'num' }, fmt.money(o.total_cents))))))
    : emptyState(summary ? 'No purchases in the last 30 days.' : 'No purchases yet.');
  const note = summary ? h('div', { class: 'hint' }, 'Recent orders only (last 30 days). Managers see the full history and order details.') : null;
  replace(slot, panel('Purchase history', { class: 'panel', 'data-test': 'history' }, table, note));
  return orders;
}

const ENTRY_WORDS = { earn: 'Earned', redeem: 'Redeemed', adjust: 'Adjusted', expire: 'Expired', reverse: 'Taken back' };

/** A ledger line in words, naming its order by number ("Earned on order #4399") and linking to it. */
function ledgerWhy(e, numbers) {
  const word = ENTRY_WORDS[e.kind] || e.kind;
  if (e.kind === 'adjust') return `${word}: ${e.reason || ''}`;
  if (!e.order_id) return e.reason ? `${word}: ${e.reason}` : word;
  const n = numbers.get(e.order_id);
  const label = n ? `order #${n}` : 'an order';
  const link = can('orders:history')
    ? h('a', { href: `/app/orders/${enc(e.order_id)}`, 'data-link': true, 'data-test': 'ledger-order' }, label)
    : label;
  const on = { earn: 'on', redeem: 'on', reverse: 'from' }[e.kind] || 'for';
  return h('span', {}, `${word} ${on} `, link, e.amount_cents && e.kind === 'redeem' ? ` for ${fmt.money(e.amount_cents)}` : '');
}

async function fillLoyalty(slot, c, refresh, ordersPromise) {
  const [body, orders] = await Promise.all([
    optional(get(`/customers/${enc(c.id)}/loyalty/history${qs({ limit: 10 })}`)).catch(() => null),
    ordersPromise,
  ]);
  const numbers = new Map((orders || []).map((o) => [o.id, o.number]));
  const canAdjust = can('loyalty:adjust');
  if (!body && !canAdjust) return;
  if (!body) {
    const probe = await optional(get(`/customers/${enc(c.id)}/loyalty`)).catch(() => null);
    if (!probe) return;
  }
  const entries = body ? [...(body.items || body.entries || [])].sort(byNewest((e) => e.at || e.created_at)) : [];
  const list = entries.length
    ? h('ul', { class: 'ledger', 'data-test': 'ledger' }, entries.map((e) => {
      const pts = e.points ?? e.delta ?? 0;
      return h('li', {},
        h('span', { class: 'ledger-pts ' + (pts < 0 ? 'neg' : 'pos') }, (pts > 0 ? '+' : '') + fmt.count(pts)),
        h('span', { class: 'ledger-why' }, ledgerWhy(e, numbers)),
        h('span', { class: 'ledger-when muted' }, fmt.dateTime(e.at || e.created_at)));
    }))
    : emptyState('No loyalty activity yet.');
  const adjust = canAdjust ? h('button', {
    type: 'button', class: 'btn btn-sm', 'data-test': 'adjust-points',
    onclick: () => adjustPoints(c, refresh),
  }, 'Adjust points') : null;
  replace(slot, panel('Loyalty', null, adjust ? h('div', { class: 'row-end' }, adjust) : null, list));
}

async function adjustPoints(c, refresh) {
  await dialog('Adjust loyalty points', (close) => {
    const form = h('form', { novalidate: true },
      h('div', { class: 'form-error' }),
      field({ label: 'Points (use − to remove)', name: 'points', type: 'number', required: true, attrs: { step: '1', 'data-autofocus': true } }),
      field({ label: 'Reason', name: 'reason', required: true, hint: 'Required; kept in the loyalty history and the audit log', attrs: { maxlength: '200' } }),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = formValues(form);
      const points = Number(v.points);
      if (!v.points || !Number.isInteger(points) || points === 0) return showError(form, { field: 'points', message: 'Enter a whole number of points, not zero' });
      if (!v.reason) return showError(form, { field: 'reason', message: 'A reason is required' });
      try {
        await post(`/customers/${enc(c.id)}/loyalty/adjustments`, { points, reason: v.reason });
        close(true);
        toast('Points adjusted');
        await refresh();
      } catch (err) { showError(form, err); }
    });
    return form;
  });
}

const CHANNEL_WORDS = { sms: 'Texts', email: 'Email' };
const PURPOSE_WORDS = { transactional: 'order updates', marketing: 'offers' };
const SOURCE_WORDS = { pos: 'at the register', online: 'in the online store', import: 'imported', sms_keyword: 'by text reply', api: 'through an integration' };
const SMS_STATE = { pending: ['Queued', 'neutral'], sent: ['Delivered to the provider', 'ok'], failed: ['Failed', 'danger'], skipped: ['Not sent', 'warn'] };

/** Consent per channel and purpose with its evidence, and the texts Canopy sent this customer. */
async function fillMessaging(slot, c) {
  const [consent, sms] = await Promise.all([
    optional(get(`/customers/${enc(c.id)}/consent`)).catch(() => null),
    optional(get(`/sms/messages${qs({ customer_id: c.id, limit: 10 })}`)).catch(() => null),
  ]);
  if (!consent && !sms) return;
  const parts = [];
  if (consent) {
    parts.push(h('ul', { class: 'plain consent-list', 'data-test': 'consent' }, (consent.current || []).map((s) => {
      const e = s.latest;
      const evidence = e
        ? `${s.status === 'granted' ? 'Agreed' : 'Declined'} ${SOURCE_WORDS[e.source] || e.source}${e.evidence ? ` (“${e.evidence}”)` : ''}${e.disclosure_version ? `, disclosure ${e.disclosure_version}` : ''} · ${e.actor_label} · ${fmt.dateTime(e.recorded_at)}`
        : (s.allowed ? 'Nothing recorded: allowed by default' : 'Nothing recorded: needs the customer’s written agreement');
      return h('li', {},
        h('div', { class: 'consent-head' }, h('strong', {}, `${CHANNEL_WORDS[s.channel] || s.channel} — ${PURPOSE_WORDS[s.purpose] || s.purpose}`),
          badge(s.allowed ? 'May send' : 'Do not send', s.allowed ? 'ok' : 'warn')),
        h('div', { class: 'muted small' }, evidence));
    })));
  }
  if (sms) {
    const list = sms.items || [];
    parts.push(h('h3', { class: 'subhead' }, 'Texts sent'), list.length
      ? h('ul', { class: 'plain sms-list', 'data-test': 'sms' }, list.map((m) => {
        const [word, kind] = SMS_STATE[m.state] || [m.state, 'neutral'];
        return h('li', {},
          h('div', { class: 'consent-head' }, h('span', {}, `${fmt.orderStatus(m.order_status)} · ${fmt.dateTime(m.sent_at || m.created_at)}`), badge(word, kind)),
          h('div', { class: 'small' }, m.body),
          m.last_error ? h('div', { class: 'small text-error' }, m.last_error) : null);
      }))
      : emptyState('No texts sent yet.'));
  }
  replace(slot, panel('Consent and messages', null, parts));
}
