// Who is signed in and what they may do; which store this register is at.

import { get, post, del, optional, setCsrfToken, ApiError } from './api.js';
import { setTimeZone } from './format.js';

const ALL_PERMISSIONS = [
  'customers:read', 'customers:write', 'checkin:write', 'orders:write', 'orders:read', 'orders:history',
  'customers:ban', 'loyalty:adjust', 'limits:override', 'id_images:read', 'audit:read', 'catalog:write',
  'staff:manage', 'apikeys:manage', 'settings:write',
];

export const session = {
  /** null until signed in. */
  user: null,
  permissions: new Set(),
  /** True when this server has no sign-in at all (every request acts as the local operator). */
  open: false,
  stores: [],
  storeId: null,
};

function adopt(body) {
  const user = body.user || body.staff || body.account || body;
  session.user = {
    id: user.id,
    username: user.username || user.email || user.login || '',
    name: user.display_name || user.name || user.username || 'Staff',
    role: user.role || body.role || '',
    // The stores this staff member is assigned to; `null` when the server names none (admins, keys).
    stores: Array.isArray(user.stores) ? user.stores : null,
  };
  const perms = body.permissions || user.permissions || [];
  session.permissions = new Set(perms);
  setCsrfToken(body.csrf_token || body.csrf || null);
}

/** Reads the current session. Resolves to true when signed in (or the server has no sign-in). */
export async function restore() {
  try {
    const body = await get('/session', { quiet401: true });
    adopt(body);
    session.open = false;
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session.user = null;
      return false;
    }
    if (e instanceof ApiError && e.missingRoute) {
      // No accounts on this server yet: the API treats every request as the local operator.
      session.open = true;
      session.user = { name: 'Operator', username: 'operator', role: 'admin' };
      session.permissions = new Set(ALL_PERMISSIONS);
      return true;
    }
    throw e;
  }
}

export async function signIn(username, password) {
  const body = await post('/session', { username, password }, { quiet401: true });
  adopt(body);
  // Some servers return only the user on sign-in; the session read has the CSRF token and permissions.
  if (!body.permissions || !(body.csrf_token || body.csrf)) {
    try { adopt(await get('/session', { quiet401: true })); } catch { /* keep what sign-in returned */ }
  }
  return session.user;
}

export async function signOut() {
  try { await del('/session'); } catch { /* the cookie may already be gone */ }
  session.user = null;
  session.permissions = new Set();
  setCsrfToken(null);
}

export function can(permission) {
  return session.permissions.has(permission);
}

/** Loads the stores and picks this register's (remembered per browser). */
export async function loadStores() {
  const body = await optional(get('/stores'));
  const all = body ? (body.items || body) : [];
  // A register works at a store its staff member is assigned to: the server refuses every other
  // store's queue and sales (403 store_not_assigned), so only those are offered. Admins work anywhere.
  const assigned = session.user && session.user.role !== 'admin' ? session.user.stores : null;
  session.stores = assigned ? all.filter((s) => assigned.includes(s.id)) : all;
  const saved = localStorage.getItem('canopy.store');
  const found = session.stores.find((s) => s.id === saved);
  session.storeId = found ? found.id : (session.stores[0] ? session.stores[0].id : null);
  setTimeZone(currentStore() && currentStore().time_zone);
  return session.stores;
}

export function chooseStore(id) {
  session.storeId = id;
  localStorage.setItem('canopy.store', id);
  setTimeZone(currentStore() && currentStore().time_zone);
}

export function currentStore() {
  return session.stores.find((s) => s.id === session.storeId) || null;
}
