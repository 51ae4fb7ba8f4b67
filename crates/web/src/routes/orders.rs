//! Orders after checkout: reading, lifecycle changes, returns, voids and purchase history.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::{CustomerId, OrderId, Permission, text};
use canopy_orders::{Order, OrderStatus, SalesChannel};
use canopy_store::{OrderFilter, OrderPage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::input::{id, invalid, timestamp};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}", get(read))
        .route("/orders/{id}/status", post(change_status))
        .route("/orders/{id}/returns", post(return_lines))
        .route("/orders/{id}/void", post(void))
        .route("/customers/{id}/orders", get(history))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// `ready_for_pickup`, `out_for_delivery`, `completed` or `cancelled`.
    status: String,
    reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    lines: Vec<ReturnLine>,
    reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    line_no: u32,
    quantity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInput {
    reason: String,
}

/// How long the staff member (or key) that rang up an order may read it back without
/// `orders:history`: long enough to reprint or correct the receipt, too short to browse past sales.
pub const OWN_RECEIPT_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(12);

/// One order in full. Anyone with `orders:history` may read any order, and each such view is
/// written to the audit log (it is a view of a customer's purchases). With only `orders:read`, a
/// caller may read back the orders it rang up itself in the last 12 hours (the receipt it just
/// made); anything else is 403, so order ids seen elsewhere (the loyalty history) do not open a
/// way around the audited purchase history.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, description = "Needs orders:history"),
        (status = 404, description = "No such order")))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Order>> {
    caller.require(Permission::OrdersRead)?;
    let id: OrderId = id(&raw, "order")?;
    let now = state.now();
    if caller.can(Permission::PurchaseHistoryFull) {
        return Ok(Json(state.store.view_order(id, &caller.actor, now).await?));
    }
    let order = state.store.order(id).await?;
    let own = caller.actor.id.is_some() && order.staff_id == caller.actor.id;
    let recent = order.placed_at >= now - OWN_RECEIPT_WINDOW;
    if own && recent {
        Ok(Json(order))
    } else {
        Err(ApiError::forbidden(
            Permission::PurchaseHistoryFull.as_str(),
        ))
    }
}

/// Moves an order along its lifecycle; an illegal change is 409 `illegal_status_transition`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/status", tag = "orders", params(("id" = String, Path)), request_body = StatusInput,
    responses((status = 200, body = Object), (status = 409, description = "illegal_status_transition")))]
async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<StatusInput>, ApiError>,
) -> ApiResult<Json<Order>> {
    caller.require(Permission::OrdersWrite)?;
    let ApiJson(input) = body?;
    let id: OrderId = id(&raw, "order")?;
    caller.require_store(state.store.order_store(id).await?)?;
    let to = OrderStatus::parse(input.status.trim()).ok_or_else(|| {
        invalid(
            "status",
            "invalid_choice",
            "status must be ready_for_pickup, out_for_delivery, completed or cancelled",
        )
    })?;
    let reason = text::optional("reason", input.reason.as_deref(), 500)?;
    Ok(Json(
        state
            .store
            .change_order_status(id, to, reason.as_deref(), &caller.actor, state.now())
            .await?,
    ))
}

/// Returns units of some lines; refunds what was paid for them and restores the purchase-limit
/// allotment.
#[utoipa::path(post, path = "/api/v1/orders/{id}/returns", tag = "orders", params(("id" = String, Path)), request_body = ReturnInput,
    responses((status = 200, body = Object), (status = 409, description = "The order cannot be returned"),
        (status = 422, description = "More than was sold, or an unknown line")))]
async fn return_lines(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<ReturnInput>, ApiError>,
) -> ApiResult<Json<Order>> {
    caller.require(Permission::OrdersWrite)?;
    let ApiJson(input) = body?;
    let id: OrderId = id(&raw, "order")?;
    caller.require_store(state.store.order_store(id).await?)?;
    let reason = text::required("reason", &input.reason, 500)?;
    canopy_domain::bounds::list(
        "lines",
        input.lines.len(),
        canopy_domain::bounds::MAX_ORDER_LINES,
    )?;
    let lines: Vec<(u32, u32)> = input
        .lines
        .iter()
        .map(|l| (l.line_no, l.quantity))
        .collect();
    Ok(Json(
        state
            .store
            .return_lines(id, &lines, &reason, &caller.actor, state.now())
            .await?,
    ))
}

/// Voids a whole order (a mistaken sale): it no longer counts toward purchase limits.
#[utoipa::path(post, path = "/api/v1/orders/{id}/void", tag = "orders", params(("id" = String, Path)), request_body = VoidInput,
    responses((status = 200, body = Object), (status = 409, description = "illegal_status_transition")))]
async fn void(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<VoidInput>, ApiError>,
) -> ApiResult<Json<Order>> {
    caller.require(Permission::OrdersWrite)?;
    let ApiJson(input) = body?;
    let id: OrderId = id(&raw, "order")?;
    caller.require_store(state.store.order_store(id).await?)?;
    let reason = text::required("reason", &input.reason, 500)?;
    Ok(Json(
        state
            .store
            .void_order(id, &reason, &caller.actor, state.now())
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryParams {
    channel: Option<String>,
    status: Option<String>,
    /// Placed at or after (RFC 3339).
    from: Option<String>,
    /// Placed before (RFC 3339).
    to: Option<String>,
    /// 1–100, default 20 (the summary view caps it at 10).
    limit: Option<u32>,
    /// Continue with orders numbered below this (`next_before` of the previous page).
    before: Option<i64>,
    /// `full` (needs `orders:history`; audited) or `summary`. Default: `full` when permitted.
    view: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    /// `full` or `summary`.
    view: &'static str,
    #[schema(value_type = Object)]
    #[serde(flatten)]
    page: OrderPage,
}

/// A customer's purchase history. Budtenders (`orders:read`) get a recent summary: the last 30
/// days, at most 10 orders, no lines. Managers (`orders:history`) get the full history with
/// lines and events, and every such view is written to the audit log.
#[utoipa::path(get, path = "/api/v1/customers/{id}/orders", tag = "orders", params(("id" = String, Path), HistoryParams),
    responses((status = 200, body = HistoryPage)))]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    caller.require(Permission::OrdersRead)?;
    let customer: CustomerId = id(&raw, "customer")?;
    let full = match params.view.as_deref() {
        Some("summary") => false,
        Some("full") => {
            caller.require(Permission::PurchaseHistoryFull)?;
            true
        }
        None => caller.require(Permission::PurchaseHistoryFull).is_ok(),
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_view", "view must be full or summary")
                    .with_field("view"),
            );
        }
    };
    let limit = match params.limit {
        None => 20,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_limit", "limit must be between 1 and 100")
                    .with_field("limit"),
            );
        }
    };
    let channel = params
        .channel
        .as_deref()
        .map(|c| {
            SalesChannel::parse(c).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_channel",
                    "channel must be in_store, pickup or delivery",
                )
                .with_field("channel")
            })
        })
        .transpose()?;
    let status = params
        .status
        .as_deref()
        .map(|s| {
            OrderStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request("invalid_status", "unknown status").with_field("status")
            })
        })
        .transpose()?;
    let now = state.now();
    let mut filter = OrderFilter {
        channel,
        status,
        from: timestamp("from", params.from.as_deref())?,
        to: timestamp("to", params.to.as_deref())?,
        before: params.before,
        limit,
    };
    if !full {
        let recent = now
            .checked_sub(jiff::SignedDuration::from_hours(30 * 24))
            .unwrap_or(now);
        filter.from = Some(filter.from.map_or(recent, |f| f.max(recent)));
        filter.limit = filter.limit.min(10);
    } else {
        let described = serde_json::json!({
            "channel": params.channel, "status": params.status, "from": params.from, "to": params.to,
            "before": params.before, "limit": limit,
        });
        state
            .store
            .record_history_view(customer, &caller.actor, now, &described)
            .await?;
    }
    let page = state.store.customer_orders(customer, &filter, full).await?;
    Ok(Json(HistoryPage {
        view: if full { "full" } else { "summary" },
        page,
    }))
}
