//! Checkout and quotes: every channel's sale goes through the same gate.
//!
//! `POST /checkout` requires an `Idempotency-Key` header. The key is stored with a hash of the
//! canonical request and the response for at least 24 hours: a retry with the same body returns
//! the first response (never a second order); the same key with another body is refused with
//! `idempotency_key_reused`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use canopy_domain::{CustomerId, Permission, StoreId, bounds};
use canopy_limits::{ExternalAllotment, RuleBook};
use canopy_orders::{PAYMENT_METHODS, Payment, SalesChannel};
use canopy_store::{CheckoutOutcome, CheckoutRequest, Evaluation, Idempotency, LineInput};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::input::{DecimalInput, MeasuresInput, category, invalid};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checkout", post(checkout))
        .route("/checkout/quote", post(quote))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    customer_id: String,
    store_id: String,
    /// `in_store` (default), `pickup` or `delivery`.
    channel: Option<String>,
    lines: Vec<LineBody>,
    /// Must add up to the total when given.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    payments: Vec<Payment>,
    /// Loyalty points the customer chose to redeem; their value comes off the total after group
    /// discounts. Refused with the other reasons when the customer does not have them available or
    /// they are worth more than the order.
    loyalty_redeem_points: Option<i64>,
    /// Warn-mode stores: a manager's override of an over-limit decision (needs `limits:override`).
    limits_override: Option<OverrideBody>,
    /// Prices different from the catalogue's: the reason (needs `orders:price_override`); stored on
    /// the order and audited.
    price_override: Option<OverrideBody>,
    /// Remaining allotments from the state tracking system. They only tighten local history; a key
    /// with `limits:state_sync` at a store whose history scope is `state` replaces it rule by rule
    /// (`"mode": "replace"` from anyone else is refused).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    external_allotments: Vec<ExternalAllotment>,
    /// The order's id in an external system (online store, POS).
    external_ref: Option<String>,
    /// Caregivers: the linked patient this purchase is for (it counts toward the patient's limits).
    patient_id: Option<String>,
}

/// A SKU from the catalogue, whose category, measures and name come from the catalogue (sending
/// different ones is refused naming the field; a different `unit_price_cents` needs
/// `price_override`), or a product described inline (needs `orders:external_lines`, every measure
/// the store's rules count for its category, and marks the order caller-asserted).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    sku: Option<String>,
    name: Option<String>,
    category: Option<String>,
    /// Default 1.
    quantity: Option<u32>,
    unit_price_cents: Option<i64>,
    #[schema(value_type = Option<String>)]
    net_weight_g: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    concentrate_g: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    thc_mg: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    volume_ml: Option<DecimalInput>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    reason: String,
}

fn parse(input: CheckoutInput, caller: &Caller) -> ApiResult<CheckoutRequest> {
    let customer_id: CustomerId = input
        .customer_id
        .parse()
        .map_err(|_| invalid("customer_id", "invalid_id", "customer_id is not a valid id"))?;
    let patient_id: Option<CustomerId> = input
        .patient_id
        .as_deref()
        .map(|raw| {
            raw.parse()
                .map_err(|_| invalid("patient_id", "invalid_id", "patient_id is not a valid id"))
        })
        .transpose()?;
    let store_id: StoreId = input
        .store_id
        .parse()
        .map_err(|_| invalid("store_id", "invalid_id", "store_id is not a valid id"))?;
    let channel = match input.channel.as_deref() {
        None => SalesChannel::InStore,
        Some(raw) => SalesChannel::parse(raw).ok_or_else(|| {
            invalid(
                "channel",
                "invalid_choice",
                "channel must be in_store, pickup or delivery",
            )
        })?,
    };
    if input.lines.len() > bounds::MAX_ORDER_LINES {
        return Err(invalid(
            "lines",
            "too_many_lines",
            format!("at most {} lines per order", bounds::MAX_ORDER_LINES),
        ));
    }
    bounds::list("payments", input.payments.len(), bounds::MAX_PAYMENTS)?;
    bounds::list(
        "external_allotments",
        input.external_allotments.len(),
        bounds::MAX_LIST,
    )?;
    if input
        .loyalty_redeem_points
        .is_some_and(|p| !(0..=bounds::MAX_POINTS).contains(&p))
    {
        return Err(invalid(
            "loyalty_redeem_points",
            "invalid_value",
            format!(
                "loyalty_redeem_points must be between 0 and {}",
                bounds::MAX_POINTS
            ),
        ));
    }
    let external_ref =
        canopy_domain::text::optional("external_ref", input.external_ref.as_deref(), 100)?;
    let lines = input
        .lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let prefix = format!("lines[{i}].");
            let measures = MeasuresInput {
                net_weight_g: l.net_weight_g,
                concentrate_g: l.concentrate_g,
                thc_mg: l.thc_mg,
                volume_ml: l.volume_ml,
            };
            if l.unit_price_cents.is_some_and(|p| p < 0) {
                return Err(invalid(
                    format!("{prefix}unit_price_cents"),
                    "invalid_price",
                    "price must not be negative",
                ));
            }
            if let Some(price) = l.unit_price_cents {
                bounds::money(&format!("{prefix}unit_price_cents"), price)?;
            }
            if l.quantity.is_some_and(|q| q > bounds::MAX_QUANTITY) {
                return Err(invalid(
                    format!("{prefix}quantity"),
                    "invalid_quantity",
                    format!("quantity must be at most {}", bounds::MAX_QUANTITY),
                ));
            }
            Ok(LineInput {
                sku: l.sku.map(|s| s.trim().to_string()),
                name: l.name,
                category: l
                    .category
                    .as_deref()
                    .map(|c| category(&format!("{prefix}category"), c))
                    .transpose()?,
                measures: if measures.is_empty() {
                    None
                } else {
                    Some(measures.parse(&prefix)?)
                },
                unit_price_cents: l.unit_price_cents,
                quantity: l.quantity.unwrap_or(1),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    for (i, p) in input.payments.iter().enumerate() {
        if !PAYMENT_METHODS.contains(&p.method.as_str()) {
            return Err(invalid(
                format!("payments[{i}].method"),
                "invalid_choice",
                format!("method must be one of {}", PAYMENT_METHODS.join(", ")),
            ));
        }
        if p.amount_cents < 0 {
            return Err(invalid(
                format!("payments[{i}].amount_cents"),
                "invalid_amount",
                "amount must not be negative",
            ));
        }
        bounds::money(&format!("payments[{i}].amount_cents"), p.amount_cents)?;
    }
    caller.require_store(store_id)?;
    if lines.iter().any(|l| l.sku.is_none()) {
        caller.require(Permission::ExternalLines)?;
    }
    let price_override = match input.price_override {
        None => None,
        Some(o) => {
            caller.require(Permission::PriceOverride)?;
            Some(canopy_domain::text::required(
                "price_override.reason",
                &o.reason,
                500,
            )?)
        }
    };
    let limits_override = match input.limits_override {
        None => None,
        Some(o) => {
            caller.require(Permission::LimitsOverride)?;
            Some(canopy_domain::text::required(
                "limits_override.reason",
                &o.reason,
                500,
            )?)
        }
    };
    Ok(CheckoutRequest {
        customer_id,
        store_id,
        channel,
        lines,
        payments: input.payments,
        loyalty_redeem_points: input.loyalty_redeem_points.unwrap_or(0),
        limits_override,
        price_override,
        external_allotments: input.external_allotments,
        allotment_authority: caller.allotment_authority(),
        external_ref,
        patient_id,
    })
}

/// The stored form of an `Idempotency-Key`: who sent it (user or key id) and the key itself.
fn scoped_idempotency_key(caller: &Caller, key: &str) -> String {
    let who = match &caller.credential {
        crate::auth::Credential::Session { user, .. } => format!("user:{}", user.id),
        crate::auth::Credential::ApiKey { id, .. } => format!("key:{id}"),
    };
    format!("{who}:{key}")
}

fn refused(evaluation: Evaluation) -> ApiError {
    let message = evaluation
        .reasons
        .iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "checkout_refused",
        message,
    )
    .with(
        "reasons",
        serde_json::to_value(&evaluation.reasons).unwrap_or_default(),
    )
    .with(
        "limits",
        serde_json::to_value(&evaluation.limits).unwrap_or_default(),
    )
    .with(
        "pricing",
        serde_json::to_value(&evaluation.pricing).unwrap_or_default(),
    )
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}

/// Places an order through the compliance gate. A refusal lists every reason (422
/// `checkout_refused`) and writes nothing but its audit row.
#[utoipa::path(post, path = "/api/v1/checkout", tag = "orders", request_body = CheckoutInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per intended order; retries reuse it")),
    responses((status = 201, description = "The order and the limits decision", body = Object),
        (status = 400, description = "Idempotency-Key missing"),
        (status = 422, description = "Refused (checkout_refused with reasons), invalid input, or idempotency_key_reused")))]
async fn checkout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<ApiJson<serde_json::Value>, ApiError>,
) -> ApiResult<Response> {
    caller.require(Permission::OrdersWrite)?;
    let ApiJson(body) = body?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            ApiError::bad_request(
                "idempotency_key_required",
                "send an Idempotency-Key header (1–200 characters) with every checkout",
            )
        })?;
    let request_hash = hex::encode(Sha256::digest(body.to_string().as_bytes()));
    let input: CheckoutInput = serde_json::from_value(body).map_err(|e| {
        let message = e.to_string();
        let field = message
            .split("field `")
            .nth(1)
            .and_then(|r| r.split('`').next())
            .map(str::to_string);
        let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message);
        if let Some(f) = field {
            err = err.with_field(f);
        }
        err
    })?;
    let mut request = parse(input, &caller)?;
    // A register or online store naming a merged-away profile buys for the survivor.
    request.customer_id = state.store.resolve_customer(request.customer_id).await?;
    // Keys are scoped to the caller: the same key from another user or integration is another
    // request, never a replay of someone else's receipt.
    let idempotency = Idempotency {
        key: scoped_idempotency_key(&caller, key),
        request_hash,
    };
    match state
        .store
        .checkout(
            &request,
            Some(&idempotency),
            &caller.actor,
            state.now(),
            RuleBook::shared(),
        )
        .await?
    {
        CheckoutOutcome::Placed { response, .. } => {
            crate::metrics::checkout_decision("placed", []);
            Ok(json_response(StatusCode::CREATED, response, false))
        }
        CheckoutOutcome::Replayed { status, response } => {
            crate::metrics::checkout_decision("replayed", []);
            Ok(json_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
                response,
                true,
            ))
        }
        CheckoutOutcome::Refused(evaluation) => {
            crate::metrics::checkout_decision(
                "refused",
                evaluation.reasons.iter().map(|r| r.code.as_str()),
            );
            Err(refused(*evaluation))
        }
    }
}

/// The same decision and prices as a checkout, committing nothing: the register's limits
/// what-if as items are added.
#[utoipa::path(post, path = "/api/v1/checkout/quote", tag = "orders", request_body = CheckoutInput,
    responses((status = 200, description = "allowed, reasons, pricing, limits", body = Object)))]
async fn quote(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<CheckoutInput>, ApiError>,
) -> ApiResult<Json<Evaluation>> {
    caller.require(Permission::OrdersWrite)?;
    let ApiJson(input) = body?;
    let mut request = parse(input, &caller)?;
    request.customer_id = state.store.resolve_customer(request.customer_id).await?;
    Ok(Json(
        state
            .store
            .quote(&request, &caller.actor, state.now(), RuleBook::shared())
            .await?,
    ))
}
