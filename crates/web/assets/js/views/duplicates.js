// Duplicates: the review list managers work through, and the intake warning shown when a new profile
// looks like one already on file.

import { h, replace, toast } from '../dom.js';
import { get, post, qs } from '../api.js';
import { badge, spinner, emptyState, alertBox, humanise } from '../components.js';
import * as fmt from '../format.js';

const enc = encodeURIComponent;

/** One profile in a duplicate list: who it is, in the facts staff compare. */
export function profileLine(p) {
  return h('div', { class: 'dup-profile' },
    h('a', { href: `/app/customers/${enc(p.id)}`, 'data-link': true }, `${p.first_name} ${p.last_name}`),
    h('div', { class: 'muted' }, [
      p.date_of_birth ? `born ${fmt.date(p.date_of_birth)}` : null,
      p.phone ? fmt.phone(p.phone) : null,
      p.email,
      p.id_number ? `ID ${p.id_number}` : null,
    ].filter(Boolean).join(' · ')));
}

function level(l) {
  return l === 'likely' ? badge('Likely', 'warn') : badge('Possible', 'info');
}

/**
 * The intake warning: the likely duplicates with why, and the two ways on: open the existing profile, or
 * confirm a different person (`onDifferent`, which creates the profile and records the decision).
 */
export function intakeWarning(candidates, onDifferent) {
  return h('div', { class: 'alert alert-warn dup-warning', role: 'alert', 'data-test': 'likely-duplicate' },
    h('strong', {}, 'This may be a customer already on file.'),
    h('ul', { class: 'plain' }, candidates.map((c) => h('li', { class: 'dup-candidate' },
      profileLine(c.customer),
      h('div', {}, level(c.level), ' ', c.explanation),
      h('a', { class: 'btn btn-sm', href: `/app/customers/${enc(c.customer.id)}`, 'data-link': true, 'data-test': 'open-existing' }, 'Open existing')))),
    h('button', { type: 'button', class: 'btn btn-sm', 'data-test': 'different-person', onclick: onDifferent }, 'Different person: create anyway'));
}

/** `/app/duplicates`: pairs the scan found, best first, a page at a time. */
export async function view(ctx) {
  const list = h('div', {}, spinner());
  const page = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, 'Possible duplicates')),
    h('p', { class: 'muted' }, 'Pairs found by the duplicates scan (canopy duplicates scan). Compare, then merge or mark as different people.'),
    list);
  const cursor = ctx.query.get('cursor');
  const data = await get('/duplicates' + qs({ limit: 25, cursor }));
  if (!data.items.length) {
    replace(list, emptyState('No possible duplicates to review.'));
    return page;
  }
  const rows = data.items.map((p) => {
    const row = h('tr', { 'data-test': 'duplicate-pair' },
      h('td', {}, profileLine(p.a)),
      h('td', {}, profileLine(p.b)),
      h('td', {}, level(p.level), h('div', { class: 'muted' }, `${p.score} · ${p.explanation}`)),
      h('td', { class: 'row-actions' },
        h('a', { class: 'btn btn-sm btn-primary', 'data-link': true, href: `/app/merge${qs({ survivor: p.a.id, merged: p.b.id })}` }, 'Compare and merge'),
        h('button', {
          type: 'button', class: 'btn btn-sm', 'data-test': 'dismiss',
          onclick: async () => {
            try {
              await post('/duplicates/dismissals', { customer_ids: [p.a.id, p.b.id] });
              row.remove();
              toast('Marked as different people');
            } catch (e) {
              toast(humanise(e), 'error');
            }
          },
        }, 'Different people')));
    return row;
  });
  replace(list,
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Profile'), h('th', {}, 'Profile'), h('th', {}, 'Why'), h('th', {}))),
      h('tbody', {}, rows)),
    data.next_cursor
      ? h('a', { class: 'btn', 'data-link': true, href: `/app/duplicates${qs({ cursor: data.next_cursor })}` }, 'Next page')
      : null,
    alertBox('info', 'Merges can be undone from either profile\'s merge history.'));
  return page;
}
