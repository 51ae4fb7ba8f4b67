//! Privacy requests: the right to know (an export of everything held about a customer), the right to
//! delete (erasure), re-creating a customer who returns after an erasure, the retention state the ID
//! panel shows, and the policy in force. The rules are `canopy-privacy` data; the work is the store's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::{CustomerId, CustomerPatch, Permission, text};
use canopy_store::{Compliance, ErasureReport, RetentionState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::customers::CustomerView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/privacy-export", get(export))
        .route("/customers/{id}/erasure", post(erase))
        .route("/customers/{id}/retention", get(retention))
        .route("/customers/returning", post(create_returning))
        .route("/privacy/policy", get(policy))
}

fn parse_id(raw: &str) -> ApiResult<CustomerId> {
    raw.parse().map_err(|_| ApiError::not_found("customer"))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// Include the medical card (needs `medical:read`; the read is audited).
    include_medical: Option<bool>,
}

/// Everything Canopy holds about the customer, as one JSON document read in one consistent snapshot.
/// The request is logged (request log and audit).
#[utoipa::path(get, path = "/api/v1/customers/{id}/privacy-export", tag = "privacy",
    params(("id" = String, Path), ExportParams),
    responses((status = 200, body = Object), (status = 403, description = "Needs privacy:export"),
        (status = 404, description = "No such customer")))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Permission::PrivacyExport)?;
    let medical = params.include_medical.unwrap_or(false);
    if medical {
        caller.require(Permission::MedicalRead)?;
    }
    let document = state
        .store
        .privacy_export(parse_id(&id)?, medical, &caller.actor, state.now())
        .await?;
    Ok(Json(document))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// Why (the customer's request, its date and channel): kept in the request log.
    reason: String,
}

/// Erases the customer's personal data; sales records stay without identity. Refused (409) while
/// orders are open, a merge is pending (a pair on the review list), or the profile was merged away.
#[utoipa::path(post, path = "/api/v1/customers/{id}/erasure", tag = "privacy",
    params(("id" = String, Path)), request_body = ErasureRequest,
    responses((status = 200, body = Object), (status = 403, description = "Needs privacy:erase"),
        (status = 409, description = "`open_orders`, `pending_merge` (a pair on the duplicate review list), `merged_profile`, or `already_erased`"),
        (status = 422, description = "No reason given")))]
async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ErasureRequest>,
) -> ApiResult<Json<ErasureReport>> {
    caller.require(Permission::PrivacyErase)?;
    let reason = text::required("reason", &input.reason, 500)?;
    let report = state
        .store
        .erase_customer(parse_id(&id)?, &reason, &caller.actor, state.now())
        .await?;
    Ok(Json(report))
}

/// Where the customer's ID data stands against the policy: when the image and document number are
/// purged, and whether the customer was erased.
#[utoipa::path(get, path = "/api/v1/customers/{id}/retention", tag = "privacy",
    params(("id" = String, Path)), responses((status = 200, body = Object)))]
async fn retention(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RetentionState>> {
    caller.require(Permission::CustomersRead)?;
    let policy = state.store.privacy_policy().await?;
    let view = state.store.retention_state(parse_id(&id)?, &policy).await?;
    Ok(Json(view))
}

/// Creates a customer whose earlier profile was erased, after they came back and consented again:
/// the tombstone entries that would refuse them are removed (audited).
#[utoipa::path(post, path = "/api/v1/customers/returning", tag = "privacy", request_body = Object,
    responses((status = 201, body = Object), (status = 409, description = "Already on file")))]
async fn create_returning(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CustomerPatch>,
) -> ApiResult<(StatusCode, Json<CustomerView>)> {
    caller.require(Permission::CustomersWrite)?;
    let draft = input.validate_all(state.settings.phone_region, state.today())?;
    let customer = state
        .store
        .create_returning_customer(draft, &caller.actor, state.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomerView::new(customer, Compliance::default(), &state)),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct PolicyView {
    /// The policy in force: the strictest of the stores' jurisdictions.
    #[schema(value_type = Object)]
    effective: canopy_privacy::Policy,
    /// Every jurisdiction with a policy file of its own.
    #[schema(value_type = Vec<Object>)]
    jurisdictions: Vec<canopy_privacy::Policy>,
}

/// The data policy in force, with each rule's citation.
#[utoipa::path(get, path = "/api/v1/privacy/policy", tag = "privacy",
    responses((status = 200, body = PolicyView)))]
async fn policy(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PolicyView>> {
    caller.require(Permission::CustomersRead)?;
    let effective = state.store.privacy_policy().await?;
    let all = canopy_privacy::Policies::embedded().map_err(ApiError::internal)?;
    Ok(Json(PolicyView {
        effective,
        jurisdictions: all.states().to_vec(),
    }))
}
