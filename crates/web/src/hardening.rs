//! Request and response rules that hold for every route, whatever its handler does.
//!
//! - Request lines and header blocks over [`MAX_URI_BYTES`] / [`MAX_HEADER_BYTES`] are refused with 414
//!   / 431 and the API's JSON error body. (Beyond the HTTP library's own hard limits, 64 KiB of URI and
//!   about 400 KiB of headers, it answers by itself, with no body.)
//! - Every error under `/api/` carries the JSON error body, including the ones the framework makes
//!   (body too large, unknown route, wrong method), so clients parse one shape.
//! - API responses are `Cache-Control: no-store` (they carry personal data; no shared or browser cache
//!   may keep them) and every response is `X-Content-Type-Options: nosniff`.
//! - Logs name the route template (`/api/v1/customers/{id}`), never the full URL: query strings carry
//!   search text (names, phone numbers) and the SMS provider's shared token.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// Longest request target accepted (path and query).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest header block accepted (names and values).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest JSON request body (uploads have their own, larger limits).
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// The outermost middleware: size limits before anything else runs, then the response rules.
pub async fn guard(request: Request, next: Next) -> Response {
    if request.uri().to_string().len() > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the URL is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return with_security_headers(
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
                format!("the request headers are larger than {MAX_HEADER_BYTES} bytes"),
            )
            .into_response(),
            true,
        );
    }
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if api
        && !is_json(&response)
        && (response.status().is_client_error() || response.status().is_server_error())
    {
        response = json_error_for(response.status()).into_response();
    }
    with_security_headers(response, api)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn with_security_headers(mut response: Response, api: bool) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let already_no_store = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    if api && !already_no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The JSON error for a status the framework answered with plain text or nothing.
fn json_error_for(status: StatusCode) -> ApiError {
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        s if s.is_server_error() => ("internal", "something went wrong"),
        _ => ("bad_request", "the request could not be read"),
    };
    ApiError::new(status, code, message)
}

/// A 413 naming the limit, for handlers and extractors that read bodies.
pub fn too_large(limit_bytes: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {limit_bytes} bytes"),
    )
    .with("limit_bytes", limit_bytes)
}

/// Records the matched route template on the request's log span (see [`make_span`]).
pub async fn record_route(request: Request, next: Next) -> Response {
    if let Some(path) = request.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("route", path.as_str());
    }
    next.run(request).await
}

/// The log span of a request: the method and, once routed, the route template; never the URL.
pub fn make_span(request: &axum::http::Request<Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        route = tracing::field::Empty,
    )
}
