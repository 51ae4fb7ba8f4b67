//! Retail stores: licence, jurisdiction, time zone, limits enforcement and history scope.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use canopy_domain::{Permission, StoreId, text};
use canopy_limits::{EnforcementMode, Jurisdiction, RuleBook};
use canopy_orders::{HistoryScope, LicenceType, RetailStore, StoreSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::input::{id, invalid};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores", get(list).post(create))
        .route("/stores/{id}", get(read).patch(update))
}

/// Store fields; on create `name`, `licence_type` and `jurisdiction` are required, on update
/// every field is optional and absent ones keep their value.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StoreInput {
    name: Option<String>,
    /// Licence holder; stores of one licensee share limit history (default: the store name).
    licensee: Option<String>,
    /// `adult_use`, `medical` or `both`.
    licence_type: Option<String>,
    /// `US-CO`, `US-WA`, `CA-ON` …: must have purchase-limit rules.
    jurisdiction: Option<String>,
    /// IANA zone; default: the jurisdiction's.
    time_zone: Option<String>,
    /// `block` (default) or `warn`.
    enforcement: Option<String>,
    /// `store`, `licensee` (default) or `state`.
    history_scope: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StoreList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<RetailStore>,
}

fn settings(input: StoreInput, base: Option<&StoreSettings>) -> ApiResult<StoreSettings> {
    let name = match (input.name, base) {
        (Some(n), _) => text::required("name", &n, 100)?,
        (None, Some(b)) => b.name.clone(),
        (None, None) => text::required("name", "", 100)?,
    };
    let licensee = match (input.licensee, base) {
        (Some(l), _) => text::required("licensee", &l, 200)?,
        (None, Some(b)) => b.licensee.clone(),
        (None, None) => name.clone(),
    };
    let licence_type = match (input.licence_type.as_deref(), base) {
        (Some(raw), _) => LicenceType::parse(raw).ok_or_else(|| {
            invalid(
                "licence_type",
                "invalid_choice",
                "licence_type must be adult_use, medical or both",
            )
        })?,
        (None, Some(b)) => b.licence_type,
        (None, None) => {
            return Err(invalid(
                "licence_type",
                "required",
                "licence_type is required",
            ));
        }
    };
    let jurisdiction: Jurisdiction = match (input.jurisdiction.as_deref(), base) {
        (Some(raw), _) => raw
            .parse()
            .map_err(|e: String| invalid("jurisdiction", "invalid_jurisdiction", e))?,
        (None, Some(b)) => b.jurisdiction.clone(),
        (None, None) => {
            return Err(invalid(
                "jurisdiction",
                "required",
                "jurisdiction is required",
            ));
        }
    };
    let rule_set = RuleBook::shared().rule_set(&jurisdiction).map_err(|_| {
        invalid(
            "jurisdiction",
            "unknown_jurisdiction",
            format!("no purchase-limit rules for {jurisdiction}"),
        )
    })?;
    let time_zone = match (input.time_zone, base) {
        (Some(tz), _) => tz.trim().to_string(),
        (None, Some(b)) if input.jurisdiction.is_none() => b.time_zone.clone(),
        _ => rule_set.time_zone_name().to_string(),
    };
    if jiff::tz::TimeZone::get(&time_zone).is_err() {
        return Err(invalid(
            "time_zone",
            "invalid_time_zone",
            format!("unknown time zone {time_zone:?}"),
        ));
    }
    let enforcement = match (input.enforcement.as_deref(), base) {
        (Some("block"), _) => EnforcementMode::Block,
        (Some("warn"), _) => EnforcementMode::Warn,
        (Some(_), _) => {
            return Err(invalid(
                "enforcement",
                "invalid_choice",
                "enforcement must be block or warn",
            ));
        }
        (None, Some(b)) => b.enforcement,
        (None, None) => EnforcementMode::Block,
    };
    let history_scope = match (input.history_scope.as_deref(), base) {
        (Some(raw), _) => HistoryScope::parse(raw).ok_or_else(|| {
            invalid(
                "history_scope",
                "invalid_choice",
                "history_scope must be store, licensee or state",
            )
        })?,
        (None, Some(b)) => b.history_scope,
        (None, None) => HistoryScope::default(),
    };
    Ok(StoreSettings {
        name,
        licensee,
        licence_type,
        jurisdiction,
        time_zone,
        enforcement,
        history_scope,
    })
}

#[utoipa::path(get, path = "/api/v1/stores", tag = "stores", responses((status = 200, body = StoreList)))]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<StoreList>> {
    caller.require(Permission::CustomersRead)?;
    Ok(Json(StoreList {
        items: state.store.list_stores().await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/stores", tag = "stores", request_body = StoreInput,
    responses((status = 201, body = Object), (status = 422, description = "A field is invalid")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<StoreInput>, ApiError>,
) -> ApiResult<(StatusCode, Json<RetailStore>)> {
    caller.require(Permission::SettingsWrite)?;
    let ApiJson(input) = body?;
    let settings = settings(input, None)?;
    let store = state
        .store
        .create_store(settings, &caller.actor, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(store)))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}", tag = "stores", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "No such store")))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<RetailStore>> {
    caller.require(Permission::CustomersRead)?;
    let id: StoreId = id(&raw, "store")?;
    Ok(Json(state.store.retail_store(id).await?))
}

#[utoipa::path(patch, path = "/api/v1/stores/{id}", tag = "stores", params(("id" = String, Path)), request_body = StoreInput,
    responses((status = 200, body = Object), (status = 422, description = "A field is invalid")))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<StoreInput>, ApiError>,
) -> ApiResult<Json<RetailStore>> {
    caller.require(Permission::SettingsWrite)?;
    let ApiJson(input) = body?;
    let id: StoreId = id(&raw, "store")?;
    caller.require_store(id)?;
    let existing = state.store.retail_store(id).await?;
    let settings = settings(input, Some(&existing.settings))?;
    Ok(Json(
        state
            .store
            .update_store(id, settings, &caller.actor, state.now())
            .await?,
    ))
}
