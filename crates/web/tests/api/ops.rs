//! Running Canopy as a service: liveness, readiness, metrics.

use canopy_testkit::{TestApp, both_engines};
use serde_json::json;
use sqlx::Connection;

/// Runs one statement on the app's database behind the server's back (as another process would).
async fn execute_directly(app: &TestApp, sql: &'static str) {
    match app.store.engine() {
        canopy_store::Engine::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.db.url))
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        canopy_store::Engine::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
}

both_engines!(
    async fn a_migrated_server_is_ready(app) {
        let alive = app.anonymous().get("/healthz").await;
        assert_eq!(alive.status, 200);
        assert_eq!(alive.body["status"], "ok");
        let ready = app.anonymous().get("/readyz").await;
        assert_eq!(ready.status, 200, "{:?}", ready.body);
        assert_eq!(ready.body["status"], "ready");
        assert!(ready.body["migrations"].as_u64().unwrap() >= 7);
    }
);

both_engines!(
    async fn a_database_missing_a_migration_is_not_ready_but_still_alive(app) {
        execute_directly(
            &app,
            "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
        )
        .await;
        let res = app.anonymous().get("/readyz").await;
        assert_eq!(res.status, 503, "{:?}", res.body);
        assert_eq!(res.error_code(), "not_ready");
        assert_eq!(res.body["error"]["pending"].as_array().unwrap().len(), 1);
        assert_eq!(app.anonymous().get("/healthz").await.status, 200);
    }
);

/// Serves `/metrics` for `app` on a port of its own, as `canopy serve --metrics-listen` does.
async fn metrics_address(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = canopy_web::AppState::new(app.store.clone(), canopy_web::Settings::default());
    tokio::spawn(async move { axum::serve(listener, canopy_web::metrics::router(state)).await });
    format!("http://{addr}/metrics")
}

/// The value of the series `name` whose labels include every one of `labels` (summed over the rest);
/// 0 when there is none.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(url: &str) -> String {
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    res.text().await.unwrap()
}

both_engines!(
    async fn metrics_count_requests_checkouts_lookups_and_sign_in_failures(app) {
        let url = metrics_address(&app).await;
        assert_eq!(app.anonymous().get("/metrics").await.status, 404, "not on the public address");
        let before = scrape(&url).await;
        let shop = app
            .post("/api/v1/stores", json!({"name": "Denver", "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"}))
            .await;
        let shop = shop.body["id"].as_str().unwrap().to_string();
        let product = app
            .post("/api/v1/products", json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g", "category": "flower", "net_weight_g": "3.5", "price_cents": 3500}))
            .await;
        assert_eq!(product.status, 201);
        let customer = app
            .post("/api/v1/customers", json!({"first_name": "Dana", "last_name": "Reyes", "phone": "3035550142", "date_of_birth": "1990-05-01",
                "id_document": {"kind": "drivers_license", "number": "CO1234", "jurisdiction": "CO", "expiry": "2099-01-01"}}))
            .await;
        let customer = customer.body["id"].as_str().unwrap().to_string();
        for (key, quantity, status) in [("m-1", 1, 201), ("m-2", 9, 422)] {
            let res = app
                .post_with_headers(
                    "/api/v1/checkout",
                    json!({"customer_id": customer, "store_id": shop, "lines": [{"sku": "FLW-35", "quantity": quantity}]}),
                    &[("Idempotency-Key", key)],
                )
                .await;
            assert_eq!(res.status, status, "{:?}", res.body);
        }
        assert_eq!(app.get("/api/v1/customers?q=555-0142").await.status, 200);
        let failed = app
            .anonymous()
            .post("/api/v1/session", json!({"username": "nobody", "password": "wrong password"}))
            .await;
        assert_eq!(failed.status, 401);

        let after = scrape(&url).await;
        let grew = |name: &str, labels: &[&str]| sample(&after, name, labels) - sample(&before, name, labels);
        assert!(grew("canopy_http_requests_total", &[r#"route="/api/v1/customers""#, r#"method="POST""#, r#"status="201""#]) >= 1.0);
        assert!(grew("canopy_http_request_duration_seconds_count", &[r#"route="/api/v1/checkout""#]) >= 2.0);
        assert!(grew("canopy_checkout_decisions_total", &[r#"decision="placed""#]) >= 1.0);
        assert!(grew("canopy_checkout_decisions_total", &[r#"decision="refused""#, r#"reason="purchase_limit_exceeded""#]) >= 1.0);
        assert!(grew("canopy_lookup_duration_seconds_count", &[r#"kind="phone""#]) >= 1.0);
        assert!(grew("canopy_sign_in_failures_total", &[r#"reason="unknown_user""#]) >= 1.0);
        assert!(after.contains(r#"canopy_outbox_messages{outbox="webhooks",state="pending"}"#), "{after}");
        assert!(after.contains(r#"canopy_outbox_messages{outbox="sms",state="failed"}"#));
        assert!(after.contains("canopy_db_pool_connections{pool="));
        assert!(!after.contains(&customer), "no customer id becomes a label");
    }
);
