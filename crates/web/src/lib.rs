//! Canopy over HTTP: the JSON API under `/api/v1`, health, and the staff web app.
//!
//! This is the only crate that knows HTTP and JSON shapes. Handlers turn requests into domain values
//! (through `canopy_domain` parsers), call the [`canopy_store::Store`], and map every failure through one
//! [`ApiError`] type so that clients always get `{"error": {"code", "message", "field"}}`.

pub mod auth;
mod eligibility;
mod error;
mod extract;
mod hardening;
pub mod id_image_keys;
mod input;
pub mod metrics;
mod openapi;
mod photo;
mod routes;
mod state;
pub mod ui;

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use eligibility::Eligibility;
pub use error::ApiError;
pub use id_image_keys::IdImageKeys;
/// Rotates a grayscale image about its centre (the photo decoder's sweep; tests use it to tilt
/// generated barcodes).
pub use photo::rotate as rotate_gray;
pub use state::{AppState, Clock, Settings};

/// The whole application as a router, for tests that call it without a socket.
pub fn app(state: AppState) -> Router {
    metrics::install();
    routes::router(&state)
        .route_layer(axum::middleware::from_fn(hardening::record_route))
        .route_layer(axum::middleware::from_fn(metrics::track_http))
        .layer(axum::extract::DefaultBodyLimit::max(
            hardening::MAX_JSON_BYTES,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(hardening::make_span))
        .layer(axum::middleware::from_fn(hardening::guard))
        .with_state(state)
}

/// Serves until `shutdown` completes. The caller binds the listener (port 0 in tests).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves `/metrics` (Prometheus text) on its own listener, apart from the API.
pub async fn serve_metrics(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, metrics::router(state)).await
}
