//! The OpenAPI document, generated from the handlers' annotations so it cannot drift from the routes.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::customers;

#[derive(OpenApi)]
#[openapi(
    info(title = "Canopy API", description = "Customer management for licensed cannabis retailers."),
    paths(
        crate::routes::health::healthz,
        customers::list_or_search, customers::create, customers::read, customers::update,
        customers::list_notes, customers::add_note, customers::ban, customers::unban,
    ),
    tags((name = "customers", description = "Customer profiles, lookup, notes and bans"))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
