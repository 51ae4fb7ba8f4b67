//! Probes for process supervisors and load balancers: `/healthz` says the process is alive, `/readyz`
//! that it can serve (database reachable, every migration this binary needs applied).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Liveness: the process answers. It never touches the database, so a slow or restarting database
/// does not get a healthy server restarted.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "The process is alive")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers and has every migration this binary needs (newer ones from a release
/// being rolled out are listed but do not make it unready). A load balancer sends traffic only to
/// servers answering 200; 503 (with `Retry-After`) otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Database reachable and migrations applied"),
    (status = 503, description = "Database unreachable or migrations pending")))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let unavailable =
        |message: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message);
    if let Err(err) = state.store.ping().await {
        tracing::warn!(error = %err, "readiness: database unreachable");
        return Err(unavailable("the database is unreachable".into()));
    }
    let migrations = state.store.migration_status().await.map_err(|err| {
        tracing::warn!(error = %err, "readiness: reading migrations");
        unavailable("the database's migrations cannot be read".into())
    })?;
    if !migrations.is_ready() {
        return Err(unavailable(format!(
            "the database lacks migrations this release needs: {:?}",
            migrations.pending
        ))
        .with("pending", migrations.pending));
    }
    Ok(Json(json!({
        "status": "ready",
        "engine": format!("{:?}", state.store.engine()).to_lowercase(),
        "migrations": migrations.applied,
        "newer_migrations": migrations.unknown,
    })))
}
