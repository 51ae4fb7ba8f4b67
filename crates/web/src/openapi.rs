//! The OpenAPI document, generated from the handlers' annotations so it cannot drift from the routes.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::{
    api_keys, audit, checkins, checkout, consent, customers, documents, groups, id_scans, imports,
    loyalty, merges, orders, privacy, products, session, sms, staff, stores, verification,
    webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Canopy API", description = "Customer management for licensed cannabis retailers."),
    paths(
        crate::routes::health::healthz, crate::routes::health::readyz,
        customers::list_or_search, customers::create, customers::read, customers::update,
        customers::list_notes, customers::add_note, customers::ban, customers::unban,
        merges::duplicates, merges::customer_merges, merges::create, merges::preview, merges::read, merges::undo,
        merges::review, merges::dismiss,
        stores::list, stores::create, stores::read, stores::update,
        products::list, products::create, products::read, products::update, products::archive,
        groups::list, groups::create, groups::read, groups::update, groups::remove, groups::add_member, groups::remove_member,
        checkout::checkout, checkout::quote,
        orders::read, orders::change_status, orders::return_lines, orders::void, orders::history,
        checkins::check_in, checkins::queue, checkins::serve, checkins::remove, checkins::events, checkins::dashboard,
        session::create, session::read, session::destroy,
        staff::list, staff::create, staff::read, staff::update, staff::reset_password,
        api_keys::list, api_keys::create, api_keys::revoke,
        audit::list,
        loyalty::balance, loyalty::history, loyalty::adjust, loyalty::read_program, loyalty::write_program,
        loyalty::liability,
        consent::read, consent::record,
        sms::list_templates, sms::set_template, sms::list_messages, sms::inbound,
        webhooks::event_types, webhooks::list_endpoints, webhooks::create_endpoint, webhooks::read_endpoint,
        webhooks::update_endpoint, webhooks::delete_endpoint, webhooks::list_deliveries, webhooks::read_delivery,
        webhooks::replay,
        imports::import_customers, imports::export_customers, imports::export_orders,
        id_scans::scan, verification::verify, verification::id_image, verification::medical_card,
        verification::set_medical_card, verification::link_patient, verification::unlink_patient,
        privacy::export, privacy::erase, privacy::retention, privacy::create_returning, privacy::policy,
        documents::submit, documents::customer_documents, documents::queue, documents::review, documents::image,
        documents::decide_submission, documents::target, documents::set_target,
    ),
    tags((name = "customers", description = "Customer profiles, lookup, notes and bans"),
        (name = "duplicates", description = "Duplicate candidates, the review list, merges and undo"),
        (name = "stores", description = "Retail stores: licence, jurisdiction, zone, limits enforcement"),
        (name = "products", description = "The product catalogue"),
        (name = "groups", description = "Customer groups and their automatic discounts"),
        (name = "orders", description = "Checkout through the compliance gate, orders, returns, history"),
        (name = "checkins", description = "Check-in queue with live updates, dashboard"),
        (name = "session", description = "Signing in and out; who am I"),
        (name = "staff", description = "Staff accounts (admins)"),
        (name = "api-keys", description = "API keys for integrations (admins)"),
        (name = "audit", description = "The append-only audit log"),
        (name = "loyalty", description = "Points balances, history, adjustments, program settings and liability"),
        (name = "consent", description = "The consent ledger: SMS and email, transactional and marketing"),
        (name = "sms", description = "Order-status texts: templates, outbox, inbound STOP/START"),
        (name = "webhooks", description = "Signed outbound webhooks for partners"),
        (name = "imports", description = "Customer CSV import from other systems, and export"),
        (name = "id", description = "ID scanning and verification, ID images, medical cards and caregivers"),
        (name = "privacy", description = "Right to know and to delete, retention, the data policy in force"),
        (name = "documents", description = "Online customers' ID and medical-card submissions and the staff review queue")),
    modifiers(&SecuritySchemes),
    security(("api_key" = []), ("session_cookie" = []))
)]
pub struct ApiDoc;

/// Declares how callers authenticate: an API key as a bearer token, or the staff session cookie.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("canopy_session"))),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
