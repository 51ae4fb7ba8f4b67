pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod checkins;
pub(crate) mod checkout;
pub(crate) mod consent;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod groups;
pub(crate) mod health;
pub(crate) mod id_scans;
pub(crate) mod imports;
pub(crate) mod loyalty;
pub(crate) mod merges;
pub(crate) mod orders;
pub(crate) mod privacy;
pub(crate) mod products;
pub(crate) mod session;
pub(crate) mod sms;
pub(crate) mod staff;
pub(crate) mod stores;
pub(crate) mod verification;
pub(crate) mod webhooks;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;

use crate::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    // Every route here needs a signed-in user or an API key (deny by default): add new areas to this list.
    let protected = Router::new()
        .merge(customers::routes())
        .merge(merges::routes())
        .merge(privacy::routes())
        .merge(stores::routes())
        .merge(products::routes())
        .merge(groups::routes())
        .merge(checkout::routes())
        .merge(orders::routes())
        .merge(checkins::routes())
        .merge(loyalty::routes())
        .merge(consent::routes())
        .merge(sms::routes())
        .merge(webhooks::routes())
        .merge(imports::routes())
        .merge(staff::routes())
        .merge(api_keys::routes())
        .merge(audit::routes())
        .merge(verification::routes())
        .merge(documents::routes())
        .merge(session::protected_routes())
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::auth::require_caller,
        ));
    // The only /api/v1 routes open to strangers: signing in and out, the API description, and the SMS
    // provider's inbound webhook (which carries its own shared-secret token).
    let public = Router::new()
        .merge(session::public_routes())
        .merge(sms::public_routes())
        .route("/openapi.json", get(crate::openapi::document));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", protected.merge(public))
        .merge(crate::ui::routes())
}
