// One order in full: items with their measures, discounts, points, payments, channel, the status
// timeline and returns; and returns and voids for staff the API lets make them. Reading a full order
// needs `orders:history` (it is audited); without it the screen says so instead of failing.

import { h, replace, icon, toast } from '../dom.js';
import { get, post, optional, qs } from '../api.js';
import { badge, panel, emptyState, alertBox, dialog, field, showError, formValues } from '../components.js';
import { can } from '../session.js';
import * as fmt from '../format.js';

const enc = encodeURIComponent;

/** Statuses after which nothing can be returned or voided (the API refuses with 409). */
const FINAL = new Set(['voided', 'cancelled', 'returned']);

export async function view(ctx) {
  if (!can('orders:history') && !can('orders:read')) {
    return h('section', { class: 'page narrow' }, h('h1', {}, 'Order'), emptyState('Your role cannot read orders.'));
  }
  let order;
  try {
    order = await get(`/orders/${enc(ctx.params.id)}`);
  } catch (e) {
    if (e.status === 403) {
      return h('section', { class: 'page narrow' }, h('h1', {}, 'Order'), alertBox('warn', 'Full order details are for managers: your role sees the recent summary on the customer’s profile.'));
    }
    if (e.status === 404) {
      return h('section', { class: 'page narrow' }, h('h1', {}, 'Order not found'), emptyState('There is no order with this number. It may have been mistyped in the address.'));
    }
    throw e;
  }
  const page = h('section', { class: 'page order', 'data-test': 'order' });
  const draw = (o, customer, points) => replace(page, ...build(o, customer, points, async () => {
    const fresh = await get(`/orders/${enc(o.id)}`);
    if (ctx.isCurrent()) draw(fresh, customer, await pointsFor(fresh));
  }));
  const [customer, points] = await Promise.all([
    optional(get(`/customers/${enc(order.customer_id)}`)).catch(() => null),
    pointsFor(order),
  ]);
  draw(order, customer, points);
  return page;
}

/** The loyalty ledger entries this order caused (earned, redeemed, reversed). */
async function pointsFor(o) {
  const body = await optional(get(`/customers/${enc(o.customer_id)}/loyalty/history${qs({ limit: 100 })}`)).catch(() => null);
  return body ? (body.items || []).filter((e) => e.order_id === o.id) : null;
}

function build(o, customer, points, refresh) {
  const who = customer ? h('a', { href: `/app/customers/${enc(customer.id)}`, 'data-link': true }, fmt.fullName(customer)) : 'the customer';
  const head = h('div', { class: 'page-head order-head' },
    h('h1', { class: 'page-title' }, `Order #${o.number}`),
    badge(fmt.orderStatus(o.status), FINAL.has(o.status) || o.status === 'partially_returned' ? 'warn' : 'ok'),
    h('span', { class: 'muted' }, `${fmt.channel(o.channel)} · ${fmt.dateTime(o.placed_at)} · for `, who, ` · served by ${o.staff}`));
  const actions = h('div', { class: 'row-start order-actions' });
  if (can('orders:write')) {
    const returnable = o.lines.some((l) => l.quantity > l.returned_quantity);
    const closed = FINAL.has(o.status);
    actions.append(
      actionButton('Return items', 'return', closed ? `A ${fmt.orderStatus(o.status).toLowerCase()} order cannot be returned.` : !returnable ? 'Every item has been returned.' : null, () => returnDialog(o, refresh)),
      actionButton('Void sale', 'void', closed ? `A ${fmt.orderStatus(o.status).toLowerCase()} order cannot be voided.` : o.refunded_cents ? 'Items were returned: return the rest instead.' : null, () => voidDialog(o, refresh)));
  }

  const items = h('table', { class: 'table', 'data-test': 'order-lines' },
    h('thead', {}, h('tr', {}, ['Item', 'Measures', 'Qty', 'Returned', 'Price', 'Discount', 'Points', 'Paid'].map((t, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : null }, t)))),
    h('tbody', {}, o.lines.map((l) => h('tr', {},
      h('td', {}, h('strong', {}, l.name), h('div', { class: 'muted small' }, `${fmt.categoryTitle(l.category)}${l.sku ? ' · ' + l.sku : ''}`)),
      h('td', {}, fmt.measures(l)),
      h('td', { class: 'num' }, String(l.quantity)),
      h('td', { class: 'num' }, l.returned_quantity ? String(l.returned_quantity) : '—'),
      h('td', { class: 'num' }, fmt.money(l.subtotal_cents)),
      h('td', { class: 'num' }, l.discount_cents ? `−${fmt.money(l.discount_cents)}` : '—'),
      h('td', { class: 'num' }, l.loyalty_cents ? `−${fmt.money(l.loyalty_cents)}` : '—'),
      h('td', { class: 'num' }, fmt.money(l.total_cents))))));

  const money = h('dl', { class: 'sum' },
    h('dt', {}, 'Subtotal'), h('dd', {}, fmt.money(o.subtotal_cents)),
    (o.discounts || []).map((d) => [h('dt', {}, d.label), h('dd', {}, `−${fmt.money(d.amount_cents ?? o.discount_cents)}`)]),
    o.loyalty_redeemed_cents ? [h('dt', {}, 'Points redeemed'), h('dd', {}, `−${fmt.money(o.loyalty_redeemed_cents)}`)] : null,
    h('dt', { class: 'total' }, 'Total'), h('dd', { class: 'total' }, fmt.money(o.total_cents)),
    o.refunded_cents ? [h('dt', {}, 'Refunded'), h('dd', {}, fmt.money(o.refunded_cents))] : null);
  const payments = (o.payments || []).length
    ? h('ul', { class: 'plain' }, o.payments.map((p) => h('li', {}, `${fmt.paymentMethod(p.method)} ${fmt.money(p.amount_cents)}`)))
    : emptyState('No payment recorded (paid outside Canopy).');
  const pts = points === null ? null : points.length
    ? h('ul', { class: 'ledger' }, points.map((e) => h('li', {},
      h('span', { class: 'ledger-pts ' + (e.points < 0 ? 'neg' : 'pos') }, (e.points > 0 ? '+' : '') + fmt.count(e.points)),
      h('span', { class: 'ledger-why' }, ENTRY[e.kind] || e.kind),
      h('span', { class: 'ledger-when muted' }, fmt.dateTime(e.at || e.created_at)))))
    : emptyState('No points moved with this order.');

  const events = [...(o.events || [])].sort((a, b) => String(b.at).localeCompare(String(a.at)));
  const timeline = h('ol', { class: 'timeline', 'data-test': 'timeline' }, events.map((e) => h('li', {},
    h('div', { class: 'timeline-what' }, eventText(e, o)),
    h('div', { class: 'muted small' }, `${fmt.dateTime(e.at)} · ${e.actor}`),
    e.reason ? h('div', { class: 'small' }, `“${e.reason}”`) : null)));

  return [
    head,
    actions,
    o.limits_override ? alertBox('warn', `Sold over a limit with a manager’s override: ${o.limits_override.reason || ''}`) : null,
    h('div', { class: 'profile-grid' },
      h('div', { class: 'col' }, panel('Items', null, items), panel('Status', null, timeline)),
      h('div', { class: 'col' }, panel('Totals', null, money), panel('Payments', null, payments), pts ? panel('Loyalty points', null, pts) : null)),
  ];
}

const ENTRY = { earn: 'Earned', redeem: 'Redeemed', adjust: 'Adjusted', expire: 'Expired', reverse: 'Taken back' };

function eventText(e, o) {
  const d = e.details || {};
  if (e.kind === 'return' || (Array.isArray(d.lines) && e.kind !== 'placed')) {
    const lines = (d.lines || []).map((r) => {
      const line = o.lines.find((l) => l.line_no === r.line_no);
      return `${r.quantity} × ${line ? line.name : 'line ' + r.line_no}`;
    });
    return `Returned ${lines.join(', ') || 'items'}${d.refund_cents ? `, refunded ${fmt.money(d.refund_cents)}` : ''}`;
  }
  if (!e.from_status) return `Placed (${fmt.orderStatus(e.to_status).toLowerCase()})`;
  return `${fmt.orderStatus(e.from_status)} → ${fmt.orderStatus(e.to_status)}`;
}

/** A button the server would refuse is shown disabled with the reason beside it. */
function actionButton(label, test, refusal, onclick) {
  const button = h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-test': test, disabled: Boolean(refusal), onclick }, label);
  return h('span', { class: 'action' }, button, refusal ? h('span', { class: 'hint action-why', 'data-test': `${test}-why` }, refusal) : null);
}

async function returnDialog(o, refresh) {
  await dialog(`Return items from order #${o.number}`, (close) => {
    const open = o.lines.filter((l) => l.quantity > l.returned_quantity);
    const form = h('form', { novalidate: true }, h('div', { class: 'form-error' }),
      open.map((l) => field({
        label: `${l.name} (${l.quantity - l.returned_quantity} can be returned)`, name: `qty-${l.line_no}`, type: 'number', value: '0',
        attrs: { min: '0', max: String(l.quantity - l.returned_quantity), step: '1' },
      })),
      field({ label: 'Reason', name: 'reason', required: true, attrs: { maxlength: '500' } }),
      h('p', { class: 'hint' }, 'Refunds what was paid for these units, gives back their purchase-limit allotment and takes back points in proportion.'),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-danger' }, 'Return')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = formValues(form);
      const lines = open.map((l) => ({ line_no: l.line_no, quantity: Number(v[`qty-${l.line_no}`] || 0) })).filter((l) => l.quantity > 0);
      if (!lines.length) return showError(form, { message: 'Choose how many of an item come back' });
      try {
        await post(`/orders/${enc(o.id)}/returns`, { lines, reason: v.reason || '' });
        close(true);
        toast('Return recorded');
        await refresh();
      } catch (err) { showError(form, err); }
    });
    return form;
  });
}

async function voidDialog(o, refresh) {
  await dialog(`Void order #${o.number}?`, (close) => {
    const form = h('form', { novalidate: true }, h('div', { class: 'form-error' }),
      h('p', {}, 'A void is for a sale made by mistake: it no longer counts toward purchase limits and its points are taken back.'),
      field({ label: 'Reason', name: 'reason', required: true, attrs: { maxlength: '500', 'data-autofocus': true } }),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-danger' }, icon('x'), 'Void sale')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = formValues(form);
      try {
        await post(`/orders/${enc(o.id)}/void`, { reason: v.reason || '' });
        close(true);
        toast('Sale voided', 'warn');
        await refresh();
      } catch (err) { showError(form, err); }
    });
    return form;
  });
}
