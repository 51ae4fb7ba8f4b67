// The merge screen: two profiles side by side, a choice per field, a preview of what will move, then the
// merge. Everything here is decided by the API; the screen only shows it.

import { h, replace, toast } from '../dom.js';
import { get, post } from '../api.js';
import { alertBox, humanise } from '../components.js';
import * as fmt from '../format.js';

const enc = encodeURIComponent;

const FIELDS = [
  ['name', 'Name', (c) => [c.first_name, c.middle_name, c.last_name].filter(Boolean).join(' ')],
  ['phone', 'Phone', (c) => (c.phone ? fmt.phone(c.phone) : '')],
  ['email', 'Email', (c) => c.email || ''],
  ['date_of_birth', 'Date of birth', (c) => (c.date_of_birth ? fmt.date(c.date_of_birth) : '')],
  ['customer_type', 'Customer type', (c) => fmt.customerType(c.customer_type)],
  ['id_document', 'ID document', (c) => (c.id_document ? `${c.id_document.number} ${c.id_document.jurisdiction || ''}` : '')],
  ['addresses', 'Addresses', (c) => (c.addresses || []).map((a) => `${a.line1}, ${a.city}`).join('; ')],
];

const MOVES = [
  ['orders', 'orders'], ['patient_orders', 'orders as a patient'], ['notes', 'notes'], ['groups', 'groups'],
  ['verifications', 'ID verifications'], ['medical_card', 'medical card'], ['caregiver_links', 'caregiver links'],
  ['checkins', 'check-ins'], ['sms', 'texts'], ['consent', 'consent revocations'], ['loyalty_points', 'points'],
  ['ban', 'ban'],
];

/** `/app/merge?survivor=…&merged=…` */
export async function view(ctx) {
  let survivorId = ctx.query.get('survivor');
  let mergedId = ctx.query.get('merged');
  const [a, b] = await Promise.all([get(`/customers/${enc(survivorId)}`), get(`/customers/${enc(mergedId)}`)]);
  const people = { [a.id]: a, [b.id]: b };
  const choices = {};
  // The survivor as the server says it will be: a chosen side that is empty keeps the other's value.
  let after = null;
  const preview = h('div', { 'data-test': 'merge-preview' });
  const error = h('div', {});
  const table = h('table', { class: 'table merge-table' });

  // The preview answers with every field's source (the manager's choice, else the newest verified
  // profile's), so the radios always show what the merge will do.
  const refresh = async () => {
    replace(error);
    try {
      const m = await post('/merges/preview', { survivor_id: survivorId, merged_id: mergedId, fields: choices });
      Object.assign(choices, m.fields);
      after = m.survivor_after || null;
      drawTable();
      const moving = MOVES.filter(([k]) => m.counts[k]).map(([k, label]) => `${m.counts[k]} ${label}`);
      replace(preview, alertBox('info', h('strong', {}, 'Will move to the surviving profile: '),
        moving.length ? moving.join(', ') : 'nothing but the profile itself', '.'));
    } catch (e) {
      after = null;
      drawTable();
      replace(preview);
      replace(error, alertBox('error', humanise(e)));
    }
  };

  const drawTable = () => {
    const s = people[survivorId];
    const m = people[mergedId];
    replace(table,
      h('thead', {}, h('tr', {}, h('th', {}, 'Field'),
        h('th', {}, 'Keeps (survivor) ', h('a', { href: `/app/customers/${enc(s.id)}`, 'data-link': true }, s.display_name)),
        h('th', {}, 'Merged away ', h('a', { href: `/app/customers/${enc(m.id)}`, 'data-link': true }, m.display_name)),
        h('th', {}, 'After the merge'))),
      h('tbody', {}, FIELDS.map(([key, label, show]) => {
        const radio = (source, value) => h('label', { class: 'check' },
          h('input', {
            type: 'radio', name: `field-${key}`, value: source, 'data-test': `choose-${key}-${source}`,
            checked: choices[key] === source,
            onchange: () => { choices[key] = source; refresh(); },
          }), ' ', value || h('span', { class: 'muted' }, '—'));
        const result = after ? show(after) : null;
        // The labels head each value when a phone stacks the columns.
        return h('tr', {}, h('th', {}, label),
          h('td', { 'data-label': `Keeps: ${s.display_name}` }, radio('survivor', show(s))),
          h('td', { 'data-label': `Merged away: ${m.display_name}` }, radio('merged', show(m)),
            key === 'addresses' ? radio('both', 'both') : null),
          h('td', { class: 'merge-after', 'data-label': 'After the merge', 'data-test': `after-${key}` }, after ? (result || h('span', { class: 'muted' }, '—')) : null));
      })));
  };

  const swap = h('button', {
    type: 'button', class: 'btn btn-sm',
    onclick: () => {
      [survivorId, mergedId] = [mergedId, survivorId];
      for (const k of Object.keys(choices)) delete choices[k];
      refresh();
    },
  }, 'Keep the other profile instead');
  const go = h('button', {
    type: 'button', class: 'btn btn-primary', 'data-test': 'merge',
    onclick: async () => {
      go.disabled = true;
      try {
        const m = await post('/merges', { survivor_id: survivorId, merged_id: mergedId, fields: choices });
        toast('Profiles merged. The merge can be undone from the profile\'s merge history.');
        ctx.navigate(`/app/customers/${enc(m.survivor_id)}/merges`);
      } catch (e) {
        go.disabled = false;
        replace(error, alertBox('error', humanise(e)));
      }
    },
  }, 'Merge');
  await refresh();
  return h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, 'Merge two profiles')),
    h('p', { class: 'muted' }, 'Pick the value the surviving profile keeps for each field. Orders, points, notes, groups and the rest move to it; the other profile stays readable and points to it.'),
    h('div', { class: 'table-scroll' }, table), preview, error,
    h('div', { class: 'form-actions' }, swap, go));
}
