// Privacy controls on the profile: the retention state on the ID panel, and the right-to-know export and
// right-to-delete erasure for the roles allowed them (`privacy:export`, `privacy:erase`). The server
// decides everything; this module only shows what it says.

import { h, replace, toast } from '../dom.js';
import { get, post, optional } from '../api.js';
import { dialog, field, showError, humanise, formValues } from '../components.js';
import { can } from '../session.js';
import * as fmt from '../format.js';

const enc = encodeURIComponent;

/** A slot for the ID panel that fills with when the ID image and document number are purged. */
export function retentionSlot(c) {
  const slot = h('div', { class: 'retention', 'data-test': 'retention' });
  optional(get(`/customers/${enc(c.id)}/retention`)).then((r) => {
    if (!r) return;
    const day = (at) => fmt.date(String(at).slice(0, 10));
    const lines = r.erased_at
      ? [h('p', { class: 'text-error', 'data-test': 'erased' }, `Personal data erased on ${day(r.erased_at)}.`)]
      : [
        h('p', { 'data-test': 'retention-image' }, r.id_image_purge_at
          ? `ID image: deleted on ${day(r.id_image_purge_at)} (kept ${r.id_image_retain_days} days).`
          : 'ID image: none on file.'),
        h('p', { 'data-test': 'retention-scan' }, r.document_number_purge_at
          ? `ID number from the scan: removed on ${day(r.document_number_purge_at)} (kept ${r.scan_retain_days} days).`
          : 'ID number from a scan: none kept.'),
        h('p', { class: 'hint' }, `Under the ${r.policy} data policy.${r.permission_to_retain_required ? ' The customer’s permission is needed to keep more than a sale requires.' : ''}`),
      ];
    replace(slot, h('h3', { class: 'subhead' }, 'Retention'), ...lines);
  }).catch(() => {});
  return slot;
}

/** Export and Erase buttons for the profile's action row (none when the caller may use neither). */
export function privacyActions(c, refresh) {
  const out = [];
  if (can('privacy:export')) {
    out.push(h('button', {
      type: 'button', class: 'btn', 'data-test': 'privacy-export',
      onclick: async () => {
        try {
          const doc = await get(`/customers/${enc(c.id)}/privacy-export`);
          const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
          const a = h('a', { href: url, download: `customer-${c.id}-privacy-export.json` });
          document.body.append(a);
          a.click();
          a.remove();
          URL.revokeObjectURL(url);
          toast('Export downloaded; the request is logged');
        } catch (e) { toast(humanise(e), 'error'); }
      },
    }, 'Export data'));
  }
  if (can('privacy:erase')) {
    out.push(h('button', {
      type: 'button', class: 'btn btn-danger-outline', 'data-test': 'privacy-erase',
      onclick: async () => {
        await dialog(`Erase ${c.display_name}'s personal data?`, (close) => {
          const form = h('form', { novalidate: true },
            h('p', { class: 'muted' }, 'Name, contact details, birth date, addresses, ID data, notes and the medical card are removed for good. Sales records stay without the identity. This cannot be undone.'),
            h('div', { class: 'form-error', 'data-test': 'erase-refusal' }),
            field({ label: 'Reason', name: 'reason', required: true, hint: 'The request: when and how the customer asked', attrs: { 'data-autofocus': true, maxlength: '500' } }),
            h('div', { class: 'dialog-actions' },
              h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
              h('button', { type: 'submit', class: 'btn btn-danger' }, 'Erase')));
          form.addEventListener('submit', async (e) => {
            e.preventDefault();
            const v = formValues(form);
            if (!v.reason) return showError(form, { field: 'reason', message: 'Give the reason for the erasure' });
            try {
              await post(`/customers/${enc(c.id)}/erasure`, { reason: v.reason });
              close(true);
              toast('Personal data erased');
              await refresh();
            } catch (err) { showError(form, err); }
          });
          return form;
        });
      },
    }, 'Erase data'));
  }
  return out;
}
