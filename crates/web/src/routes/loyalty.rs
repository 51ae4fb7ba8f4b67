//! Loyalty: a customer's points and history, manual adjustments, the program settings and the liability
//! report. Earning, redeeming and reversing happen inside checkout and returns, not here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use canopy_domain::{CustomerId, Permission};
use canopy_loyalty::{EntryKind, Program};
use canopy_store::{LoyaltyBalance, LoyaltyEntry, LoyaltyLiability};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/loyalty", get(balance))
        .route("/customers/{id}/loyalty/history", get(history))
        .route(
            "/customers/{id}/loyalty/adjustments",
            axum::routing::post(adjust),
        )
        .route("/loyalty/program", get(read_program).put(write_program))
        .route("/loyalty/liability", get(liability))
}

fn parse_id(raw: &str) -> ApiResult<CustomerId> {
    raw.parse().map_err(|_| ApiError::not_found("customer"))
}

#[derive(Deserialize, IntoParams)]
pub struct BalanceParams {
    /// List points expiring within this many days (0–3650, default 30).
    expiring_within_days: Option<u32>,
}

/// A customer's points: `available`, `pending` (with `unlocking` dates), `owed`, `expiring` soon, and
/// `available_value_cents`.
#[utoipa::path(get, path = "/api/v1/customers/{id}/loyalty", tag = "loyalty",
    params(("id" = String, Path), BalanceParams),
    responses((status = 200, body = Object), (status = 404, description = "No such customer")))]
async fn balance(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<BalanceParams>,
) -> ApiResult<Json<LoyaltyBalance>> {
    caller.require(Permission::CustomersRead)?;
    let within = params.expiring_within_days.unwrap_or(30);
    if within > 3650 {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "expiring_within_days must be at most 3650",
        )
        .with_field("expiring_within_days"));
    }
    let horizon = SignedDuration::from_hours(24 * i64::from(within));
    Ok(Json(
        state
            .store
            .loyalty_balance(parse_id(&id)?, horizon, state.now())
            .await?,
    ))
}

/// One history line: the ledger entry plus a sentence saying what caused it.
#[derive(Serialize, ToSchema)]
pub struct EntryView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub entry: LoyaltyEntry,
    /// "Earned on order A-1042", "Adjusted: birthday gift", …
    pub description: String,
}

impl From<LoyaltyEntry> for EntryView {
    fn from(entry: LoyaltyEntry) -> Self {
        let order = entry.order_id.as_deref().unwrap_or("?");
        let description = match entry.kind {
            EntryKind::Earn => format!("Earned on order {order}"),
            EntryKind::Redeem => format!(
                "Redeemed on order {order} for {}",
                dollars(entry.amount_cents.unwrap_or(0))
            ),
            EntryKind::Adjust => format!(
                "Adjusted by {}: {}",
                entry.actor_label,
                entry.reason.as_deref().unwrap_or("")
            ),
            EntryKind::Expire => "Expired".to_string(),
            EntryKind::Reverse if entry.points < 0 => format!(
                "Taken back: return {} of order {order}",
                entry.return_id.as_deref().unwrap_or("?")
            ),
            EntryKind::Reverse => format!(
                "Given back: return {} of order {order}",
                entry.return_id.as_deref().unwrap_or("?")
            ),
        };
        EntryView { entry, description }
    }
}

fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}${}.{:02}", c / 100, c % 100)
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryParams {
    /// At most this many entries (1–200, default 50).
    limit: Option<u32>,
    /// Continue with entries older than this `seq` (the `next_before` of the previous page).
    before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    /// Newest first.
    pub items: Vec<EntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Every change to a customer's points, newest first, each with its cause (order, return, expiry, or the
/// manager and reason of an adjustment).
#[utoipa::path(get, path = "/api/v1/customers/{id}/loyalty/history", tag = "loyalty",
    params(("id" = String, Path), HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 404, description = "No such customer")))]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    caller.require(Permission::CustomersRead)?;
    let limit = match params.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n,
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_limit", "limit must be between 1 and 200")
                    .with_field("limit"),
            );
        }
    };
    let id = parse_id(&id)?;
    state.store.customer(id).await?;
    let mut entries = state
        .store
        .loyalty_history(id, params.before, limit + 1)
        .await?;
    let next_before = if entries.len() > limit as usize {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(HistoryPage {
        items: entries.into_iter().map(EntryView::from).collect(),
        next_before,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    /// Points to add (positive) or remove (negative).
    points: i64,
    /// Why: required, shown in the history and the audit log.
    reason: Option<String>,
}

/// A manager adds or removes points by hand; a reason is required and the change is audited.
#[utoipa::path(post, path = "/api/v1/customers/{id}/loyalty/adjustments", tag = "loyalty",
    params(("id" = String, Path)), request_body = AdjustmentInput,
    responses((status = 201, body = EntryView), (status = 403, description = "Needs loyalty:adjust"),
        (status = 404, description = "No such customer"), (status = 409, description = "Not enough points to remove"),
        (status = 422, description = "Missing reason or bad points")))]
async fn adjust(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<AdjustmentInput>, ApiError>,
) -> ApiResult<(StatusCode, Json<EntryView>)> {
    caller.require(Permission::LoyaltyAdjust)?;
    let ApiJson(input) = body?;
    let entry = state
        .store
        .adjust_loyalty_points(
            &caller.actor,
            parse_id(&id)?,
            input.points,
            input.reason.as_deref().unwrap_or(""),
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(EntryView::from(entry))))
}

/// The loyalty program in force (defaults until an admin saves one).
#[utoipa::path(get, path = "/api/v1/loyalty/program", tag = "loyalty",
    responses((status = 200, body = Object)))]
async fn read_program(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Program>> {
    caller.require(Permission::CustomersRead)?;
    Ok(Json(state.store.loyalty_program().await?))
}

/// Replaces the program. Changes apply to points earned from now on; the value of a point applies to every
/// redemption from now on.
#[utoipa::path(put, path = "/api/v1/loyalty/program", tag = "loyalty", request_body = Object,
    responses((status = 200, body = Object), (status = 403, description = "Needs settings:write"),
        (status = 422, description = "A setting is out of range")))]
async fn write_program(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<Program>, ApiError>,
) -> ApiResult<Json<Program>> {
    caller.require(Permission::SettingsWrite)?;
    let ApiJson(program) = body?;
    Ok(Json(
        state
            .store
            .set_loyalty_program(program, &caller.actor, state.now())
            .await?,
    ))
}

/// Outstanding points and their value at the current program, for the store's accounts.
#[utoipa::path(get, path = "/api/v1/loyalty/liability", tag = "loyalty",
    responses((status = 200, body = Object), (status = 403, description = "Needs audit:read")))]
async fn liability(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<LoyaltyLiability>> {
    // A financial report for managers; audit:read is the manager-level reporting permission.
    caller.require(Permission::AuditRead)?;
    Ok(Json(state.store.loyalty_liability(state.now()).await?))
}
