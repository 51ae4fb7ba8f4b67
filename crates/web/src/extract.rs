//! Extractors that answer malformed requests in the API's own error format instead of axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// `axum::Json`, but a body that is not valid JSON, or does not fit the expected shape, becomes a 400/422
/// naming the field at fault where serde can tell, and one over the body limit a 413.
///
/// Handlers take it as `body: Result<ApiJson<T>, ApiError>` and unwrap it only after
/// `caller.require(…)`: a caller without the permission gets 403 whatever it sent, and learns nothing
/// about the endpoint's body from validation errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::JsonDataError(err)) => {
                let detail = err.body_text();
                let mut e = ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    detail.clone(),
                );
                if let Some(field) = field_from_serde(&detail) {
                    e = e.with_field(field);
                }
                Err(e)
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON with Content-Type: application/json",
            )),
            Err(other) if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(
                crate::hardening::too_large(crate::hardening::MAX_JSON_BYTES),
            ),
            Err(other) => Err(ApiError::bad_request("malformed_json", other.body_text())),
        }
    }
}

/// serde reports `unknown field `foo`` or `missing field `bar``, or a path like `addresses[0].city: …`.
fn field_from_serde(detail: &str) -> Option<String> {
    if let Some(rest) = detail.split("field `").nth(1) {
        return rest.split('`').next().map(str::to_string);
    }
    let after = detail.split(": ").nth(1)?;
    let path = after.split(':').next()?.trim();
    (!path.is_empty() && !path.contains(' ')).then(|| path.to_string())
}

pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| {
                ApiError::not_found(&format!("resource ({})", e.body_text()))
            })
    }
}
