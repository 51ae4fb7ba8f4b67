//! The audit log, for managers and auditors. Read-only: nothing in the product updates or deletes a row.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use canopy_domain::Permission;
use canopy_store::{AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// `customer`, `staff_user`, `api_key`, …
    entity: Option<String>,
    entity_id: Option<String>,
    /// The acting user's or key's id.
    actor: Option<String>,
    /// e.g. `customer.update`, `session.sign_in_failed`.
    action: Option<String>,
    /// Only entries older than this `seq` (pass the previous page's `next_before`).
    before: Option<i64>,
    /// 1–500, default 100.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    items: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next_before: Option<i64>,
}

fn filter_text(raw: Option<String>) -> Option<String> {
    raw.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Audit entries, newest first, filtered by entity, actor or action.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 403, description = "Needs audit:read")))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    caller.require(Permission::AuditRead)?;
    let limit = match params.limit {
        None => 100,
        Some(n) if (1..=500).contains(&n) => n,
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_limit", "limit must be between 1 and 500")
                    .with_field("limit"),
            );
        }
    };
    let items = state
        .store
        .audit_entries(&AuditFilter {
            entity: filter_text(params.entity),
            entity_id: filter_text(params.entity_id),
            actor_id: filter_text(params.actor),
            action: filter_text(params.action),
            before: params.before,
            limit,
        })
        .await?;
    let next_before = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { items, next_before }))
}
