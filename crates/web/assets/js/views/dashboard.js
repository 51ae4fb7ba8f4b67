// Dashboard: customers, groups, orders today, checked in now.

import { h } from '../dom.js';
import { get, optional, qs } from '../api.js';
import { tile, emptyState } from '../components.js';
import { session, currentStore } from '../session.js';
import { queueList } from './queue.js';
import { panel } from '../components.js';
import * as fmt from '../format.js';

export async function view(ctx) {
  const store = currentStore();
  const body = await optional(get('/dashboard' + qs({ store: session.storeId })));
  const head = h('div', { class: 'page-head' },
    h('h1', { class: 'page-title' }, 'Dashboard'),
    store ? h('span', { class: 'muted' }, store.name) : null);
  if (!body) {
    return h('section', { class: 'page' }, head, emptyState('The dashboard is not available on this server yet.'));
  }
  const pick = (...keys) => {
    for (const k of keys) if (body[k] !== undefined && body[k] !== null) return body[k];
    return null;
  };
  const orders = pick('orders_today', 'orders_today_count');
  const sales = pick('sales_today_cents', 'revenue_today_cents');
  return h('section', { class: 'page' }, head,
    h('div', { class: 'tiles tiles-dash' },
      tile({ label: 'Customers', value: fmt.count(pick('customers', 'customer_count')), test: 'dash-customers' }),
      tile({ label: 'Groups', value: fmt.count(pick('groups', 'group_count')), test: 'dash-groups' }),
      tile({ label: 'Orders today', value: fmt.count(orders && typeof orders === 'object' ? orders.count : orders), sub: sales !== null ? fmt.money(sales) : null, test: 'dash-orders' }),
      tile({ label: 'Checked in now', value: fmt.count(pick('checked_in_now', 'checked_in', 'queue_length')), kind: 'accent', test: 'dash-checked-in' })),
    store ? panel('Waiting now', { class: 'panel dash-queue' }, queueList(store.id, ctx)) : null);
}
