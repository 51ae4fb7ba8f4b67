//! The per-store check-in queue, its live updates (server-sent events) and the dashboard.
//! Each is store-scoped: staff see only the stores they are assigned to (admins every store).
//!
//! The event stream sends the whole waiting queue as one `queue` event when it opens and again
//! after every change. Changes reach every `canopy serve` process: through PostgreSQL
//! LISTEN/NOTIFY, or on SQLite through an in-process broadcast plus a one-second poll of the
//! queue's version (for several processes on one file).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::{CheckinId, CustomerId, Permission, StoreId};
use canopy_limits::RuleBook;
use canopy_store::{Checkin, CheckinOutcome, Dashboard, Engine, Store};
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::input::{id, invalid};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores/{id}/checkins", get(queue).post(check_in))
        .route("/stores/{id}/checkins/events", get(events))
        .route("/stores/{id}/checkins/{checkin_id}/serve", post(serve))
        .route(
            "/stores/{id}/checkins/{checkin_id}",
            axum::routing::delete(remove),
        )
        .route("/dashboard", get(dashboard))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinInput {
    customer_id: String,
}

/// A check-in with the eligibility decision it was let in on.
#[derive(Serialize, ToSchema)]
pub struct Queued {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    checkin: Checkin,
    #[schema(value_type = Object)]
    eligibility: canopy_orders::Eligibility,
}

#[derive(Serialize, ToSchema)]
pub struct Queue {
    #[schema(value_type = Vec<Object>)]
    items: Vec<Checkin>,
}

/// Checks a customer in; banned or ineligible customers are refused with every reason.
#[utoipa::path(post, path = "/api/v1/stores/{id}/checkins", tag = "checkins", params(("id" = String, Path)), request_body = CheckinInput,
    responses((status = 201, body = Object), (status = 422, description = "checkin_refused with reasons")))]
async fn check_in(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<CheckinInput>, ApiError>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    caller.require(Permission::CheckIn)?;
    let ApiJson(input) = body?;
    let store: StoreId = id(&raw, "store")?;
    caller.require_store(store)?;
    let customer: CustomerId = input
        .customer_id
        .parse()
        .map_err(|_| invalid("customer_id", "invalid_id", "customer_id is not a valid id"))?;
    match state
        .store
        .check_in(
            store,
            customer,
            &caller.actor,
            state.now(),
            RuleBook::shared(),
        )
        .await?
    {
        CheckinOutcome::Queued(checkin, eligibility) => Ok((
            StatusCode::CREATED,
            Json(Queued {
                checkin,
                eligibility: *eligibility,
            }),
        )),
        CheckinOutcome::Refused(eligibility) => {
            let reasons = &eligibility.reasons;
            let message = reasons
                .iter()
                .map(|r| r.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            Err(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "checkin_refused", message)
                    .with("reasons", serde_json::to_value(reasons).unwrap_or_default())
                    .with(
                        "eligibility",
                        serde_json::to_value(&*eligibility).unwrap_or_default(),
                    ),
            )
        }
    }
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/checkins", tag = "checkins", params(("id" = String, Path)),
    responses((status = 200, body = Queue)))]
async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Queue>> {
    caller.require(Permission::CustomersRead)?;
    let store: StoreId = id(&raw, "store")?;
    caller.require_store(store)?;
    Ok(Json(Queue {
        items: state.store.checkin_queue(store).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/checkins/{checkin_id}/serve", tag = "checkins",
    params(("id" = String, Path), ("checkin_id" = String, Path)), responses((status = 200, body = Object)))]
async fn serve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, checkin)): ApiPath<(String, String)>,
) -> ApiResult<Json<Checkin>> {
    caller.require(Permission::CheckIn)?;
    let store: StoreId = id(&raw, "store")?;
    caller.require_store(store)?;
    let checkin: CheckinId = id(&checkin, "check-in")?;
    Ok(Json(
        state
            .store
            .close_checkin(store, checkin, "served", &caller.actor, state.now())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/stores/{id}/checkins/{checkin_id}", tag = "checkins",
    params(("id" = String, Path), ("checkin_id" = String, Path)), responses((status = 200, body = Object)))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, checkin)): ApiPath<(String, String)>,
) -> ApiResult<Json<Checkin>> {
    caller.require(Permission::CheckIn)?;
    let store: StoreId = id(&raw, "store")?;
    caller.require_store(store)?;
    let checkin: CheckinId = id(&checkin, "check-in")?;
    Ok(Json(
        state
            .store
            .close_checkin(store, checkin, "removed", &caller.actor, state.now())
            .await?,
    ))
}

struct Watch {
    store: Store,
    store_id: StoreId,
    topic: String,
    receiver: broadcast::Receiver<String>,
    first: bool,
    version: Option<(i64, i64, i64)>,
    poll: bool,
}

async fn snapshot(w: &mut Watch) -> Event {
    if w.poll {
        w.version = w.store.checkin_version(w.store_id).await.ok();
    }
    match w.store.checkin_queue(w.store_id).await {
        Ok(items) => Event::default()
            .event("queue")
            .json_data(serde_json::json!({ "store_id": w.store_id, "items": items }))
            .unwrap_or_else(|_| Event::default().event("error")),
        Err(e) => {
            tracing::warn!(error = %e, "reading the check-in queue for an event stream");
            Event::default().event("error").data("queue unavailable")
        }
    }
}

/// Waits until this store's queue changes (a notification, or on SQLite a new version).
async fn changed(w: &mut Watch) {
    loop {
        let tick = tokio::time::sleep(Duration::from_secs(1));
        tokio::select! {
            msg = w.receiver.recv() => match msg {
                Ok(topic) if topic == w.topic => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = tick, if w.poll => {
                let now = w.store.checkin_version(w.store_id).await.ok();
                if now.is_some() && now != w.version {
                    return;
                }
            }
        }
    }
}

/// Live queue updates as server-sent events: a `queue` event with every waiting customer, sent
/// on connect and after each change, from whichever server process made it.
#[utoipa::path(get, path = "/api/v1/stores/{id}/checkins/events", tag = "checkins", params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream of `queue` events")))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Permission::CustomersRead)?;
    let store_id: StoreId = id(&raw, "store")?;
    caller.require_store(store_id)?;
    state.store.retail_store(store_id).await?;
    let receiver = state.store.subscribe().await?;
    let watch = Watch {
        poll: state.store.engine() == Engine::Sqlite,
        store: state.store.clone(),
        topic: format!("checkins:{store_id}"),
        store_id,
        receiver,
        first: true,
        version: None,
    };
    let stream = futures::stream::unfold(watch, |mut w| async move {
        if !w.first {
            changed(&mut w).await;
        }
        w.first = false;
        let event = snapshot(&mut w).await;
        Some((Ok(event), w))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Deserialize, IntoParams)]
pub struct DashboardParams {
    store: String,
}

/// Customers, groups, today's orders (store-local day) and who is checked in now.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "checkins", params(DashboardParams), responses((status = 200, body = Object)))]
async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<DashboardParams>,
) -> ApiResult<Json<Dashboard>> {
    caller.require(Permission::CustomersRead)?;
    let store: StoreId = id(&params.store, "store")?;
    caller.require_store(store)?;
    Ok(Json(state.store.dashboard(store, state.now()).await?))
}
