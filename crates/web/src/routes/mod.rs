pub(crate) mod checkins;
pub(crate) mod checkout;
pub(crate) mod customers;
pub(crate) mod groups;
pub(crate) mod health;
pub(crate) mod orders;
pub(crate) mod products;
pub(crate) mod stores;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .merge(customers::routes())
        .merge(stores::routes())
        .merge(products::routes())
        .merge(groups::routes())
        .merge(checkout::routes())
        .merge(orders::routes())
        .merge(checkins::routes())
        .route("/openapi.json", get(crate::openapi::document));
    Router::new()
        .route("/healthz", get(health::healthz))
        .nest("/api/v1", api)
}
