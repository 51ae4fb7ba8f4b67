//! Prometheus metrics: what is recorded, and the `/metrics` page that exposes it.
//!
//! Counters and histograms go through the `metrics` facade into one process-wide Prometheus recorder
//! ([`install`]); gauges that describe shared state (outbox depth, pool use) are read when scraped.
//! `/metrics` is served only on its own listen address ([`router`]), never beside the public API: it
//! names routes, reasons and volumes that are nobody else's business.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// Latency buckets in seconds, from a fast index lookup to a slow import.
const BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process) and returns the handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets(&BUCKETS) {
                Ok(builder) => builder,
                Err(_) => PrometheusBuilder::new(),
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_histogram};
    describe_counter!(
        "canopy_http_requests_total",
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        "canopy_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by method and route template"
    );
    describe_counter!(
        "canopy_checkout_decisions_total",
        "Checkouts by decision (placed, replayed, refused) and refusal reason"
    );
    describe_histogram!(
        "canopy_lookup_duration_seconds",
        metrics::Unit::Seconds,
        "Customer lookup latency by query kind (name, phone, email, id_number)"
    );
    describe_counter!("canopy_sign_in_failures_total", "Failed sign-ins by reason");
}

/// The router for the metrics listen address: `/metrics` only.
pub fn router(state: AppState) -> Router {
    let handle = install();
    Router::new()
        .route("/metrics", get(render))
        .with_state((state, handle))
}

async fn render(State((state, handle)): State<(AppState, PrometheusHandle)>) -> Response {
    for pool in state.store.pool_stats() {
        let labels = [("pool", pool.pool)];
        metrics::gauge!("canopy_db_pool_connections", &labels).set(f64::from(pool.size));
        metrics::gauge!("canopy_db_pool_idle_connections", &labels).set(f64::from(pool.idle));
        metrics::gauge!("canopy_db_pool_max_connections", &labels).set(f64::from(pool.max));
    }
    match state.store.outbox_depth().await {
        Ok(outboxes) => {
            for o in outboxes {
                for (state, n) in [("pending", o.pending), ("failed", o.failed)] {
                    let labels = [("outbox", o.outbox), ("state", state)];
                    // Counts far below 2^53 are exact as f64.
                    metrics::gauge!("canopy_outbox_messages", &labels).set(n as f64);
                }
            }
            metrics::gauge!("canopy_db_up").set(1.0);
        }
        Err(err) => {
            tracing::warn!(error = %err, "metrics: reading outbox depth");
            metrics::gauge!("canopy_db_up").set(0.0);
        }
    }
    handle.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

/// Counts every routed request and times it, labelled by route template (`/api/v1/customers/{id}`),
/// never by the concrete path, so customer ids do not become label values.
pub(crate) async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("canopy_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("canopy_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A checkout's decision: `placed`, `replayed`, or `refused` once per reason code.
pub(crate) fn checkout_decision<'a>(
    decision: &'static str,
    reasons: impl IntoIterator<Item = &'a str>,
) {
    let mut any = false;
    for reason in reasons {
        any = true;
        metrics::counter!("canopy_checkout_decisions_total", "decision" => decision, "reason" => reason.to_string())
            .increment(1);
    }
    if !any {
        metrics::counter!("canopy_checkout_decisions_total", "decision" => decision, "reason" => "none")
            .increment(1);
    }
}

/// What a lookup query reads as, in the same terms the search crate parses it.
pub(crate) fn lookup_kind(q: &str) -> &'static str {
    let query = canopy_search::Query::parse(q);
    if query.phone_digits.is_some() {
        "phone"
    } else if query.email_prefix.is_some() {
        "email"
    } else if query.id_number.is_some() && query.name_words.is_empty() {
        "id_number"
    } else {
        "name"
    }
}

pub(crate) fn lookup(kind: &'static str, started: Instant) {
    metrics::histogram!("canopy_lookup_duration_seconds", "kind" => kind)
        .record(started.elapsed().as_secs_f64());
}

/// A failed sign-in: `reason` is `bad_credentials`, `locked`, … (never the username).
pub(crate) fn sign_in_failed(reason: &'static str) {
    metrics::counter!("canopy_sign_in_failures_total", "reason" => reason).increment(1);
}
