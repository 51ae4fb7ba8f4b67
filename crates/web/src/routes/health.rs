use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;

/// Liveness and database reachability, for load balancers and the install check.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Server and database are up")))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.ping().await?;
    Ok(Json(
        json!({ "status": "ok", "engine": format!("{:?}", state.store.engine()).to_lowercase() }),
    ))
}
