//! Who is calling. Every `/api/v1` handler takes a [`Caller`] and asks it for the permission its action
//! needs (`caller.require(Permission::X)?`); the permission matrix itself lives in
//! `canopy_domain::permissions`.
//!
//! A caller is either a signed-in staff member (a session cookie, or the session token as a bearer token)
//! or an integration (`Authorization: Bearer cnpy_…`). Canopy denies by default: the `/api/v1` routes sit
//! behind [`require_caller`], so a handler that forgot to take a `Caller` is still closed to strangers;
//! no credentials is 401, a missing permission 403.
//!
//! Cookie-authenticated requests that change something must also carry the session's CSRF token in the
//! `X-CSRF-Token` header (the double-submit pattern, on top of `SameSite=Strict`); bearer tokens are not
//! sent by browsers on their own, so they are exempt.

pub mod cookies;
pub mod secrets;
pub mod sign_in;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use canopy_domain::{
    Actor, ActorKind, ApiKeyId, Permission, PermissionSet, Role, SessionId, StaffUser, StoreId,
};
use jiff::{SignedDuration, Timestamp};

use crate::{ApiError, AppState};

/// The header a cookie-authenticated unsafe request must carry, holding the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A staff session; `via_cookie` is false when the token came as a bearer token.
    Session {
        id: SessionId,
        user: StaffUser,
        csrf_token: String,
        created_at: Timestamp,
        via_cookie: bool,
    },
    ApiKey {
        id: ApiKeyId,
        name: String,
        /// The store ids the key may act at; `None` for every store.
        stores: Option<Vec<String>>,
    },
}

/// An authenticated caller: the actor written to the audit log, and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub credential: Credential,
    permissions: PermissionSet,
}

impl Caller {
    /// Refuses with 403 unless the caller holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(permission.as_str()))
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Everything this caller may do: the role's permissions, or the key's scopes.
    pub fn permissions(&self) -> PermissionSet {
        self.permissions
    }

    /// The staff member behind a session (`None` for an API key).
    pub fn user(&self) -> Option<&StaffUser> {
        match &self.credential {
            Credential::Session { user, .. } => Some(user),
            Credential::ApiKey { .. } => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.user().map(|u| u.role)
    }

    /// Refuses with 403 `store_not_assigned` unless the caller may act at `store`: staff at the
    /// stores they are assigned to (admins everywhere), API keys at the stores they were limited to
    /// (every store when they were not). Every store-scoped action asks this after its permission.
    pub fn require_store(&self, store: StoreId) -> Result<(), ApiError> {
        let id = store.to_string();
        let allowed = match &self.credential {
            Credential::Session { user, .. } => {
                user.role == Role::Admin || user.stores.contains(&id)
            }
            Credential::ApiKey { stores, .. } => stores.as_ref().is_none_or(|s| s.contains(&id)),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "store_not_assigned",
                "you are not assigned to this store; an admin can assign you",
            )
            .with_field("store_id"))
        }
    }

    /// May this caller make external allotments replace local history (a state-system key)?
    pub fn allotment_authority(&self) -> canopy_orders::AllotmentAuthority {
        match self.credential {
            Credential::ApiKey { .. } if self.can(Permission::StateSync) => {
                canopy_orders::AllotmentAuthority::StateSystem
            }
            _ => canopy_orders::AllotmentAuthority::Local,
        }
    }
}

/// Where a request came from, for the audit log: the peer address (or, only when configured behind a
/// trusted proxy, the last `X-Forwarded-For` entry, which that proxy appended) and the user agent.
pub fn request_origin(
    parts_headers: &HeaderMap,
    peer: Option<SocketAddr>,
    state: &AppState,
) -> (Option<String>, Option<String>) {
    let forwarded = state
        .settings
        .trust_forwarded_for
        .then(|| {
            parts_headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
        .flatten();
    let address = forwarded.or_else(|| peer.map(|p| p.ip().to_string()));
    let user_agent = parts_headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    (address, user_agent)
}

/// An anonymous actor carrying the request's origin (for failed sign-ins).
pub fn anonymous_actor(parts: &Parts, state: &AppState, label: &str) -> Actor {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (address, user_agent) = request_origin(&parts.headers, peer, state);
    Actor {
        kind: ActorKind::System,
        id: None,
        label: label.to_string(),
        address,
        user_agent,
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// How often at most a session's `last_seen_at` (or a key's `last_used_at`) is written: a minute, or a
/// quarter of the idle timeout when that is shorter, so reads do not turn into writes on every request.
fn touch_interval(state: &AppState) -> SignedDuration {
    let quarter = state.settings.session_idle / 4;
    quarter.min(SignedDuration::from_secs(60))
}

/// Resolves the request's credentials. `Ok(None)` means none were sent; an invalid, expired or revoked
/// credential is a 401, a missing CSRF header on a cookie-authenticated change a 403.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let now = state.now();
    let origin = anonymous_actor(parts, state, "anonymous");
    let (token, via_cookie) = match bearer_token(&parts.headers) {
        Some(token) => (token.to_string(), false),
        None => match cookies::session_token(&parts.headers) {
            Some(token) => (token, true),
            None => return Ok(None),
        },
    };

    if token.starts_with(secrets::API_KEY_PREFIX) {
        let key = state
            .store
            .api_key_by_hash(&secrets::digest(&token))
            .await?
            .filter(|k| k.revoked_at.is_none())
            .ok_or_else(|| {
                unauthorized(
                    "invalid_api_key",
                    "this API key is not valid or has been revoked",
                )
            })?;
        if key
            .last_used_at
            .is_none_or(|t| now.duration_since(t) >= touch_interval(state))
        {
            state.store.touch_api_key(key.id, now).await?;
        }
        return Ok(Some(Caller {
            actor: Actor {
                kind: ActorKind::ApiKey,
                id: Some(key.id.to_string()),
                label: key.name.clone(),
                ..origin
            },
            credential: Credential::ApiKey {
                id: key.id,
                name: key.name,
                stores: key.stores,
            },
            permissions: key.scopes,
        }));
    }

    let Some(session) = state
        .store
        .session_by_token_hash(&secrets::digest(&token))
        .await?
    else {
        return Err(unauthorized(
            "session_expired",
            "your session has ended; sign in again",
        ));
    };
    let actor = Actor {
        kind: ActorKind::User,
        id: Some(session.user.id.to_string()),
        label: session.user.username.to_string(),
        ..origin
    };
    let idle = now.duration_since(session.last_seen_at) > state.settings.session_idle;
    let too_old = now.duration_since(session.created_at) > state.settings.session_lifetime;
    if idle || too_old || !session.user.active {
        state
            .store
            .end_session(session.id, session.user.id, "session.expire", &actor, now)
            .await?;
        return Err(unauthorized(
            "session_expired",
            "your session has ended; sign in again",
        ));
    }
    if via_cookie && !is_safe(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !secrets::constant_time_eq(sent, &session.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_token_invalid",
                "send the session's CSRF token in the X-CSRF-Token header",
            ));
        }
    }
    if now.duration_since(session.last_seen_at) >= touch_interval(state) {
        state.store.touch_session(session.id, now).await?;
    }
    Ok(Some(Caller {
        actor,
        permissions: session.user.role.permissions(),
        credential: Credential::Session {
            id: session.id,
            csrf_token: session.csrf_token,
            created_at: session.created_at,
            user: session.user,
            via_cookie,
        },
    }))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Middleware on every protected route: refuses strangers with 401 and hands the [`Caller`] to the
/// handler through the request's extensions (so credentials are checked once per request).
pub async fn require_caller(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let caller = authenticate(&parts, &state)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    parts.extensions.insert(caller);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        authenticate(parts, state)
            .await?
            .ok_or_else(ApiError::unauthorized)
    }
}

/// `Option<Caller>`: `None` when no credentials were sent or they are no longer valid (pages that show a
/// sign-in form instead of a 401 use this).
impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Some(caller.clone()));
        }
        match authenticate(parts, state).await {
            Ok(caller) => Ok(caller),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Ok(None),
            Err(e) => Err(e),
        }
    }
}
