// The customer list for managers: filters (group, type, banned, ID expiring soon, lapsed buyers, where the
// profile came from), paging with an honest count, and the filtered list as CSV.

import { h, replace } from '../dom.js';
import { get, optional, qs } from '../api.js';
import { badge, emptyState, field, humanise, spinner } from '../components.js';
import { can } from '../session.js';
import * as fmt from '../format.js';
import { verificationBadge } from './lookup.js';

const PAGE = 50;
const enc = encodeURIComponent;

export async function view(ctx) {
  if (!can('customers:ban')) {
    return h('section', { class: 'page narrow' }, h('h1', {}, 'Customers'), emptyState('The customer list is for managers. Use lookup to find a customer.'));
  }
  const groups = await optional(get('/groups')).catch(() => null);
  const groupOptions = [['', 'Any group'], ...((groups && groups.items) || []).map((g) => [g.id, g.name])];
  const q = ctx.query;
  const form = h('form', { class: 'filters filters-wide', role: 'search', 'data-test': 'customer-filters' },
    field({ label: 'Group', name: 'group', value: q.get('group') || '', options: groupOptions }),
    field({ label: 'Customer type', name: 'customer_type', value: q.get('customer_type') || '', options: [['', 'Any type'], ['adult_use', 'Adult use'], ['medical', 'Medical'], ['caregiver', 'Caregiver']] }),
    field({ label: 'Ban', name: 'banned', value: q.get('banned') || '', options: [['', 'Banned or not'], ['true', 'Banned now'], ['false', 'Not banned']] }),
    field({ label: 'ID expires within (days)', name: 'id_expiring_within_days', type: 'number', value: q.get('id_expiring_within_days') || '', attrs: { min: '0', max: '3650', step: '1' } }),
    can('orders:history') ? field({ label: 'Last purchase before', name: 'last_purchase_before', type: 'date', value: q.get('last_purchase_before') || '' }) : null,
    field({ label: 'Created at', name: 'created_channel', value: q.get('created_channel') || '', options: [['', 'Anywhere'], ['pos', 'Register'], ['online', 'Online store'], ['back_office', 'Back office'], ['import', 'Import']] }),
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Show'),
      h('a', { class: 'btn', href: '#', 'data-test': 'export-csv', download: 'customers.csv' }, 'Export CSV')));
  const count = h('div', { class: 'results-status', role: 'status', 'data-test': 'customer-count' });
  const body = h('div', {}, spinner());
  const pager = h('div', { class: 'row-start pager' });
  // Cursors of the pages seen so far, so "Previous" goes back without recounting.
  let cursors = [null];
  let pageIndex = 0;

  const filters = () => {
    const out = {};
    for (const el of form.elements) if (el.name && el.value !== '') out[el.name] = el.value;
    return out;
  };
  const exportLink = form.querySelector('[data-test=export-csv]');
  const load = async () => {
    const f = filters();
    exportLink.href = '/api/v1/exports/customers' + qs(f);
    history.replaceState({}, '', '/app/customers' + qs(f));
    replace(body, spinner());
    let page;
    try {
      page = await get('/customers' + qs({ ...f, limit: PAGE, cursor: cursors[pageIndex] }));
    } catch (e) {
      replace(body, h('p', { class: 'text-error', role: 'alert' }, humanise(e)));
      return;
    }
    if (!ctx.isCurrent()) return;
    const list = page.items || [];
    const first = pageIndex * PAGE + (list.length ? 1 : 0);
    const last = pageIndex * PAGE + list.length;
    count.textContent = page.total !== undefined
      ? `${fmt.count(page.total)} ${page.total === 1 ? 'customer' : 'customers'}${page.total > list.length ? ` · showing ${first}–${last}` : ''}`
      : `${list.length} shown`;
    if (page.next_cursor) cursors[pageIndex + 1] = page.next_cursor;
    replace(body, list.length
      ? h('table', { class: 'table', 'data-test': 'customer-list' },
        h('thead', {}, h('tr', {}, ['Name', 'Phone', 'Type', 'ID', 'Since', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, list.map((c) => h('tr', {},
          h('td', {}, h('a', { href: `/app/customers/${enc(c.id)}`, 'data-link': true }, fmt.fullName(c)),
            c.banned && c.ban ? h('div', { class: 'result-ban' }, `Banned: ${c.ban.reason}`) : null),
          h('td', {}, fmt.phone(c.phone)),
          h('td', {}, fmt.customerType(c.customer_type)),
          h('td', {}, verificationBadge(c), c.id_document && c.id_document.expiry ? h('div', { class: 'muted small' }, `expires ${fmt.date(c.id_document.expiry)}`) : null),
          h('td', {}, fmt.date(String(c.created_at).slice(0, 10))),
          h('td', {}, c.eligibility && c.eligibility.eligible ? badge('Compliant', 'ok') : badge('Not compliant', 'warn'))))))
      : emptyState('No customer matches these filters.'));
    replace(pager,
      h('button', { type: 'button', class: 'btn btn-sm', disabled: pageIndex === 0, onclick: () => { pageIndex -= 1; load(); } }, 'Previous'),
      h('button', { type: 'button', class: 'btn btn-sm', 'data-test': 'next-page', disabled: !page.next_cursor, onclick: () => { pageIndex += 1; load(); } }, 'Next'));
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    cursors = [null];
    pageIndex = 0;
    load();
  });
  load();
  return h('section', { class: 'page customers' },
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, 'Customers')),
    form, count, body, pager);
}
