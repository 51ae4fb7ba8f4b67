// The check-in queue of this register's store, live: several registers watch the same queue, and each
// change arrives as a server-sent event, after which the list is read again (so every register agrees).

import { h, replace, icon, toast } from '../dom.js';
import { get, del, post, optional } from '../api.js';
import { emptyState, spinner, badge, humanise } from '../components.js';
import { session, currentStore, can } from '../session.js';
import * as fmt from '../format.js';

/** Entries of a queue body, whatever it is called. */
function entries(body) {
  if (!body) return [];
  return body.items || body.checkins || body.queue || (Array.isArray(body) ? body : []);
}

function entryName(e) {
  const c = e.customer || {};
  return e.display_name || c.display_name || e.customer_name || [c.first_name, c.last_name].filter(Boolean).join(' ') || 'Customer';
}

function entryCustomerId(e) {
  return e.customer_id || (e.customer && e.customer.id);
}

function entryTime(e) {
  return e.checked_in_at || e.created_at || e.at;
}

/**
 * Subscribes to a store's queue: calls `onChange(entries)` now and on every change. Returns a stop function.
 */
export function subscribeQueue(storeId, onChange, onState) {
  let stopped = false;
  let source = null;
  let refreshing = null;
  const base = `/stores/${encodeURIComponent(storeId)}/checkins`;
  const refresh = async () => {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      try {
        const body = await optional(get(base));
        if (!stopped) onChange(body === null ? null : entries(body));
      } catch (e) {
        if (!stopped && onState) onState('error', e);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };
  refresh();
  if (typeof EventSource !== 'undefined') {
    source = new EventSource(`/api/v1${base}/events`, { withCredentials: true });
    source.onopen = () => { if (onState) onState('live'); refresh(); };
    source.onerror = () => { if (onState) onState('reconnecting'); };
    // Each `queue` event carries the whole waiting list; anything else just prompts a fresh read.
    const onEvent = (ev) => {
      let body = null;
      try { body = JSON.parse(ev.data); } catch { body = null; }
      if (body && (Array.isArray(body) || Array.isArray(body.items))) {
        if (!stopped) onChange(entries(body).filter((e) => !e.status || e.status === 'waiting'));
      } else {
        refresh();
      }
    };
    source.onmessage = onEvent;
    source.addEventListener('queue', onEvent);
  }
  return () => {
    stopped = true;
    if (source) source.close();
  };
}

/** The live list: used full-size on the queue screen and compact beside lookup. */
export function queueList(storeId, ctx, { compact = false } = {}) {
  const list = h('ol', { class: 'queue' + (compact ? ' queue-compact' : ''), 'aria-label': 'Customers waiting', 'aria-live': 'polite', 'data-test': 'queue' });
  const state = h('div', { class: 'queue-state' });
  const box = h('div', { class: 'queue-box' }, state, list);
  replace(list, h('li', { class: 'queue-loading' }, spinner('Loading the queue')));
  let latest = [];
  const draw = (items) => {
    if (items === null) {
      box.closest('.panel, .page')?.setAttribute('hidden', '');
      return;
    }
    latest = items;
    if (!items.length) {
      replace(list, h('li', { class: 'queue-empty' }, emptyState('Nobody is waiting.')));
      return;
    }
    replace(list, items.map((e) => queueRow(e, ctx, compact)));
  };
  const stop = subscribeQueue(storeId, draw, (s, err) => {
    if (s === 'live') replace(state, badge('Live', 'ok'));
    else if (s === 'reconnecting') replace(state, badge('Reconnecting…', 'warn'));
    else if (s === 'error') replace(state, badge(humanise(err), 'danger'));
  });
  // Waiting times tick without a reload.
  const tick = setInterval(() => { if (latest.length) draw(latest); }, 30000);
  ctx.onLeave(() => { stop(); clearInterval(tick); });
  return box;
}

function queueRow(e, ctx, compact) {
  const customerId = entryCustomerId(e);
  const c = e.customer || {};
  const name = entryName(e);
  const at = entryTime(e);
  const open = () => customerId && ctx.navigate(`/app/customers/${encodeURIComponent(customerId)}`);
  const actions = [];
  if (!compact && can('checkin:write') && e.id) {
    actions.push(h('button', {
      type: 'button', class: 'btn btn-sm btn-primary', 'data-test': 'serve',
      onclick: async (ev) => {
        ev.stopPropagation();
        try {
          await post(`/stores/${encodeURIComponent(session.storeId)}/checkins/${encodeURIComponent(e.id)}/serve`);
          toast(`Serving ${name}`);
          // Serving means selling: the register opens with this customer.
          if (customerId && can('orders:write')) ctx.navigate(`/app/register/${encodeURIComponent(customerId)}`);
        } catch (err) {
          toast(humanise(err), 'error');
        }
      },
    }, 'Serve'));
    actions.push(h('button', {
      type: 'button', class: 'btn btn-sm',
      onclick: async (ev) => {
        ev.stopPropagation();
        try {
          await del(`/stores/${encodeURIComponent(session.storeId)}/checkins/${encodeURIComponent(e.id)}`);
        } catch (err) {
          toast(humanise(err), 'error');
        }
      },
    }, 'Remove'));
  }
  return h('li', { class: 'queue-row', dataset: { customerId: customerId || '' } },
    h('button', { type: 'button', class: 'queue-open', onclick: open, 'aria-label': `Open ${name}'s profile` },
      h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, fmt.initials({ first_name: name, last_name: name.split(' ')[1] || '' })),
      h('span', { class: 'queue-name' }, name),
      h('span', { class: 'queue-meta' },
        at ? h('span', { class: 'queue-wait' }, icon('clock'), fmt.waited(at)) : null,
        c.customer_type && c.customer_type !== 'adult_use' ? badge(fmt.customerType(c.customer_type), 'info') : null,
        e.status && e.status !== 'waiting' ? badge(e.status.replace(/_/g, ' '), 'neutral') : null)),
    actions.length ? h('span', { class: 'queue-actions' }, actions) : null);
}

export async function view(ctx) {
  const store = currentStore();
  if (!store) {
    return h('section', { class: 'page narrow' }, h('h1', {}, 'Check-in queue'),
      emptyState('This server has no stores set up yet, so there is no queue to show.'));
  }
  return h('section', { class: 'page queue-page' },
    h('div', { class: 'page-head' },
      h('h1', { class: 'page-title' }, 'Check-in queue'),
      h('span', { class: 'muted' }, store.name)),
    queueList(store.id, ctx));
}

/** Checks a customer in at this register's store. Resolves to the new entry; rejects with ApiError. */
export async function checkIn(customerId) {
  if (!session.storeId) throw new Error('Choose a store first.');
  return post(`/stores/${encodeURIComponent(session.storeId)}/checkins`, { customer_id: customerId });
}
