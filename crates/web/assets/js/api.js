// The JSON API client: one fetch wrapper, errors in the API's own shape, CSRF on unsafe methods.

/** An error answered by the API: `{"error": {"code", "message", "field", ...}}`. */
export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `request failed (${status})`);
    this.status = status;
    this.code = err.code || (status === 0 ? 'network' : 'http_' + status);
    this.field = err.field || null;
    this.detail = err;
    /** The whole response body (a refused checkout carries `reasons`, `limits` and `pricing` in it). */
    this.body = body || null;
    /** True when the server has no such route at all (the feature is not on this server yet). */
    this.missingRoute = (status === 404 || status === 405) && !(body && body.error);
  }
}

let csrfToken = null;
const listeners = new Set();

/** The CSRF token that unsafe cookie-authenticated requests must carry (from the session). */
export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called with every 401, so the app can show the sign-in screen. */
export function onUnauthenticated(fn) {
  listeners.add(fn);
}

function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

/**
 * Calls `/api/v1{path}`. `body` is JSON unless it is FormData. Resolves to the parsed body (null for 204),
 * rejects with ApiError.
 */
export async function api(method, path, body, { signal, quiet401 = false, headers: extra = {} } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const token = csrfToken || readCookie('canopy_csrf');
    if (token) headers['X-CSRF-Token'] = token;
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { error: { code: 'network', message: 'Cannot reach the Canopy server. Check the connection.' } });
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !quiet401) listeners.forEach((fn) => fn(err));
    throw err;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body ?? {}, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/**
 * For panels whose endpoint may not be on this server yet: resolves to null when the route does not exist
 * (or the caller may not see it), so the panel hides instead of showing an error.
 */
export async function optional(promise) {
  try {
    return await promise;
  } catch (e) {
    if (e instanceof ApiError && (e.missingRoute || e.status === 403 || e.status === 501)) return null;
    throw e;
  }
}

/** Query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, v);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}
