//! The one place errors become HTTP responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use canopy_domain::FieldError;
use canopy_loyalty::LoyaltyError;
use canopy_store::StoreError;
use serde_json::{Map, Value, json};

/// An error as the client sees it: a status, a stable snake_case `code` the UI keys on, a human message and,
/// where one input is at fault, its `field`. Internal errors are logged here once and answered with an
/// opaque 500, so no SQL or file path reaches a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Extra machine-readable detail merged into the error object (e.g. `existing_customer_id`).
    pub extra: Map<String, Value>,
    /// Every field at fault when a form had several (`errors`: each with its own `code`, `message` and
    /// `field`); the top-level `code`, `message` and `field` are the first of them.
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            extra: Map::new(),
            errors: Vec::new(),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in or send an API key",
        )
    }

    pub fn forbidden(permission: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this action needs the '{permission}' permission"),
        )
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong; it has been logged",
        )
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, err.code, err.message).with_field(err.field)
    }
}

/// Several invalid fields of one request: all of them, so a form marks every one after one submit.
impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        let Some(head) = errors.first().cloned() else {
            return ApiError::internal("a validation failure without a field error");
        };
        let mut err = ApiError::from(head);
        err.errors = errors;
        err
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { entity } => ApiError::not_found(entity),
            StoreError::DuplicateCustomer { field, existing } => {
                let mut e = ApiError::new(
                    StatusCode::CONFLICT,
                    "duplicate_customer",
                    format!(
                        "another customer already has this {}",
                        field.replace('_', " ")
                    ),
                )
                .with_field(field);
                if let Some(id) = existing {
                    e = e.with("existing_customer_id", id.to_string());
                }
                e
            }
            StoreError::Duplicate { entity, field } => ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("another {entity} already has this {field}"),
            )
            .with_field(field),
            StoreError::LastAdmin => ApiError::new(
                StatusCode::CONFLICT,
                "last_admin",
                "this is the last active admin; make someone else an admin first",
            ),
            StoreError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            StoreError::Refused { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            // The database refused an order or check-in for a profile merged a moment ago.
            StoreError::Database(sqlx_err) if sqlx_err.to_string().contains("customer_merged") => {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "customer_merged",
                    "this customer was just merged into another profile; look them up again",
                )
            }
            StoreError::Invalid {
                field,
                code,
                message,
            } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field),
            StoreError::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request; use a new key",
            ),
            StoreError::IllegalTransition(e) => ApiError::new(
                StatusCode::CONFLICT,
                "illegal_status_transition",
                e.to_string(),
            )
            .with("from", e.from)
            .with("to", e.to),
            StoreError::Limits(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "limits_unavailable",
                format!("purchase limits cannot be evaluated: {e}"),
            ),
            StoreError::Loyalty(err) => err.into(),
            StoreError::Busy(err) => {
                tracing::warn!(error = %err, "database busy: answering 503");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the database is busy; nothing was changed, try again shortly",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<LoyaltyError> for ApiError {
    fn from(err: LoyaltyError) -> Self {
        let message = err.to_string();
        match err {
            LoyaltyError::InsufficientPoints {
                requested,
                available,
            } => ApiError::new(StatusCode::CONFLICT, "insufficient_points", message)
                .with_field("points")
                .with("requested", requested)
                .with("available", available),
            LoyaltyError::ExceedsOrderTotal { requested, max } => {
                ApiError::new(StatusCode::CONFLICT, "exceeds_order_total", message)
                    .with_field("points")
                    .with("requested", requested)
                    .with("max", max)
            }
            LoyaltyError::ReasonRequired => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "reason_required", message)
                    .with_field("reason")
            }
            LoyaltyError::NotEligible(_) => {
                ApiError::new(StatusCode::CONFLICT, "not_eligible", message)
            }
            LoyaltyError::ReturnExceedsOrder { .. } => {
                ApiError::new(StatusCode::CONFLICT, "return_exceeds_order", message)
                    .with_field("returned_cents")
            }
            LoyaltyError::Invalid { field, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", message)
                    .with_field(field)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("code".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        body.insert("field".into(), json!(self.field));
        body.extend(self.extra);
        if !self.errors.is_empty() {
            let errors: Vec<Value> = self
                .errors
                .iter()
                .map(|e| json!({"code": e.code, "message": e.message, "field": e.field}))
                .collect();
            body.insert("errors".into(), Value::Array(errors));
        }
        let mut response = (self.status, Json(json!({ "error": body }))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // A 503 here is always transient (a busy database): tell clients when to send it again.
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// How long a client should wait before repeating a request the busy database refused.
const RETRY_AFTER_SECONDS: &str = "1";

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_a_retryable_503_never_a_500() {
        let response = ApiError::from(StoreError::from(sqlx::Error::PoolTimedOut)).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from_static("1"))
        );
    }
}
