//! The OpenAPI document, generated from the handlers' annotations so it cannot drift from the routes.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::{checkins, checkout, customers, groups, orders, products, stores};

#[derive(OpenApi)]
#[openapi(
    info(title = "Canopy API", description = "Customer management for licensed cannabis retailers."),
    paths(
        crate::routes::health::healthz,
        customers::list_or_search, customers::create, customers::read, customers::update,
        customers::list_notes, customers::add_note, customers::ban, customers::unban,
        stores::list, stores::create, stores::read, stores::update,
        products::list, products::create, products::read, products::update, products::archive,
        groups::list, groups::create, groups::read, groups::update, groups::remove, groups::add_member, groups::remove_member,
        checkout::checkout, checkout::quote,
        orders::read, orders::change_status, orders::return_lines, orders::void, orders::history,
        checkins::check_in, checkins::queue, checkins::serve, checkins::remove, checkins::events, checkins::dashboard,
    ),
    tags((name = "customers", description = "Customer profiles, lookup, notes and bans"),
        (name = "stores", description = "Retail stores: licence, jurisdiction, zone, limits enforcement"),
        (name = "products", description = "The product catalogue"),
        (name = "groups", description = "Customer groups and their automatic discounts"),
        (name = "orders", description = "Checkout through the compliance gate, orders, returns, history"),
        (name = "checkins", description = "Check-in queue with live updates, dashboard"))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
