//! Order-status texts: the templates admins edit, the outbox staff can check, and the inbound webhook the
//! SMS provider calls when a customer replies (STOP, START).
//!
//! The inbound webhook cannot use staff sign-in: the provider calls it. It is authenticated with a shared
//! secret in the URL (`?token=`), configured as `CANOPY_SMS_INBOUND_TOKEN`; without one the endpoint is
//! off. See docs/sms.md.

use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use canopy_domain::{CustomerId, NotifiedStatus, Permission, PhoneNumber, SmsKeyword, SmsTemplate};
use canopy_store::{SmsFilter, SmsMessage, SmsState, SmsTemplateView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sms/templates", get(list_templates))
        .route("/sms/templates/{status}", put(set_template))
        .route("/sms/messages", get(list_messages))
}

/// Called by the SMS provider, not staff: authenticated by its token, not a session.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/sms/inbound", post(inbound))
}

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<SmsTemplateView>,
}

/// The message text per notifying status (`received`, `ready_for_pickup`, `out_for_delivery`).
#[utoipa::path(get, path = "/api/v1/sms/templates", tag = "sms",
    responses((status = 200, body = TemplateList)))]
async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<TemplateList>> {
    caller.require(Permission::SettingsWrite)?;
    Ok(Json(TemplateList {
        items: state.store.sms_templates().await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    /// Text with placeholders `{first_name}`, `{order}`, `{status}`; at most 600 characters.
    body: String,
}

/// Replaces one status's template. Messages already queued keep their text.
#[utoipa::path(put, path = "/api/v1/sms/templates/{status}", tag = "sms", params(("status" = String, Path)),
    request_body = TemplateRequest,
    responses((status = 200, body = Object), (status = 404, description = "Not a notifying status"),
        (status = 422, description = "Unknown placeholder or too long")))]
async fn set_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(status): ApiPath<String>,
    body: Result<ApiJson<TemplateRequest>, ApiError>,
) -> ApiResult<Json<SmsTemplateView>> {
    caller.require(Permission::SettingsWrite)?;
    let ApiJson(input) = body?;
    let status = NotifiedStatus::parse(&status).ok_or_else(|| {
        ApiError::not_found("template (statuses: received, ready_for_pickup, out_for_delivery)")
    })?;
    let template = SmsTemplate::parse(&input.body)?;
    Ok(Json(
        state
            .store
            .set_sms_template(status, template, &caller.actor, state.now())
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct MessageParams {
    order_id: Option<String>,
    customer_id: Option<String>,
    /// `pending`, `sent`, `failed` or `skipped`.
    state: Option<String>,
    /// 1–200, default 50.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<SmsMessage>,
}

/// Queued and sent texts, newest first: whether the customer was told, and if not, why.
#[utoipa::path(get, path = "/api/v1/sms/messages", tag = "sms", params(MessageParams),
    responses((status = 200, body = MessageList)))]
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<MessageParams>,
) -> ApiResult<Json<MessageList>> {
    caller.require(Permission::OrdersRead)?;
    let customer_id = params
        .customer_id
        .as_deref()
        .map(|c| {
            c.parse::<CustomerId>().map_err(|_| {
                ApiError::bad_request("invalid_customer_id", "customer_id is not an id")
                    .with_field("customer_id")
            })
        })
        .transpose()?;
    let sms_state = match params.state.as_deref() {
        None => None,
        Some("pending") => Some(SmsState::Pending),
        Some("sent") => Some(SmsState::Sent),
        Some("failed") => Some(SmsState::Failed),
        Some("skipped") => Some(SmsState::Skipped),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_state",
                "state must be pending, sent, failed or skipped",
            )
            .with_field("state"));
        }
    };
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
    let items = state
        .store
        .sms_messages(&SmsFilter {
            order_id: params.order_id,
            customer_id,
            state: sms_state,
            limit,
        })
        .await?;
    Ok(Json(MessageList { items }))
}

#[derive(Deserialize, IntoParams)]
pub struct InboundParams {
    /// The shared secret configured as `CANOPY_SMS_INBOUND_TOKEN`.
    token: Option<String>,
}

/// Twilio's inbound-message fields; others it sends are ignored.
#[derive(Deserialize, ToSchema)]
pub struct InboundMessage {
    #[serde(rename = "From")]
    from: String,
    #[serde(rename = "Body", default)]
    body: String,
}

/// Compares secrets without an early exit, so response time does not reveal how much of a guess matched.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An empty TwiML reply: the provider sends its own compliant STOP/START confirmations.
fn twiml() -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}

/// Called by the SMS provider for every reply. STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE (and
/// STOPALL) revoke SMS consent, marketing and transactional, at once; START and UNSTOP restore
/// transactional texts. The sender is matched to a customer by E.164 phone number.
#[utoipa::path(post, path = "/api/v1/sms/inbound", tag = "sms", params(InboundParams),
    request_body(content = InboundMessage, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Empty TwiML response"), (status = 401, description = "Wrong or missing token"),
        (status = 404, description = "Inbound SMS is not configured")))]
async fn inbound(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<InboundParams>,
    form: Result<Form<InboundMessage>, axum::extract::rejection::FormRejection>,
) -> ApiResult<Response> {
    let Some(expected) = state.settings.sms_inbound_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "sms_inbound_disabled",
            "inbound SMS is not configured (set CANOPY_SMS_INBOUND_TOKEN)",
        ));
    };
    if !params
        .token
        .as_deref()
        .is_some_and(|t| same_secret(t, expected))
    {
        return Err(ApiError::unauthorized());
    }
    let Form(message) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let Some(keyword) = SmsKeyword::parse(&message.body) else {
        return Ok(twiml());
    };
    let phone = match PhoneNumber::parse(&message.from, state.settings.phone_region) {
        Ok(phone) => phone,
        Err(_) => {
            tracing::warn!("inbound SMS keyword from a number that does not parse; ignored");
            return Ok(twiml());
        }
    };
    let outcome = state
        .store
        .apply_sms_keyword(&phone, keyword, message.body.trim(), state.now())
        .await?;
    tracing::info!(
        ?keyword,
        customers = outcome.customers.len(),
        "inbound SMS keyword applied"
    );
    Ok(twiml())
}
