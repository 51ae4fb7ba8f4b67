pub(crate) mod customers;
pub(crate) mod health;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .merge(customers::routes())
        .route("/openapi.json", get(crate::openapi::document));
    Router::new()
        .route("/healthz", get(health::healthz))
        .nest("/api/v1", api)
}
