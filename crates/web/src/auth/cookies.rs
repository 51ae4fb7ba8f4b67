//! The session cookies: `canopy_session` (the secret token: HttpOnly, SameSite=Strict, Secure when
//! configured) and `canopy_csrf` (the CSRF token, readable by the page's script so it can echo it in the
//! `X-CSRF-Token` header).

use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::CookieJar;

use crate::AppState;

pub const SESSION_COOKIE: &str = "canopy_session";
pub const CSRF_COOKIE: &str = "canopy_csrf";

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

fn build(
    name: &'static str,
    value: String,
    http_only: bool,
    max_age_secs: i64,
    state: &AppState,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age_secs}; SameSite=Strict");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if state.settings.secure_cookies {
        cookie.push_str("; Secure");
    }
    // Cookie values are base64url tokens, so the header is always valid ASCII.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` values that start a session.
pub fn start(token: &str, csrf: &str, state: &AppState) -> [HeaderValue; 2] {
    let lifetime = state.settings.session_lifetime.as_secs();
    [
        build(SESSION_COOKIE, token.to_string(), true, lifetime, state),
        build(CSRF_COOKIE, csrf.to_string(), false, lifetime, state),
    ]
}

/// `Set-Cookie` values that make the browser forget the session.
pub fn clear(state: &AppState) -> [HeaderValue; 2] {
    [
        build(SESSION_COOKIE, String::new(), true, 0, state),
        build(CSRF_COOKIE, String::new(), false, 0, state),
    ]
}
