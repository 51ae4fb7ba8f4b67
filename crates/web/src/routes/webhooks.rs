//! Outbound webhooks: partner endpoints, what was delivered to them, and replays. Admins only.
//! How receivers verify the signature: docs/webhooks.md.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::{
    EventId, EventKind, OutboundPolicy, Permission, WebhookDeliveryId, WebhookEndpointId,
};
use canopy_store::{
    DeliveryFilter, DeliveryState, NewWebhookEndpoint, WebhookAttempt, WebhookDelivery,
    WebhookEndpoint, WebhookEndpointChange,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/event-types", get(event_types))
        .route(
            "/webhooks/endpoints",
            get(list_endpoints).post(create_endpoint),
        )
        .route(
            "/webhooks/endpoints/{id}",
            get(read_endpoint)
                .patch(update_endpoint)
                .delete(delete_endpoint),
        )
        .route("/webhooks/deliveries", get(list_deliveries))
        .route("/webhooks/deliveries/{id}", get(read_delivery))
        .route("/webhooks/deliveries/{id}/replay", post(replay))
}

fn unprocessable(code: &'static str, field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}

/// An absolute http(s) URL with a host. Plain http is allowed for endpoints on a private network.
/// A host that is an address (or `localhost`) must be one the outbound policy permits: public, or on
/// the operator's allow-list. Names are checked again after every lookup, at connect time.
fn endpoint_url(raw: &str, policy: &OutboundPolicy) -> ApiResult<String> {
    let url = raw.trim();
    let invalid = || {
        unprocessable(
            "invalid_url",
            "url",
            "url must be an absolute http:// or https:// URL",
        )
    };
    if url.len() > 2000 || url.chars().any(char::is_whitespace) {
        return Err(invalid());
    }
    let uri: Uri = url.parse().map_err(|_| invalid())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let lower = bare.to_ascii_lowercase();
            let address = match bare.parse::<std::net::IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) if lower == "localhost" || lower.ends_with(".localhost") => {
                    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
                }
                Err(_) => None,
            };
            if address.is_some_and(|ip| !policy.permits(ip)) {
                return Err(unprocessable(
                    "url_not_allowed",
                    "url",
                    "webhooks may only point at public addresses (an operator can allow a private \
                     partner network with CANOPY_WEBHOOK_ALLOW)",
                ));
            }
            Ok(url.to_string())
        }
        _ => Err(invalid()),
    }
}

fn event_set(names: &[String]) -> ApiResult<BTreeSet<EventKind>> {
    if names.is_empty() {
        return Err(unprocessable(
            "required",
            "events",
            "subscribe to at least one event",
        ));
    }
    canopy_domain::bounds::list("events", names.len(), canopy_domain::bounds::MAX_LIST)?;
    names
        .iter()
        .map(|n| {
            EventKind::parse(n.trim()).ok_or_else(|| {
                unprocessable(
                    "invalid_choice",
                    "events",
                    format!(
                        "unknown event '{n}'; events are {}",
                        EventKind::ALL.map(EventKind::as_str).join(", ")
                    ),
                )
            })
        })
        .collect()
}

fn parse_endpoint_id(raw: &str) -> ApiResult<WebhookEndpointId> {
    raw.parse()
        .map_err(|_| ApiError::not_found("webhook endpoint"))
}

fn parse_delivery_id(raw: &str) -> ApiResult<WebhookDeliveryId> {
    raw.parse()
        .map_err(|_| ApiError::not_found("webhook delivery"))
}

#[derive(Serialize, ToSchema)]
pub struct EventTypes {
    items: Vec<&'static str>,
}

/// Every event an endpoint can subscribe to.
#[utoipa::path(get, path = "/api/v1/webhooks/event-types", tag = "webhooks", responses((status = 200, body = EventTypes)))]
async fn event_types(caller: Caller) -> ApiResult<Json<EventTypes>> {
    caller.require(Permission::SettingsWrite)?;
    Ok(Json(EventTypes {
        items: EventKind::ALL.map(EventKind::as_str).to_vec(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<WebhookEndpoint>,
}

#[utoipa::path(get, path = "/api/v1/webhooks/endpoints", tag = "webhooks", responses((status = 200, body = EndpointList)))]
async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<EndpointList>> {
    caller.require(Permission::SettingsWrite)?;
    Ok(Json(EndpointList {
        items: state.store.webhook_endpoints().await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    url: String,
    description: Option<String>,
    /// Event names, e.g. `["customer.created", "consent.changed"]`.
    events: Vec<String>,
    /// The signing secret; generated when absent (at least 16 characters when given).
    secret: Option<String>,
}

/// An endpoint with its signing secret: returned only when the secret is created or rotated.
#[derive(Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    endpoint: WebhookEndpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// Registers an endpoint. The response carries the signing secret; it is not shown again.
#[utoipa::path(post, path = "/api/v1/webhooks/endpoints", tag = "webhooks", request_body = NewEndpoint,
    responses((status = 201, body = EndpointWithSecret), (status = 422, description = "Bad URL or event name")))]
async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<NewEndpoint>, ApiError>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecret>)> {
    caller.require(Permission::SettingsWrite)?;
    let ApiJson(input) = body?;
    let url = endpoint_url(&input.url, &state.settings.webhook_policy)?;
    let events = event_set(&input.events)?;
    let description =
        canopy_domain::text::optional("description", input.description.as_deref(), 200)?;
    let secret = match input.secret.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if s.len() < 16 || s.len() > 200 => {
            return Err(unprocessable(
                "invalid_secret",
                "secret",
                "secret must be 16 to 200 characters",
            ));
        }
        Some(s) => Some(s.to_string()),
    };
    let (endpoint, secret) = state
        .store
        .create_webhook_endpoint(
            NewWebhookEndpoint {
                url,
                description,
                events,
                secret,
            },
            &caller.actor,
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointWithSecret {
            endpoint,
            secret: Some(secret),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks/endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "No such endpoint")))]
async fn read_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<WebhookEndpoint>> {
    caller.require(Permission::SettingsWrite)?;
    Ok(Json(
        state
            .store
            .webhook_endpoint(parse_endpoint_id(&id)?)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    url: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    events: Option<Vec<String>>,
    /// `false` pauses deliveries (events are not queued for it while inactive).
    active: Option<bool>,
    /// `true` generates a new secret, returned in this response only.
    #[serde(default)]
    rotate_secret: bool,
}

/// Distinguishes a field sent as `null` (Some(None)) from one left out (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[utoipa::path(patch, path = "/api/v1/webhooks/endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = EndpointPatch,
    responses((status = 200, body = EndpointWithSecret), (status = 404, description = "No such endpoint"),
        (status = 422, description = "Bad URL or event name")))]
async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<EndpointPatch>, ApiError>,
) -> ApiResult<Json<EndpointWithSecret>> {
    caller.require(Permission::SettingsWrite)?;
    let ApiJson(input) = body?;
    let id = parse_endpoint_id(&id)?;
    let change = WebhookEndpointChange {
        url: input
            .url
            .as_deref()
            .map(|u| endpoint_url(u, &state.settings.webhook_policy))
            .transpose()?,
        description: input
            .description
            .map(|d| canopy_domain::text::optional("description", d.as_deref(), 200))
            .transpose()?,
        events: input.events.as_deref().map(event_set).transpose()?,
        active: input.active,
        rotate_secret: input.rotate_secret,
    };
    let (endpoint, secret) = state
        .store
        .update_webhook_endpoint(id, change, &caller.actor, state.now())
        .await?;
    Ok(Json(EndpointWithSecret { endpoint, secret }))
}

/// Deletes an endpoint; undelivered events for it are cancelled, its delivery history stays readable.
#[utoipa::path(delete, path = "/api/v1/webhooks/endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "No such endpoint")))]
async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::SettingsWrite)?;
    state
        .store
        .delete_webhook_endpoint(parse_endpoint_id(&id)?, &caller.actor, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct DeliveryParams {
    endpoint_id: Option<String>,
    event_id: Option<String>,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    state: Option<String>,
    /// 1–200, default 50.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<WebhookDelivery>,
}

/// Deliveries newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "webhooks", params(DeliveryParams),
    responses((status = 200, body = DeliveryList)))]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<DeliveryList>> {
    caller.require(Permission::SettingsWrite)?;
    let bad = |field: &'static str, message: &str| {
        ApiError::bad_request("invalid_query", message.to_string()).with_field(field)
    };
    let endpoint_id = params
        .endpoint_id
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|_| bad("endpoint_id", "endpoint_id is not an id"))
        })
        .transpose()?;
    let event_id: Option<EventId> = params
        .event_id
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|_| bad("event_id", "event_id is not an id"))
        })
        .transpose()?;
    let delivery_state = params
        .state
        .as_deref()
        .map(|s| {
            DeliveryState::parse(s).ok_or_else(|| {
                bad(
                    "state",
                    "state must be pending, delivered, failed or cancelled",
                )
            })
        })
        .transpose()?;
    let limit = match params.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n,
        Some(_) => return Err(bad("limit", "limit must be between 1 and 200")),
    };
    let items = state
        .store
        .webhook_deliveries(&DeliveryFilter {
            endpoint_id,
            event_id,
            state: delivery_state,
            limit,
        })
        .await?;
    Ok(Json(DeliveryList { items }))
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    delivery: WebhookDelivery,
    /// Every HTTP attempt, oldest first.
    #[schema(value_type = Vec<Object>)]
    attempts: Vec<WebhookAttempt>,
}

#[utoipa::path(get, path = "/api/v1/webhooks/deliveries/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryView), (status = 404, description = "No such delivery")))]
async fn read_delivery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<DeliveryView>> {
    caller.require(Permission::SettingsWrite)?;
    let (delivery, attempts) = state
        .store
        .webhook_delivery(parse_delivery_id(&id)?)
        .await?;
    Ok(Json(DeliveryView { delivery, attempts }))
}

/// Sends a delivery's event again, as a new delivery due now (same event id, so receivers can dedupe).
#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/replay", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = Object), (status = 404, description = "No such delivery, or its endpoint was deleted")))]
async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<WebhookDelivery>)> {
    caller.require(Permission::SettingsWrite)?;
    let delivery = state
        .store
        .replay_webhook_delivery(parse_delivery_id(&id)?, &caller.actor, state.now())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}
