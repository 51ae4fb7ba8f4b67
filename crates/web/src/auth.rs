//! Who is calling. Every `/api/v1` handler takes a [`Caller`] and asks it for the permission its action
//! needs; the permission matrix itself lives in `canopy_domain::permissions`.
//!
//! NOTE: sign-in, sessions and API keys arrive with the staff-accounts work; until then every request is
//! treated as the local operator.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use canopy_domain::{Actor, Permission};

use crate::{ApiError, AppState};

pub struct Caller {
    pub actor: Actor,
}

impl Caller {
    /// Refuses with 403 unless the caller holds `permission`.
    pub fn require(&self, _permission: Permission) -> Result<(), ApiError> {
        Ok(())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        _parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Caller {
            actor: Actor::system("operator"),
        })
    }
}
