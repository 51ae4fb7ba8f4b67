// New and edit customer. The API answers every invalid field of a submit at once; each is shown beside
// its input.

import { h, toast, icon } from '../dom.js';
import { get, post, patch } from '../api.js';
import { field, showError, clearErrors, alertBox, dialog, missingCustomer } from '../components.js';
import * as fmt from '../format.js';
import { sentence } from './profile.js';
import { handoff } from '../handoff.js';
import { intakeWarning } from './duplicates.js';

const enc = encodeURIComponent;

const TYPES = [['adult_use', 'Adult use'], ['medical', 'Medical patient'], ['caregiver', 'Caregiver']];
const KINDS = [['drivers_license', "Driver's licence"], ['state_id', 'State ID'], ['passport', 'Passport'], ['military_id', 'Military ID'], ['tribal_id', 'Tribal ID'], ['other', 'Other']];

export async function view(ctx) {
  const editing = Boolean(ctx.params.id);
  let c = {};
  let fromScan = false;
  let scanned = null;
  if (editing) {
    try {
      c = await get(`/customers/${enc(ctx.params.id)}`);
    } catch (e) {
      if (e.status === 404) return missingCustomer();
      throw e;
    }
  } else if (handoff.prefill && ctx.query.get('from') === 'scan') {
    c = handoff.prefill;
    handoff.prefill = null;
    fromScan = true;
    scanned = handoff.scanNotice && handoff.scanNotice.result;
    handoff.scanNotice = null;
  } else {
    for (const k of ['first_name', 'last_name', 'phone', 'email']) if (ctx.query.get(k)) c[k] = ctx.query.get(k);
  }
  const doc = c.id_document || {};
  const addr = (c.addresses && c.addresses[0]) || {};
  const form = h('form', { class: 'customer-form card', novalidate: true },
    h('div', { class: 'form-error' }),
    h('fieldset', {},
      h('legend', {}, 'Name'),
      h('div', { class: 'grid-4' },
        field({ label: 'First name', name: 'first_name', value: c.first_name, required: true, autocomplete: 'off', attrs: { 'data-autofocus': true } }),
        field({ label: 'Middle name', name: 'middle_name', value: c.middle_name }),
        field({ label: 'Last name', name: 'last_name', value: c.last_name, required: true }),
        field({ label: 'Preferred name', name: 'preferred_name', value: c.preferred_name, hint: 'What staff call them' }))),
    h('fieldset', {},
      h('legend', {}, 'Contact and eligibility'),
      h('div', { class: 'grid-4' },
        field({ label: 'Phone', name: 'phone', type: 'tel', value: c.phone, hint: 'Any format' }),
        field({ label: 'Email', name: 'email', type: 'email', value: c.email }),
        field({ label: 'Date of birth', name: 'date_of_birth', type: 'date', value: c.date_of_birth }),
        field({ label: 'Customer type', name: 'customer_type', value: c.customer_type || 'adult_use', options: TYPES }))),
    h('fieldset', {},
      h('legend', {}, 'Government ID'),
      h('div', { class: 'grid-4' },
        field({ label: 'Document', name: 'id_document.kind', value: doc.kind || 'drivers_license', options: KINDS }),
        field({ label: 'ID number', name: 'id_document.number', value: doc.number }),
        field({ label: 'Issued by', name: 'id_document.jurisdiction', value: doc.jurisdiction, hint: 'State or province code, e.g. CA' }),
        field({ label: 'Expires', name: 'id_document.expiry', type: 'date', value: doc.expiry }))),
    h('fieldset', {},
      h('legend', {}, 'Address (optional)'),
      h('div', { class: 'grid-4' },
        field({ label: 'Street', name: 'addresses[0].line1', value: addr.line1, wide: true }),
        field({ label: 'Apt / suite', name: 'addresses[0].line2', value: addr.line2 }),
        field({ label: 'City', name: 'addresses[0].city', value: addr.city }),
        field({ label: 'State', name: 'addresses[0].region', value: addr.region }),
        field({ label: 'ZIP / postal code', name: 'addresses[0].postal_code', value: addr.postal_code }),
        field({ label: 'Delivery instructions', name: 'addresses[0].delivery_instructions', value: addr.delivery_instructions, wide: true }))),
    h('div', { class: 'form-actions' },
      h('a', { class: 'btn', href: editing ? `/app/customers/${enc(ctx.params.id)}` : '/app/lookup', 'data-link': true }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save changes' : 'Create customer')));

  // The server judged the scanned card: a person who may not buy is created only when staff say so.
  const refusal = scanned && scanned.eligibility && scanned.eligibility.eligible === false ? scanned.eligibility : null;
  let confirmed = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    if (refusal && !confirmed) {
      confirmed = await dialog('This person cannot buy', (close) => h('div', {},
        h('ul', { class: 'reason-list' }, refusal.reasons.map((r) => h('li', {}, sentence(r.message)))),
        h('p', {}, 'Create the profile anyway (for example to keep a record of the visit)? They will be refused at check-in and checkout.'),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-primary', 'data-autofocus': true, onclick: () => close(false) }, 'Don’t create'),
          h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-test': 'create-anyway', onclick: () => close(true) }, 'Create anyway'))));
      if (!confirmed) return;
    }
    const body = collect(form, editing);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    const create = (confirmed) => post('/customers' + (confirmed ? '?different_person=true' : ''), { ...body, created_channel: 'pos' });
    try {
      const saved = editing
        ? await patch(`/customers/${enc(ctx.params.id)}`, body)
        : await create(false);
      toast(editing ? 'Changes saved' : 'Customer created');
      ctx.navigate(`/app/customers/${enc(saved.id)}`);
    } catch (err) {
      button.disabled = false;
      if (err.code === 'likely_duplicate') {
        form.querySelector('.form-error').append(intakeWarning(err.detail.candidates || [], async () => {
          try {
            const saved = await create(true);
            toast('Customer created');
            ctx.navigate(`/app/customers/${enc(saved.id)}`);
          } catch (again) {
            showError(form, again);
          }
        }));
        // The warning is at the top of a long form: bring it into view rather than leave it above.
        form.querySelector('.form-error').scrollIntoView({ block: 'nearest' });
        return;
      }
      showError(form, err);
      if (err.code === 'duplicate_customer' && err.detail.existing_customer_id) {
        const summary = form.querySelector('.form-error');
        const existing = await get(`/customers/${enc(err.detail.existing_customer_id)}`).catch(() => null);
        const who = existing
          ? `${fmt.fullName(existing)}${existing.date_of_birth ? `, born ${fmt.date(existing.date_of_birth)}` : ''}${existing.phone ? `, ${fmt.phone(existing.phone)}` : ''}`
          : 'another customer';
        summary.append(alertBox('warn', `This belongs to ${who}. `,
          h('a', { href: `/app/customers/${enc(err.detail.existing_customer_id)}`, 'data-link': true, 'data-test': 'existing-customer' }, 'Open their profile')));
        summary.scrollIntoView({ block: 'nearest' });
      }
    }
  });

  return h('section', { class: 'page form-page' },
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, editing ? `Edit ${c.display_name || 'customer'}` : 'New customer')),
    refusal
      ? h('div', { class: 'banner banner-danger', role: 'alert', 'data-test': 'scan-refusal' }, icon('ban'),
        h('div', {}, h('strong', {}, `Cannot be served${refusal.age !== null && refusal.age !== undefined ? ` — age ${refusal.age}` : ''}`),
          refusal.reasons.map((r) => h('span', { dataset: { code: r.code } }, sentence(r.message))),
          h('span', {}, 'Nobody on file matches this ID. Do not sell; create a profile only if you need a record.')))
      : null,
    fromScan && !refusal ? alertBox('info', 'Filled in from the scanned ID: nobody on file matches it. Check the details, add a phone number, and create the profile.') : null,
    form);
}

/** The form as the API's JSON: nested ID document and address; for edits, cleared fields become null. */
function collect(form, editing) {
  const v = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    v[el.name] = el.value.trim();
  }
  const text = (k) => (v[k] ? v[k] : (editing ? null : undefined));
  const body = {
    first_name: v.first_name,
    last_name: v.last_name,
    middle_name: text('middle_name'),
    preferred_name: text('preferred_name'),
    phone: text('phone'),
    email: text('email'),
    date_of_birth: text('date_of_birth'),
    customer_type: v.customer_type,
  };
  if (v['id_document.number'] || v['id_document.jurisdiction'] || v['id_document.expiry']) {
    body.id_document = {
      kind: v['id_document.kind'],
      number: v['id_document.number'],
      jurisdiction: v['id_document.jurisdiction'] || null,
      expiry: v['id_document.expiry'] || null,
    };
  } else if (editing) {
    body.id_document = null;
  }
  const a = (k) => v[`addresses[0].${k}`];
  if (a('line1') || a('city') || a('postal_code')) {
    body.addresses = [{
      line1: a('line1'), line2: a('line2') || null, city: a('city'), region: a('region'),
      postal_code: a('postal_code'), country: 'US', delivery_instructions: a('delivery_instructions') || null,
    }];
  } else if (editing) {
    body.addresses = [];
  }
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}
