// A profile's merges (with undo) and its possible duplicates: `/app/customers/:id/merges`.

import { h, replace, toast } from '../dom.js';
import { get, post, optional, qs } from '../api.js';
import { badge, panel, emptyState, alertBox, humanise, missingCustomer } from '../components.js';
import { can } from '../session.js';
import * as fmt from '../format.js';
import { profileLine } from './duplicates.js';

const enc = encodeURIComponent;

export async function view(ctx) {
  const id = ctx.params.id;
  let customer, merges, duplicates;
  try {
    [customer, merges, duplicates] = await Promise.all([
      get(`/customers/${enc(id)}`),
      get(`/customers/${enc(id)}/merges`),
      optional(get(`/customers/${enc(id)}/duplicates`)),
    ]);
  } catch (e) {
    if (e.status === 404) return missingCustomer();
    throw e;
  }
  const error = h('div', {});
  const mergeRow = (m) => {
    const survivor = m.survivor_id === customer.id;
    const other = survivor ? m.merged_before : m.survivor_after;
    const undo = m.undoable && can('customers:merge')
      ? h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-outline', 'data-test': 'undo-merge',
        onclick: async () => {
          try {
            await post(`/merges/${enc(m.id)}/undo`);
            toast('Merge undone');
            ctx.navigate(location.pathname);
          } catch (e) {
            replace(error, alertBox('error', humanise(e)));
          }
        },
      }, 'Undo merge')
      : null;
    return h('tr', { 'data-test': 'merge-row' },
      h('td', {}, fmt.dateTime(m.merged_at), h('div', { class: 'muted' }, m.merged_by)),
      h('td', {}, survivor ? 'Merged in: ' : 'Merged into: ', `${other.first_name} ${other.last_name}`),
      h('td', {}, Object.entries(m.counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', ') || '—'),
      h('td', {}, m.undone_at ? badge(`Undone ${fmt.dateTime(m.undone_at)}`, 'info') : undo));
  };
  const dupRow = (d) => h('tr', { 'data-test': 'duplicate-candidate' },
    h('td', {}, profileLine(d.customer)),
    h('td', {}, badge(d.level === 'likely' ? 'Likely' : 'Possible', d.level === 'likely' ? 'warn' : 'info'), ' ', d.explanation),
    h('td', { class: 'row-actions' }, can('customers:merge') && !customer.merged_into
      ? h('a', { class: 'btn btn-sm', 'data-link': true, href: `/app/merge${qs({ survivor: customer.id, merged: d.customer.id })}` }, 'Compare and merge')
      : null));
  return h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, `Merges and duplicates: ${customer.display_name}`),
      h('a', { class: 'btn', href: `/app/customers/${enc(id)}`, 'data-link': true }, 'Back to profile')),
    customer.merged_into
      ? alertBox('warn', 'This profile was merged into ', h('a', { href: `/app/customers/${enc(customer.merged_into)}`, 'data-link': true }, 'another profile'), '.')
      : null,
    error,
    panel('Merge history', {},
      merges.items.length
        ? h('table', { class: 'table' }, h('tbody', {}, merges.items.map(mergeRow)))
        : emptyState('No merges.')),
    duplicates
      ? panel('Possible duplicates', {},
        duplicates.items.length
          ? h('table', { class: 'table' }, h('tbody', {}, duplicates.items.map(dupRow)))
          : emptyState('No likely or possible duplicates.'))
      : null);
}
