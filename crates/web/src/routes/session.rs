//! Signing in and out of the staff web app, and "who am I" for the UI.

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use canopy_domain::{Role, StaffUser};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::sign_in::{SignedIn, sign_in};
use crate::auth::{Caller, Credential, anonymous_actor, authenticate, cookies};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;

pub fn public_routes() -> Router<AppState> {
    Router::new().route("/session", axum::routing::post(create).delete(destroy))
}

pub fn protected_routes() -> Router<AppState> {
    Router::new().route("/session", get(read))
}

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    username: String,
    password: String,
    /// Form posts only: where to send the browser after signing in (a path on this site).
    #[serde(default)]
    next: Option<String>,
}

/// A staff member as shown to staff (never the password hash).
#[derive(Serialize, ToSchema)]
pub struct StaffUserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub active: bool,
    pub stores: Vec<String>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl From<&StaffUser> for StaffUserView {
    fn from(u: &StaffUser) -> Self {
        StaffUserView {
            id: u.id.to_string(),
            username: u.username.to_string(),
            display_name: u.display_name.clone(),
            role: u.role,
            active: u.active,
            stores: u.stores.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct KeyIdentity {
    pub id: String,
    pub name: String,
}

/// Who is calling and what they may do: the UI shows or hides actions from `permissions`.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// `user` or `api_key`.
    pub kind: &'static str,
    pub user: Option<StaffUserView>,
    pub api_key: Option<KeyIdentity>,
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    /// Scope names, e.g. `customers:read`.
    pub permissions: Vec<&'static str>,
    /// Echo this in the `X-CSRF-Token` header on cookie-authenticated POST/PATCH/PUT/DELETE requests.
    pub csrf_token: Option<String>,
    /// A session ends after this many seconds without a request.
    pub idle_timeout_seconds: Option<i64>,
    /// A session ends at this instant however busy it is.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
}

impl SessionView {
    fn of_user(
        user: &StaffUser,
        csrf_token: &str,
        created_at: Timestamp,
        state: &AppState,
    ) -> Self {
        SessionView {
            kind: "user",
            user: Some(user.into()),
            api_key: None,
            role: Some(user.role),
            permissions: user.role.permissions().names(),
            csrf_token: Some(csrf_token.to_string()),
            idle_timeout_seconds: Some(state.settings.session_idle.as_secs()),
            expires_at: Some(created_at + state.settings.session_lifetime),
        }
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// A path on this site, so a crafted `next` cannot send a signed-in browser elsewhere: a single `/`
/// followed by printable ASCII only. Browsers drop tabs and newlines from a URL and read `\` as `/`,
/// so `/<TAB>/evil.example` or `/\evil.example` would become `//evil.example`, another site; any
/// whitespace, control character or backslash makes the whole value fall back to `/`.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Whether a browser form post comes from a page of this site: its `Origin` (or, failing that, its
/// `Referer`) names the host the request was sent to. A sign-in form on another site could otherwise
/// sign a victim's browser into the attacker's account (login CSRF), and what they then type would be
/// recorded under it.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<axum::http::Uri>().ok());
    source
        .and_then(|uri| {
            uri.authority()
                .map(|a| a.as_str().eq_ignore_ascii_case(host))
        })
        .unwrap_or(false)
}

fn redirect(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn with_cookies(mut response: Response, cookies: [HeaderValue; 2]) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Signs in with a username and password. JSON in, JSON out (the session is the `canopy_session` cookie);
/// an HTML form post (`application/x-www-form-urlencoded`, fields `username`, `password`, `next`) is
/// answered with a redirect to `next`, or to `/sign-in?error=CODE` when refused.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignInRequest,
    responses((status = 200, body = SessionView, description = "Signed in; sets the session cookies"),
        (status = 401, description = "Wrong username or password (code invalid_credentials)"),
        (status = 429, description = "Too many failed attempts (code too_many_attempts)")))]
async fn create(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    let (parts, body) = request.into_parts();
    let origin = anonymous_actor(&parts, &state, "anonymous");
    let previous = cookies::session_token(&parts.headers);
    let form = is_form(&parts.headers);
    if form && !same_origin(&parts.headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin_sign_in",
            "sign in from this site's own sign-in page",
        ));
    }
    let request = Request::from_parts(parts, body);
    let input: SignInRequest = if form {
        Form::<SignInRequest>::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?
            .0
    } else {
        ApiJson::<SignInRequest>::from_request(request, &state)
            .await?
            .0
    };
    let result = sign_in(
        &state,
        origin,
        &input.username,
        &input.password,
        previous.as_deref(),
    )
    .await;
    let SignedIn {
        token,
        csrf_token,
        user,
        ..
    } = match result {
        Ok(signed_in) => signed_in,
        Err(e) if form && e.status.is_client_error() => {
            let next = local_path(input.next.as_deref());
            return Ok(redirect(&format!(
                "/sign-in?error={}&next={}",
                e.code,
                next.replace('%', "%25")
                    .replace('&', "%26")
                    .replace('#', "%23")
            )));
        }
        Err(e) => return Err(e),
    };
    let cookies = cookies::start(&token, &csrf_token, &state);
    let response = if form {
        redirect(&local_path(input.next.as_deref()))
    } else {
        Json(SessionView::of_user(
            &user,
            &csrf_token,
            state.now(),
            &state,
        ))
        .into_response()
    };
    Ok(with_cookies(response, cookies))
}

/// Who is calling: the signed-in user (with role, permissions and the CSRF token) or the API key.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionView), (status = 401, description = "Not signed in")))]
async fn read(State(state): State<AppState>, caller: Caller) -> Json<SessionView> {
    Json(match &caller.credential {
        Credential::Session {
            user,
            csrf_token,
            created_at,
            ..
        } => SessionView::of_user(user, csrf_token, *created_at, &state),
        Credential::ApiKey { id, name, .. } => SessionView {
            kind: "api_key",
            user: None,
            api_key: Some(KeyIdentity {
                id: id.to_string(),
                name: name.clone(),
            }),
            role: None,
            permissions: caller.permissions().names(),
            csrf_token: None,
            idle_timeout_seconds: None,
            expires_at: None,
        },
    })
}

/// Signs out: ends the session and clears its cookies. Without a live session there is nothing to end and
/// the answer is the same 204.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out"), (status = 403, description = "Missing X-CSRF-Token")))]
async fn destroy(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    let (parts, _) = request.into_parts();
    match authenticate(&parts, &state).await {
        Ok(Some(Caller {
            actor,
            credential: Credential::Session { id, user, .. },
            ..
        })) => {
            state
                .store
                .end_session(id, user.id, "session.sign_out", &actor, state.now())
                .await?;
        }
        Ok(_) => {}
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {}
        Err(e) => return Err(e),
    }
    Ok(with_cookies(
        StatusCode::NO_CONTENT.into_response(),
        cookies::clear(&state),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_path_on_this_site_or_the_home_page() {
        assert_eq!(local_path(Some("/app/customers?q=1")), "/app/customers?q=1");
        for hostile in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "evil.example",
        ] {
            assert_eq!(local_path(Some(hostile)), "/", "{hostile:?}");
        }
    }
}
