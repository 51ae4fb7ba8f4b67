// The shell: routing between screens, the top bar, sign-in gating and the global ID-scanner capture.

import { h, replace, icon, announce, toast } from './dom.js';
import { onUnauthenticated } from './api.js';
import { session, restore, signOut, can, loadStores, chooseStore } from './session.js';
import { installGlobalScanner } from './scan.js';
import * as signin from './views/signin.js';
import * as lookup from './views/lookup.js';
import * as profile from './views/profile.js';
import * as customerForm from './views/customer-form.js';
import * as queue from './views/queue.js';
import * as dashboard from './views/dashboard.js';
import * as admin from './views/admin.js';
import * as duplicates from './views/duplicates.js';
import * as merge from './views/merge.js';
import * as mergeHistory from './views/merge-history.js';
import * as register from './views/register.js';
import * as order from './views/order.js';
import * as customers from './views/customers.js';

const ROUTES = [
  { path: '/app/signin', view: signin, public: true, title: 'Sign in' },
  { path: '/sign-in', view: signin, public: true, title: 'Sign in' },
  { path: '/app', view: lookup, title: 'Lookup', nav: 'lookup' },
  { path: '/app/lookup', view: lookup, title: 'Lookup', nav: 'lookup' },
  { path: '/app/customers', view: customers, title: 'Customers', nav: 'customers' },
  { path: '/app/customers/new', view: customerForm, title: 'New customer', nav: 'lookup' },
  { path: '/app/customers/:id/edit', view: customerForm, title: 'Edit customer', nav: 'lookup' },
  { path: '/app/customers/:id', view: profile, title: 'Customer', nav: 'lookup' },
  { path: '/app/customers/:id/merges', view: mergeHistory, title: 'Merges and duplicates', nav: 'lookup' },
  { path: '/app/duplicates', view: duplicates, title: 'Possible duplicates', nav: 'duplicates' },
  { path: '/app/merge', view: merge, title: 'Merge profiles', nav: 'duplicates' },
  { path: '/app/register/:id', view: register, title: 'Register', nav: 'queue' },
  { path: '/app/orders/:id', view: order, title: 'Order', nav: 'lookup' },
  { path: '/app/queue', view: queue, title: 'Check-in queue', nav: 'queue' },
  { path: '/app/dashboard', view: dashboard, title: 'Dashboard', nav: 'dashboard' },
  { path: '/app/admin', view: admin, title: 'Admin', nav: 'admin' },
  { path: '/app/admin/:section', view: admin, title: 'Admin', nav: 'admin' },
];

const ADMIN_PERMISSIONS = ['catalog:write', 'staff:manage', 'apikeys:manage', 'settings:write', 'audit:read'];

let cleanups = [];
let renderToken = 0;

function match(pathname) {
  const parts = pathname.replace(/\/+$/, '').split('/');
  for (const route of ROUTES) {
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i += 1) {
      if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (pattern[i] !== parts[i]) { ok = false; break; }
    }
    if (ok) return { route, params };
  }
  return null;
}

export function navigate(to, { replace: replaceState = false } = {}) {
  if (replaceState) history.replaceState({}, '', to);
  else history.pushState({}, '', to);
  render();
}

function leave() {
  for (const fn of cleanups) {
    try { fn(); } catch { /* a screen's cleanup must not block the next */ }
  }
  cleanups = [];
}

async function render() {
  const token = ++renderToken;
  leave();
  let { pathname } = location;
  if (pathname === '/' || pathname === '') {
    history.replaceState({}, '', '/app/lookup');
    pathname = '/app/lookup';
  }
  const found = match(pathname);
  const main = document.getElementById('main');
  if (!found) {
    replace(main, notFound());
    return;
  }
  const { route, params } = found;
  if (!route.public && !session.user) {
    const next = location.pathname + location.search;
    history.replaceState({}, '', '/app/signin' + (next.startsWith('/app/signin') ? '' : '?next=' + encodeURIComponent(next)));
    return render();
  }
  renderTopbar(route.nav);
  document.title = `${route.title} · Canopy`;
  const ctx = {
    params,
    query: new URLSearchParams(location.search),
    navigate,
    onLeave: (fn) => cleanups.push(fn),
    isCurrent: () => token === renderToken,
    refreshShell: () => renderTopbar(route.nav),
  };
  main.setAttribute('aria-busy', 'true');
  let node;
  try {
    node = await route.view.view(ctx);
  } catch (e) {
    node = errorPanel(e);
  }
  if (token !== renderToken) return;
  main.removeAttribute('aria-busy');
  replace(main, node);
  const focusTarget = main.querySelector('[data-autofocus]') || main.querySelector('h1');
  if (focusTarget) {
    if (!focusTarget.hasAttribute('tabindex') && focusTarget.tagName === 'H1') focusTarget.setAttribute('tabindex', '-1');
    focusTarget.focus({ preventScroll: false });
  }
  announce(document.title.replace(' · Canopy', ''));
}

function notFound() {
  return h('section', { class: 'page narrow' },
    h('h1', {}, 'Page not found'),
    h('p', {}, 'There is nothing at this address.'),
    h('a', { href: '/app/lookup', class: 'btn btn-primary', 'data-link': true }, 'Go to lookup'));
}

function errorPanel(e) {
  return h('section', { class: 'page narrow' },
    h('div', { class: 'alert alert-error', role: 'alert' },
      h('strong', {}, 'Something went wrong. '), e && e.message ? e.message : String(e)),
    h('button', { class: 'btn', type: 'button', onclick: () => render() }, 'Try again'));
}

function renderTopbar(active) {
  const bar = document.getElementById('topbar');
  if (!session.user) {
    bar.hidden = true;
    replace(bar);
    return;
  }
  bar.hidden = false;
  const link = (href, key, label) => h('a', {
    href, 'data-link': true, class: 'nav-link' + (active === key ? ' active' : ''),
    'aria-current': active === key ? 'page' : false,
  }, label);
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' },
    link('/app/lookup', 'lookup', 'Lookup'),
    session.stores.length ? link('/app/queue', 'queue', 'Queue') : null,
    can('customers:ban') ? link('/app/customers', 'customers', 'Customers') : null,
    link('/app/dashboard', 'dashboard', 'Dashboard'),
    can('customers:merge') ? link('/app/duplicates', 'duplicates', 'Duplicates') : null,
    ADMIN_PERMISSIONS.some(can) ? link('/app/admin', 'admin', 'Admin') : null);
  let storePicker = null;
  if (session.stores.length > 1) {
    storePicker = h('label', { class: 'store-picker' },
      h('span', { class: 'visually-hidden' }, 'Store'),
      h('select', {
        onchange: (e) => { chooseStore(e.target.value); render(); },
      }, session.stores.map((s) => h('option', { value: s.id, selected: s.id === session.storeId }, s.name))));
  } else if (session.stores.length === 1) {
    storePicker = h('span', { class: 'store-name' }, session.stores[0].name);
  }
  const user = h('div', { class: 'user' },
    h('span', { class: 'user-name' }, session.user.name,
      session.user.role ? h('span', { class: 'user-role' }, session.user.role) : null),
    session.open ? null : h('button', {
      class: 'btn btn-ghost btn-sm', type: 'button', 'data-test': 'sign-out',
      onclick: async () => { await signOut(); navigate('/app/signin'); },
    }, icon('logout'), 'Sign out'));
  replace(bar,
    h('a', { href: '/app/lookup', 'data-link': true, class: 'brand', 'aria-label': 'Canopy home' }, icon('leaf'), h('span', {}, 'Canopy')),
    nav, h('div', { class: 'topbar-spacer' }), storePicker, user);
}

/** Signed in (or open server): load what the shell needs, then show the requested screen. */
export async function afterSignIn() {
  await loadStores();
  const next = new URLSearchParams(location.search).get('next');
  navigate(next && next.startsWith('/app') ? next : '/app/lookup', { replace: true });
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});

window.addEventListener('popstate', () => render());

onUnauthenticated(() => {
  if (!session.user) return;
  session.user = null;
  toast('Your session ended. Please sign in again.', 'warn');
  navigate('/app/signin?next=' + encodeURIComponent(location.pathname), { replace: true });
});

document.addEventListener('keydown', (e) => {
  const t = e.target;
  const editing = t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
  if (editing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === '/' || e.key === 'F2') {
    e.preventDefault();
    if (location.pathname === '/app/lookup' || location.pathname === '/app') {
      const search = document.getElementById('lookup-search');
      if (search) search.focus();
    } else {
      navigate('/app/lookup');
    }
  }
});

async function boot() {
  let signedIn = false;
  try {
    signedIn = await restore();
  } catch (e) {
    replace(document.getElementById('main'), errorPanel(e));
    return;
  }
  if (signedIn) await loadStores();
  installGlobalScanner((payload) => lookup.openScan(payload, navigate));
  render();
}

boot();
