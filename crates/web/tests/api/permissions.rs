//! The permission matrix over real HTTP: every protected endpoint × every role (as a signed-in user and as
//! an API key scoped like the role) → allowed (2xx) or 403, and 401 without credentials.
//!
//! Adding an endpoint? Add its row to `ENDPOINTS` with the permission its handler requires. Paths may use
//! `{customer}`, `{store}`, `{staff}`, `{key}` (fixtures made by the admin key) and `{unique}` (fresh per
//! request).

use canopy_domain::{Permission, Role};
use canopy_testkit::{TestApp, TestClient, both_engines};
use reqwest::Method;
use serde_json::{Value, json};

struct Endpoint {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    /// `None`: any authenticated caller.
    needs: Option<Permission>,
}

const fn row(
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    needs: Option<Permission>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        body,
        needs,
    }
}

use Permission::*;

/// A current Colorado licence as a scanner sends it.
const ID_SCAN: &str = r#"{"payload": "@\n\u001e\rANSI 636020080002DL00410230ZC02710010DLDAQPERM-1\nDCSMATRIX\nDACPAT\nDBB01011990\nDBA01012099\nDBD01012022\nDAJCO\nDCGUSA\n"}"#;

const ENDPOINTS: &[Endpoint] = &[
    row(Method::GET, "/api/v1/session", None, None),
    row(Method::GET, "/api/v1/customers", None, Some(CustomersRead)),
    row(
        Method::GET,
        "/api/v1/customers?q=miller",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::POST,
        "/api/v1/customers",
        Some(r#"{"first_name": "New", "last_name": "Customer {unique}"}"#),
        Some(CustomersWrite),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::PATCH,
        "/api/v1/customers/{customer}",
        Some(r#"{"preferred_name": "Sal"}"#),
        Some(CustomersWrite),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/notes",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/duplicates",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/merges",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/duplicates",
        None,
        Some(CustomersMerge),
    ),
    row(
        Method::POST,
        "/api/v1/customers/{customer}/notes",
        Some(r#"{"body": "prefers indica"}"#),
        Some(CustomersWrite),
    ),
    row(
        Method::POST,
        "/api/v1/customers/{customer}/ban",
        Some(r#"{"reason": "test"}"#),
        Some(CustomersBan),
    ),
    row(
        Method::DELETE,
        "/api/v1/customers/{customer}/ban",
        None,
        Some(CustomersBan),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/orders?view=summary",
        None,
        Some(OrdersRead),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/orders?view=full",
        None,
        Some(PurchaseHistoryFull),
    ),
    row(Method::GET, "/api/v1/stores", None, Some(CustomersRead)),
    row(
        Method::POST,
        "/api/v1/stores",
        Some(
            r#"{"name": "Store {unique}", "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"}"#,
        ),
        Some(SettingsWrite),
    ),
    row(
        Method::GET,
        "/api/v1/stores/{store}",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::PATCH,
        "/api/v1/stores/{store}",
        Some(r#"{"enforcement": "block"}"#),
        Some(SettingsWrite),
    ),
    row(
        Method::GET,
        "/api/v1/stores/{store}/checkins",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/dashboard?store={store}",
        None,
        Some(CustomersRead),
    ),
    row(Method::GET, "/api/v1/products", None, Some(CustomersRead)),
    row(
        Method::POST,
        "/api/v1/products",
        Some(
            r#"{"sku": "SKU-{unique}", "name": "Gummies", "category": "edible", "thc_mg": 100, "net_weight_g": 30, "price_cents": 2000}"#,
        ),
        Some(CatalogWrite),
    ),
    row(Method::GET, "/api/v1/groups", None, Some(CustomersRead)),
    row(Method::GET, "/api/v1/audit", None, Some(AuditRead)),
    row(
        Method::GET,
        "/api/v1/audit?entity=customer&entity_id={customer}",
        None,
        Some(AuditRead),
    ),
    row(Method::GET, "/api/v1/staff", None, Some(StaffManage)),
    row(
        Method::POST,
        "/api/v1/staff",
        Some(
            r#"{"username": "new-{unique}", "role": "budtender", "password": "a long enough password"}"#,
        ),
        Some(StaffManage),
    ),
    row(
        Method::GET,
        "/api/v1/staff/{staff}",
        None,
        Some(StaffManage),
    ),
    row(
        Method::PATCH,
        "/api/v1/staff/{staff}",
        Some(r#"{"display_name": "Renamed"}"#),
        Some(StaffManage),
    ),
    row(
        Method::PUT,
        "/api/v1/staff/{staff}/password",
        Some(r#"{"password": "another long password"}"#),
        Some(StaffManage),
    ),
    row(
        Method::POST,
        "/api/v1/id-scans",
        Some(ID_SCAN),
        Some(CustomersRead),
    ),
    row(
        Method::POST,
        "/api/v1/customers/{customer}/verification",
        Some(ID_SCAN),
        Some(CustomersWrite),
    ),
    row(
        Method::POST,
        "/api/v1/customers/{customer}/medical-card",
        Some(r#"{"number": "MMJ-1", "issuing_state": "CO", "expiry": "2099-01-01"}"#),
        Some(CustomersWrite),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/consent",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/privacy-export",
        None,
        Some(PrivacyExport),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/retention",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/privacy/policy",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::POST,
        "/api/v1/customers/{customer}/consent",
        Some(
            r#"{"channel": "email", "purpose": "marketing", "status": "revoked", "source": "pos"}"#,
        ),
        Some(CustomersWrite),
    ),
    row(
        Method::GET,
        "/api/v1/sms/templates",
        None,
        Some(SettingsWrite),
    ),
    row(
        Method::PUT,
        "/api/v1/sms/templates/received",
        Some(r#"{"body": "Hi {first_name}, we have order {order}."}"#),
        Some(SettingsWrite),
    ),
    row(Method::GET, "/api/v1/sms/messages", None, Some(OrdersRead)),
    row(
        Method::GET,
        "/api/v1/webhooks/event-types",
        None,
        Some(SettingsWrite),
    ),
    row(
        Method::GET,
        "/api/v1/webhooks/endpoints",
        None,
        Some(SettingsWrite),
    ),
    row(
        Method::POST,
        "/api/v1/webhooks/endpoints",
        Some(r#"{"url": "https://partner.example.com/{unique}", "events": ["customer.created"]}"#),
        Some(SettingsWrite),
    ),
    row(
        Method::GET,
        "/api/v1/webhooks/deliveries",
        None,
        Some(SettingsWrite),
    ),
    row(Method::GET, "/api/v1/api-keys", None, Some(ApiKeysManage)),
    row(
        Method::POST,
        "/api/v1/api-keys",
        Some(r#"{"name": "Online store", "scopes": ["customers:read"]}"#),
        Some(ApiKeysManage),
    ),
    row(
        Method::DELETE,
        "/api/v1/api-keys/{key}",
        None,
        Some(ApiKeysManage),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/loyalty",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/loyalty/history",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::POST,
        "/api/v1/customers/{customer}/loyalty/adjustments",
        Some(r#"{"points": 5, "reason": "matrix test"}"#),
        Some(LoyaltyAdjust),
    ),
    row(
        Method::GET,
        "/api/v1/loyalty/program",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::PUT,
        "/api/v1/loyalty/program",
        Some(
            r#"{"enabled": true, "spend_cents_per_point": 100, "value_points": 100, "value_cents": 500,
                "earn_basis": "after_discounts", "rounding": "down", "pending_days": 0, "expiry_days": null,
                "customer_types": ["adult_use", "medical", "caregiver"], "excluded_jurisdictions": []}"#,
        ),
        Some(SettingsWrite),
    ),
    row(
        Method::GET,
        "/api/v1/loyalty/liability",
        None,
        Some(AuditRead),
    ),
    row(
        Method::GET,
        "/api/v1/document-reviews",
        None,
        Some(DocumentsReview),
    ),
    row(
        Method::GET,
        "/api/v1/customers/{customer}/documents",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::GET,
        "/api/v1/stores/{store}/document-review-target",
        None,
        Some(CustomersRead),
    ),
    row(
        Method::PUT,
        "/api/v1/stores/{store}/document-review-target",
        Some(r#"{"target_minutes": 120}"#),
        Some(SettingsWrite),
    ),
];

struct Fixtures {
    customer: String,
    store: String,
    staff: String,
    key: String,
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let customer = app
        .post(
            "/api/v1/customers",
            json!({"first_name": "Sarah", "last_name": "Miller"}),
        )
        .await;
    assert_eq!(customer.status, 201, "{:?}", customer.body);
    let store = app
        .post(
            "/api/v1/stores",
            json!({"name": "Denver", "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"}),
        )
        .await;
    assert_eq!(store.status, 201, "{:?}", store.body);
    let staff = app.create_user("fixture-budtender", Role::Budtender).await;
    let key = app
        .post(
            "/api/v1/api-keys",
            json!({"name": "fixture", "scopes": ["customers:read"]}),
        )
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    Fixtures {
        customer: customer.body["id"].as_str().unwrap().to_string(),
        store: store.body["id"].as_str().unwrap().to_string(),
        staff: staff.id.to_string(),
        key: key.body["id"].as_str().unwrap().to_string(),
    }
}

fn fill(template: &str, f: &Fixtures) -> String {
    template
        .replace("{customer}", &f.customer)
        .replace("{store}", &f.store)
        .replace("{staff}", &f.staff)
        .replace("{key}", &f.key)
        .replace("{unique}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn call(client: &TestClient, e: &Endpoint, f: &Fixtures) -> canopy_testkit::Response {
    let body = e
        .body
        .map(|b| serde_json::from_str::<Value>(&fill(b, f)).expect("row body is JSON"));
    client
        .request(e.method.clone(), &fill(e.path, f), body)
        .await
}

/// Runs the whole table for one client whose permissions are `role`'s.
async fn check_role(client: &TestClient, role: Role, who: &str, f: &Fixtures) {
    for e in ENDPOINTS {
        let res = call(client, e, f).await;
        let allowed = e.needs.is_none_or(|p| role.permits(p));
        let what = format!(
            "{who} {} {} → {} {:?}",
            e.method, e.path, res.status, res.body
        );
        if allowed {
            assert!((200..300).contains(&res.status), "expected success: {what}");
        } else {
            assert_eq!(res.status, 403, "expected 403: {what}");
            assert_eq!(res.error_code(), "forbidden", "{what}");
        }
    }
}

both_engines!(
    async fn every_role_may_do_exactly_what_the_matrix_grants(app) {
        let f = fixtures(&app).await;
        for role in Role::ALL {
            // Assigned to the fixture store: store assignment has its own tests (gate.rs).
            let user = app.as_role_at(role, &[&f.store]).await;
            check_role(&user, role, &format!("{} session", role.as_str()), &f).await;
            let key = app.key_for_role(role).await;
            check_role(&key, role, &format!("{} key", role.as_str()), &f).await;
        }
    }
);

both_engines!(
    async fn every_protected_endpoint_refuses_strangers_with_401(app) {
        let f = fixtures(&app).await;
        let stranger = app.anonymous();
        for e in ENDPOINTS {
            let res = call(&stranger, e, &f).await;
            assert_eq!(res.status, 401, "{} {} {:?}", e.method, e.path, res.body);
            assert_eq!(res.error_code(), "unauthenticated");
            assert!(res.body["error"]["message"].is_string());
        }
    }
);

both_engines!(
    async fn a_key_missing_one_scope_is_refused_only_where_that_scope_is_needed(app) {
        let f = fixtures(&app).await;
        for e in ENDPOINTS {
            let Some(needed) = e.needs else { continue };
            let scopes = canopy_domain::PermissionSet::all().iter().filter(|p| *p != needed).collect();
            let key = app.key_with_scopes(scopes).await;
            let res = call(&key, e, &f).await;
            assert_eq!(res.status, 403, "{} {} {:?}", e.method, e.path, res.body);
        }
    }
);
