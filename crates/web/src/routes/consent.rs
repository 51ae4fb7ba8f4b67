//! A customer's consent to be texted and emailed: the current state and the ledger behind it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use canopy_domain::{
    ConsentChange, ConsentChannel, ConsentEntry, ConsentPurpose, ConsentSource, ConsentState,
    ConsentStatus, CustomerId, Permission,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};

pub fn routes() -> Router<AppState> {
    Router::new().route("/customers/{id}/consent", get(read).post(record))
}

fn parse_id(raw: &str) -> ApiResult<CustomerId> {
    raw.parse().map_err(|_| ApiError::not_found("customer"))
}

#[derive(Serialize, ToSchema)]
pub struct ConsentView {
    #[schema(value_type = String)]
    customer_id: CustomerId,
    /// One row per channel × purpose: the latest status and whether Canopy may send now.
    #[schema(value_type = Vec<Object>)]
    current: Vec<ConsentState>,
    /// Every recorded change, newest first.
    #[schema(value_type = Vec<Object>)]
    history: Vec<ConsentEntry>,
}

async fn view(state: &AppState, id: CustomerId) -> ApiResult<ConsentView> {
    let entries = state.store.consent_entries(id).await?;
    let current = canopy_domain::consent::current(&entries);
    let mut history = entries;
    history.reverse();
    Ok(ConsentView {
        customer_id: id,
        current,
        history,
    })
}

/// The consent in force per channel (sms, email) and purpose (transactional, marketing), with its history.
#[utoipa::path(get, path = "/api/v1/customers/{id}/consent", tag = "consent", params(("id" = String, Path)),
    responses((status = 200, body = ConsentView), (status = 404, description = "No such customer")))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ConsentView>> {
    caller.require(Permission::CustomersRead)?;
    Ok(Json(view(&state, parse_id(&id)?).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `sms` or `email`.
    channel: String,
    /// `transactional` or `marketing`.
    purpose: String,
    /// `granted` or `revoked`.
    status: String,
    /// `pos`, `online` or `api` (keywords and imports record their own).
    source: String,
    /// The version of the disclosure text shown; required to grant marketing.
    disclosure_version: Option<String>,
    /// Where the consent was given, e.g. the IP address of an online form (defaults to the caller's).
    address: Option<String>,
    /// What the customer ticked or said, in words.
    evidence: Option<String>,
}

fn choice<T>(
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> ApiResult<T> {
    parse(value).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_choice",
            format!("{field} must be {allowed}"),
        )
        .with_field(field)
    })
}

impl ConsentRequest {
    fn into_change(self, default_address: Option<String>) -> ApiResult<ConsentChange> {
        let channel = choice(
            "channel",
            &self.channel,
            ConsentChannel::parse,
            "sms or email",
        )?;
        let purpose = choice(
            "purpose",
            &self.purpose,
            ConsentPurpose::parse,
            "transactional or marketing",
        )?;
        let status = choice(
            "status",
            &self.status,
            ConsentStatus::parse,
            "granted or revoked",
        )?;
        let source = choice(
            "source",
            &self.source,
            |s| {
                ConsentSource::parse(s).filter(|s| {
                    matches!(
                        s,
                        ConsentSource::Pos | ConsentSource::Online | ConsentSource::Api
                    )
                })
            },
            "pos, online or api",
        )?;
        let address = canopy_domain::text::optional("address", self.address.as_deref(), 200)?;
        let evidence = canopy_domain::text::optional("evidence", self.evidence.as_deref(), 500)?;
        Ok(
            ConsentChange::new(channel, purpose, status, source, self.disclosure_version)?
                .with_address(address.or(default_address))
                .with_evidence(evidence),
        )
    }
}

/// Records one consent change. Marketing is never granted without the disclosure version shown.
#[utoipa::path(post, path = "/api/v1/customers/{id}/consent", tag = "consent", params(("id" = String, Path)),
    request_body = ConsentRequest,
    responses((status = 201, body = ConsentView), (status = 404, description = "No such customer"),
        (status = 422, description = "A field is invalid")))]
async fn record(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<ConsentRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<ConsentView>)> {
    caller.require(Permission::CustomersWrite)?;
    let ApiJson(input) = body?;
    let id = crate::routes::customers::live_id(&state, &id).await?;
    let change = input.into_change(caller.actor.address.clone())?;
    state
        .store
        .record_consent(id, &[change], &caller.actor, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, id).await?)))
}
