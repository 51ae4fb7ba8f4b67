// The register: one customer's sale from cart to receipt. Every decision on this screen is the
// server's: `POST /checkout/quote` is asked again whenever the cart changes and answers the limits
// meter, the prices with the group discount applied, the loyalty redemption and every reason the
// sale would be refused. Charging goes through `POST /checkout` with an idempotency key that stays
// the same until the cart changes, so a double click or a retry after a dropped connection places
// one order.

import { h, replace, icon, toast, announce } from '../dom.js';
import { get, post, optional, ApiError } from '../api.js';
import { badge, panel, spinner, emptyState, alertBox, humanise, missingCustomer } from '../components.js';
import { session, can, currentStore } from '../session.js';
import * as fmt from '../format.js';
import { meter } from './profile.js';

const enc = encodeURIComponent;
const QUOTE_DEBOUNCE_MS = 200;


/** A random key for `Idempotency-Key` (works outside secure contexts, unlike randomUUID). */
function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return 'reg-' + [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function view(ctx) {
  if (!session.storeId) {
    return h('section', { class: 'page narrow' }, h('h1', {}, 'Register'), emptyState('This server has no store set up yet, so nothing can be sold here.'));
  }
  if (!can('orders:write')) {
    return h('section', { class: 'page narrow' }, h('h1', {}, 'Register'), emptyState('Your role cannot make sales.'));
  }
  let customer;
  try {
    customer = await get(`/customers/${enc(ctx.params.id)}`);
  } catch (e) {
    if (e.status === 404) return missingCustomer();
    throw e;
  }
  const [catalogue, loyalty] = await Promise.all([
    optional(get('/products')).catch(() => null),
    optional(get(`/customers/${enc(customer.id)}/loyalty`)).catch(() => null),
  ]);
  const products = catalogue ? (catalogue.items || []) : [];
  return registerScreen(ctx, customer, products, loyalty);
}

function registerScreen(ctx, c, products, loyalty) {
  const state = {
    cart: [], // { product, quantity }
    redeem: 0,
    patientId: null,
    payments: [{ method: 'cash', amount: '' }],
    quote: null,
    key: newKey(),
    charging: false,
  };
  const page = h('section', { class: 'page register', 'data-test': 'register', dataset: { customerId: c.id } });
  const cartBox = h('div', { class: 'cart', 'data-test': 'cart' });
  const meters = h('div', { class: 'register-limits', 'data-test': 'register-limits' });
  const totals = h('div', { class: 'totals', 'data-test': 'totals' });
  const reasons = h('div', { class: 'reasons', 'data-test': 'refusals', 'aria-live': 'polite' });
  const payBox = h('div', { class: 'payments' });
  const chargeButton = h('button', { type: 'button', class: 'btn btn-primary btn-lg btn-block', 'data-test': 'charge', disabled: true }, icon('check'), 'Charge');
  const chargeNote = h('div', { class: 'hint', 'data-test': 'charge-note' });

  // Whenever the cart changes the old key must not be reused: it would replay the first order.
  const changed = () => { state.key = newKey(); drawCart(); requestQuote(); };

  // Catalogue search; Enter adds the exact SKU (a barcode scanner types the SKU and Enter).
  const search = h('input', {
    type: 'search', id: 'product-search', class: 'search-input search-sm', placeholder: 'Product name or scan its barcode',
    autocomplete: 'off', spellcheck: 'false', 'data-autofocus': true, 'aria-controls': 'product-results',
  });
  const results = h('ul', { id: 'product-results', class: 'product-results', 'data-test': 'product-results' });
  const matches = (q) => {
    const t = q.trim().toLowerCase();
    if (!t) return products.slice(0, 8);
    return products.filter((p) => p.sku.toLowerCase() === t || p.name.toLowerCase().includes(t) || p.sku.toLowerCase().startsWith(t)).slice(0, 8);
  };
  const add = (p) => {
    const line = state.cart.find((l) => l.product.id === p.id);
    if (line) line.quantity += 1;
    else state.cart.push({ product: p, quantity: 1 });
    announce(`${p.name} added`);
    changed();
  };
  const drawResults = () => {
    const found = matches(search.value);
    replace(results, found.length
      ? found.map((p) => h('li', {}, h('button', {
        type: 'button', class: 'product', 'data-test': 'product', dataset: { sku: p.sku },
        onclick: () => { add(p); search.focus(); },
      },
      h('span', { class: 'product-name' }, p.name),
      h('span', { class: 'product-meta muted' }, `${fmt.categoryTitle(p.category)} · ${fmt.measures(p)} · ${p.sku}`),
      h('span', { class: 'product-price' }, fmt.money(p.price_cents)))))
      : h('li', { class: 'empty' }, products.length ? 'No product matches.' : 'The catalogue is empty: add products under Admin or import them.'));
  };
  search.addEventListener('input', drawResults);
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const t = search.value.trim().toLowerCase();
    if (!t) return;
    const exact = products.find((p) => p.sku.toLowerCase() === t);
    const found = exact ? [exact] : matches(t);
    if (found.length === 1) {
      add(found[0]);
      search.value = '';
      drawResults();
    } else if (!found.length) {
      toast(`No product with barcode or name “${search.value.trim()}”`, 'warn');
      search.select();
    }
  });

  const drawCart = () => {
    if (!state.cart.length) {
      replace(cartBox, emptyState('The cart is empty. Search the catalogue or scan a product.'));
      return;
    }
    const priced = state.quote && state.quote.pricing ? state.quote.pricing.lines : null;
    replace(cartBox, h('table', { class: 'table cart-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col', class: 'num' }, 'Qty'), h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Remove')))),
      h('tbody', {}, state.cart.map((l, i) => {
        const linePrice = priced && priced[i];
        return h('tr', { 'data-test': 'cart-line' },
          h('td', {}, h('div', { class: 'strong' }, l.product.name), h('div', { class: 'muted small' }, `${fmt.categoryTitle(l.product.category)} · ${fmt.measures(l.product)}`)),
          h('td', { class: 'num' }, h('div', { class: 'qty' },
            h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `One fewer ${l.product.name}`, onclick: () => { l.quantity -= 1; if (l.quantity < 1) state.cart.splice(i, 1); changed(); } }, '−'),
            h('span', { class: 'qty-n', 'data-test': 'qty' }, String(l.quantity)),
            h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `One more ${l.product.name}`, 'data-test': 'qty-plus', onclick: () => { l.quantity += 1; changed(); } }, '+'))),
          h('td', { class: 'num' }, linePrice ? priceCell(linePrice) : fmt.money(l.product.price_cents * l.quantity)),
          h('td', {}, h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'aria-label': `Remove ${l.product.name}`, onclick: () => { state.cart.splice(i, 1); changed(); } }, icon('x'))));
      }))));
  };

  // Loyalty: the customer chooses how many points to spend; the server says whether they may.
  const redeemInput = h('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', id: 'redeem-points', value: '0', class: 'redeem-input', 'data-test': 'redeem-points' });
  redeemInput.addEventListener('input', () => {
    const n = Number(redeemInput.value);
    state.redeem = Number.isInteger(n) && n > 0 ? n : 0;
    state.key = newKey();
    requestQuote();
  });
  const loyaltyBox = loyalty
    ? h('div', { class: 'redeem' },
      h('label', { for: 'redeem-points' }, 'Points the customer wants to use'),
      h('div', { class: 'redeem-row' }, redeemInput,
        h('span', { class: 'muted' }, `of ${fmt.count(loyalty.available ?? loyalty.balance)} available (worth ${fmt.money(loyalty.available_value_cents)})`)))
    : null;

  // A caregiver buys for one of their patients: the patient's limits apply.
  let patientBox = null;
  if (c.customer_type === 'caregiver') {
    const patients = c.patients || [];
    const select = h('select', { id: 'patient', 'data-test': 'patient', required: true },
      h('option', { value: '' }, patients.length ? 'Choose the patient…' : 'No linked patients'),
      patients.map((p) => h('option', { value: p.id }, `${p.first_name} ${p.last_name}`)));
    select.addEventListener('change', () => { state.patientId = select.value || null; state.key = newKey(); requestQuote(); });
    patientBox = h('div', { class: 'field patient-field' }, h('label', { for: 'patient' }, 'Buying for'), select,
      h('div', { class: 'hint' }, 'The patient’s purchase limits apply to this sale.'));
  }

  const drawPayments = () => {
    const total = state.quote && state.quote.pricing ? state.quote.pricing.total_cents : null;
    replace(payBox, state.payments.map((p, i) => {
      const method = h('select', { 'aria-label': `Payment ${i + 1} method`, 'data-test': 'pay-method', onchange: (e) => { p.method = e.target.value; } },
        fmt.PAYMENT_METHODS.map(([v, t]) => h('option', { value: v, selected: p.method === v }, t)));
      const amount = h('input', {
        type: 'text', inputmode: 'decimal', 'aria-label': `Payment ${i + 1} amount`, 'data-test': 'pay-amount',
        value: p.amount, placeholder: total !== null && state.payments.length === 1 ? centsText(total) : '0.00',
        oninput: (e) => { p.amount = e.target.value; },
      });
      return h('div', { class: 'pay-row' }, method, amount,
        state.payments.length > 1 ? h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'aria-label': 'Remove this payment', onclick: () => { state.payments.splice(i, 1); drawPayments(); } }, icon('x')) : null);
    }), h('button', { type: 'button', class: 'btn btn-sm', onclick: () => { state.payments.push({ method: 'debit', amount: '' }); drawPayments(); } }, icon('plus'), 'Split payment'));
  };

  let timer = null;
  let seq = 0;
  const body = () => {
    const out = {
      customer_id: c.id,
      store_id: session.storeId,
      lines: state.cart.map((l) => ({ sku: l.product.sku, quantity: l.quantity })),
    };
    if (state.redeem > 0) out.loyalty_redeem_points = state.redeem;
    if (state.patientId) out.patient_id = state.patientId;
    return out;
  };
  const requestQuote = () => {
    clearTimeout(timer);
    timer = setTimeout(runQuote, QUOTE_DEBOUNCE_MS);
  };
  const runQuote = async () => {
    const mine = ++seq;
    let quote;
    try {
      quote = await post('/checkout/quote', body());
    } catch (e) {
      if (mine !== seq || !ctx.isCurrent()) return;
      state.quote = null;
      replace(reasons, alertBox('error', humanise(e)));
      updateCharge();
      return;
    }
    if (mine !== seq || !ctx.isCurrent()) return;
    state.quote = quote;
    drawQuote();
  };

  const drawQuote = () => {
    const q = state.quote;
    drawCart();
    drawPayments();
    const outcomes = (q.limits && q.limits.outcomes) || [];
    replace(meters, outcomes.length
      ? h('div', { class: 'meters' }, outcomes.map((o) => meter(o, { cart: true })))
      : emptyState('No purchase limits apply to this customer here.'));
    const p = q.pricing || {};
    const discount = (p.discounts || [])[0];
    replace(totals, h('dl', { class: 'sum' },
      h('dt', {}, 'Subtotal'), h('dd', {}, fmt.money(p.subtotal_cents)),
      discount ? [h('dt', { 'data-test': 'discount-name' }, `${discount.label}${discount.group_name && !discount.label.includes(discount.group_name) ? ` (${discount.group_name})` : ''}`), h('dd', {}, `−${fmt.money(p.discount_cents)}`)] : null,
      p.loyalty_cents ? [h('dt', {}, `${fmt.count(q.loyalty_points || state.redeem)} points`), h('dd', {}, `−${fmt.money(p.loyalty_cents)}`)] : null,
      h('dt', { class: 'total' }, 'Total'), h('dd', { class: 'total', 'data-test': 'total' }, fmt.money(p.total_cents))));
    const list = q.reasons || [];
    replace(reasons, list.length
      ? h('div', { class: 'banner banner-danger', role: 'alert' }, icon('ban'),
        h('div', {}, h('strong', {}, q.limits && q.limits.verdict === 'override_required' ? 'Over a limit: a manager must approve' : 'This sale cannot go through'),
          h('ul', { class: 'reason-list' }, list.map((r) => h('li', { dataset: { code: r.code } }, r.message)))))
      : null);
    updateCharge();
  };

  const updateCharge = () => {
    const q = state.quote;
    let why = null;
    if (!state.cart.length) why = 'Add an item to start the sale.';
    else if (!q) why = 'Checking the sale…';
    else if (!q.allowed) why = 'Resolve the reasons above before charging.';
    chargeButton.disabled = Boolean(why) || state.charging;
    replace(chargeNote, why || (q ? `Charges ${fmt.money(q.pricing.total_cents)}` : ''));
  };

  chargeButton.addEventListener('click', async () => {
    if (state.charging) return;
    state.charging = true;
    updateCharge();
    const payload = body();
    const total = state.quote.pricing.total_cents;
    const payments = [];
    for (const p of state.payments) {
      const cents = p.amount ? parseCents(p.amount) : (state.payments.length === 1 ? total : null);
      if (cents === null) {
        toast('Enter each payment as an amount in dollars, e.g. 42.50', 'error');
        state.charging = false;
        updateCharge();
        return;
      }
      payments.push({ method: p.method, amount_cents: cents });
    }
    payload.payments = payments;
    replace(chargeNote, spinner('Charging'));
    try {
      const receipt = await post('/checkout', payload, { headers: { 'Idempotency-Key': state.key } });
      if (!ctx.isCurrent()) return;
      announce(`Order ${receipt.order.number} placed`);
      replace(page, receiptScreen(ctx, c, receipt));
    } catch (e) {
      state.charging = false;
      if (e instanceof ApiError && e.code === 'checkout_refused' && Array.isArray(e.detail.reasons)) {
        state.quote = { ...(state.quote || {}), allowed: false, reasons: e.detail.reasons };
        drawQuote();
      } else {
        replace(reasons, alertBox('error', humanise(e)));
        updateCharge();
      }
    }
  });

  replace(page,
    customerHeader(c, loyalty),
    h('div', { class: 'register-grid' },
      h('div', { class: 'col' },
        panel('Add items', { 'data-test': 'catalogue' },
          h('label', { for: 'product-search', class: 'visually-hidden' }, 'Search the catalogue'),
          search, results),
        panel('Cart', null, cartBox)),
      h('div', { class: 'col' },
        panel('Purchase limits with this cart', { 'data-test': 'register-limits-panel' }, meters),
        panel('Payment', { class: 'panel pay-panel' }, patientBox, reasons, totals, loyaltyBox, payBox, chargeButton, chargeNote))));
  drawResults();
  drawCart();
  drawPayments();
  requestQuote();
  return page;
}

function customerHeader(c, loyalty) {
  const e = c.eligibility || {};
  const ver = c.verification ? c.verification.status : 'unverified';
  return h('header', { class: 'register-head card', 'data-test': 'register-customer' },
    h('div', { class: 'avatar avatar-lg', 'aria-hidden': 'true' }, fmt.initials(c)),
    h('div', { class: 'profile-id' },
      h('h1', { class: 'profile-name' }, h('a', { href: `/app/customers/${enc(c.id)}`, 'data-link': true }, fmt.fullName(c))),
      h('div', { class: 'profile-status' },
        badge(fmt.customerType(c.customer_type), c.customer_type === 'adult_use' ? 'neutral' : 'info'),
        badge(ver === 'verified' ? 'ID verified' : ver === 'expired' ? 'ID expired' : 'ID not verified', ver === 'verified' ? 'ok' : ver === 'expired' ? 'danger' : 'warn', ver === 'verified' ? 'check' : 'warn'),
        e.age !== undefined && e.age !== null ? badge(`Age ${e.age}`, 'neutral') : null,
        e.eligible ? badge('Compliant', 'ok', 'check') : badge('Not compliant', 'danger', 'warn'),
        c.banned ? badge(c.ban && c.ban.reason ? `Banned: ${c.ban.reason}` : 'Banned', 'danger', 'ban') : null,
        loyalty ? badge(`${fmt.count(loyalty.balance)} points`, 'info', 'star') : null,
        (c.groups || []).map((g) => badge(g.name, 'ok')))));
}

/** A quote line's price: what it costs after discount and points, with the list price struck. */
function priceCell(lp) {
  const paid = lp.total_cents ?? lp.subtotal_cents;
  if (lp.subtotal_cents !== undefined && paid !== lp.subtotal_cents) {
    return h('span', {}, h('s', { class: 'muted' }, fmt.money(lp.subtotal_cents)), ' ', fmt.money(paid));
  }
  return fmt.money(paid);
}

/** "42.5" → 4250; null when it is not an amount (exact: no floating point). */
function parseCents(text) {
  const m = /^\$?\s*(\d+)(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  return m ? Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0')) : null;
}

function centsText(cents) {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

// Receipt ------------------------------------------------------------------------------------------

function receiptScreen(ctx, c, r) {
  const o = r.order;
  const store = currentStore();
  const l = r.loyalty || {};
  const receipt = h('article', { class: 'receipt', 'data-test': 'receipt', 'aria-label': `Receipt for order ${o.number}` },
    h('header', { class: 'receipt-head' },
      h('div', { class: 'receipt-store' }, store ? store.name : 'Canopy'),
      h('div', {}, `Order #${o.number}`),
      h('div', {}, fmt.dateTime(o.placed_at)),
      h('div', {}, `Served by ${o.staff}`),
      h('div', {}, `Customer: ${c.display_name}`)),
    h('table', { class: 'receipt-lines' },
      h('tbody', {}, o.lines.map((line) => [
        h('tr', {}, h('td', {}, `${line.quantity} × ${line.name}`), h('td', { class: 'num' }, fmt.money(line.subtotal_cents))),
        line.discount_cents ? h('tr', { class: 'receipt-sub' }, h('td', {}, 'discount'), h('td', { class: 'num' }, `−${fmt.money(line.discount_cents)}`)) : null,
      ]))),
    h('dl', { class: 'receipt-sum' },
      h('dt', {}, 'Subtotal'), h('dd', {}, fmt.money(o.subtotal_cents)),
      (o.discounts || []).map((d) => [h('dt', {}, d.label), h('dd', {}, `−${fmt.money(d.amount_cents ?? o.discount_cents)}`)]),
      o.loyalty_redeemed_cents ? [h('dt', {}, `${fmt.count(l.redeemed_points)} points`), h('dd', {}, `−${fmt.money(o.loyalty_redeemed_cents)}`)] : null,
      h('dt', { class: 'total' }, 'Total'), h('dd', { class: 'total', 'data-test': 'receipt-total' }, fmt.money(o.total_cents)),
      (o.payments || []).map((p) => [h('dt', {}, fmt.paymentMethod(p.method)), h('dd', {}, fmt.money(p.amount_cents))])),
    l.earned_points ? h('p', { class: 'receipt-points' }, `You earned ${fmt.count(l.earned_points)} points${l.earned_available_at ? `, yours to spend from ${fmt.dateTime(l.earned_available_at)}` : ''}.`) : null,
    h('p', { class: 'receipt-foot' }, 'Thank you. Keep this receipt for returns.'));
  return [
    h('div', { class: 'banner banner-ok no-print', role: 'status', 'data-test': 'sale-done' }, icon('check'),
      h('div', {}, h('strong', {}, `Order #${o.number} placed`), h('span', {}, `${fmt.money(o.total_cents)} · ${c.display_name}`))),
    h('div', { class: 'row-start no-print' },
      h('button', { type: 'button', class: 'btn btn-primary', 'data-test': 'print', onclick: () => window.print() }, 'Print receipt'),
      h('a', { class: 'btn', href: `/app/customers/${enc(c.id)}`, 'data-link': true }, 'Back to the profile'),
      can('orders:history') ? h('a', { class: 'btn', href: `/app/orders/${enc(o.id)}`, 'data-link': true }, 'Order detail') : null,
      h('a', { class: 'btn', href: '/app/lookup', 'data-link': true }, 'Next customer')),
    receipt,
  ];
}
