//! Signing in and out: the checks behind `POST /api/v1/session`, usable by any page that signs people in.
//!
//! Failed attempts are counted in the database (so the limit holds across server processes): at most
//! [`MAX_FAILURES_PER_ACCOUNT`] per account and [`MAX_FAILURES_PER_ADDRESS`] per address within
//! [`FAILURE_WINDOW`]; beyond that sign-in answers 429 `too_many_attempts` without checking the password.
//! Each attempt is reserved (counted as a failure) before the password is checked and cleared when it
//! proves right, so concurrent guesses cannot slip past the limit; refusals are counted, not audited
//! one by one.
//! A wrong username costs the same Argon2 verification as a wrong password, and both get the same answer.

use axum::http::StatusCode;
use canopy_domain::{Actor, ActorKind, SessionId, StaffUser, Username};
use canopy_store::{NewSession, SignInAttempt, SignInLimit};
use jiff::SignedDuration;

use super::secrets;
use crate::{ApiError, AppState};

pub const MAX_FAILURES_PER_ACCOUNT: i64 = 10;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;
pub const FAILURE_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// A new session: the token goes into the cookie (or the client's memory) and is never stored.
pub struct SignedIn {
    pub session_id: SessionId,
    pub token: String,
    pub csrf_token: String,
    pub user: StaffUser,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "the username or password is wrong",
    )
}

/// Checks a username and password and opens a new session. `origin` carries the request's address and
/// user agent; `previous_token` is the session cookie the browser already had, which is ended so a
/// session id planted before sign-in is never promoted (session fixation).
pub async fn sign_in(
    state: &AppState,
    origin: Actor,
    username: &str,
    password: &str,
    previous_token: Option<&str>,
) -> Result<SignedIn, ApiError> {
    let now = state.now();
    let key: String = username.trim().to_lowercase().chars().take(64).collect();
    let limit = SignInLimit {
        since: now - FAILURE_WINDOW,
        per_account: MAX_FAILURES_PER_ACCOUNT,
        per_address: MAX_FAILURES_PER_ADDRESS,
    };
    // The attempt is counted before Argon2 runs, not after: otherwise every attempt that arrives while
    // others are still being checked sees the same count and all of them get a guess.
    let attempt = state
        .store
        .reserve_sign_in_attempt(&key, &limit, &origin, now)
        .await?;
    if attempt == SignInAttempt::Throttled {
        crate::metrics::sign_in_failed("rate_limited");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed sign-ins; wait 15 minutes and try again",
        )
        .with("retry_after_seconds", FAILURE_WINDOW.as_secs()));
    }

    let account = match Username::parse(username) {
        Ok(name) => state.store.staff_credentials(&name).await?,
        Err(_) => None,
    };
    let (user, phc) = match &account {
        Some((user, phc)) => (Some(user), phc.as_str()),
        None => (None, secrets::dummy_hash().await),
    };
    let matches = secrets::verify_password(password, phc)
        .await
        .map_err(ApiError::internal)?;
    let failure = match user {
        None => Some("unknown_user"),
        Some(_) if !matches => Some("wrong_password"),
        Some(u) if !u.active => Some("inactive"),
        Some(_) => None,
    };
    let Some(user) = user.filter(|_| failure.is_none()) else {
        let reason = failure.unwrap_or("unknown_user");
        state
            .store
            .record_sign_in_failure(&key, user.map(|u| u.id), reason, false, &origin, now)
            .await?;
        crate::metrics::sign_in_failed(reason);
        return Err(invalid_credentials());
    };

    let actor = Actor {
        kind: ActorKind::User,
        id: Some(user.id.to_string()),
        label: user.username.to_string(),
        ..origin
    };
    if let Some(previous) = previous_token
        && let Some(old) = state
            .store
            .session_by_token_hash(&secrets::digest(previous))
            .await?
    {
        state
            .store
            .end_session(old.id, old.user.id, "session.replace", &actor, now)
            .await?;
    }
    let signed_in = SignedIn {
        session_id: SessionId::new(),
        token: secrets::new_session_token(),
        csrf_token: secrets::new_csrf_token(),
        user: user.clone(),
    };
    state
        .store
        .create_session(
            user,
            NewSession {
                id: signed_in.session_id,
                token_hash: secrets::digest(&signed_in.token),
                csrf_token: signed_in.csrf_token.clone(),
            },
            now - state.settings.session_lifetime,
            &actor,
            now,
        )
        .await?;
    Ok(signed_in)
}
