//! Checkout through the compliance gate, idempotency, refusals, limits across stores, returns,
//! voids, lifecycle, history, groups and profile figures, on both engines.

use canopy_store::AuditFilter;
use canopy_testkit::{Response, TestApp, both_engines};
use serde_json::{Value, json};

/// A Colorado adult-use store of licensee "Green Co".
async fn create_store(app: &TestApp, name: &str, extra: Value) -> String {
    let mut body = json!({"name": name, "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.post("/api/v1/stores", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    assert_eq!(res.body["time_zone"], "America/Denver");
    res.body["id"].as_str().unwrap().to_string()
}

async fn create_customer(app: &TestApp, phone: &str, extra: Value) -> String {
    let mut body = json!({"first_name": "Dana", "last_name": "Reyes", "phone": phone, "date_of_birth": "1990-05-01",
        "id_document": {"kind": "drivers_license", "number": format!("CO{phone}"), "jurisdiction": "CO", "expiry": "2099-01-01"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.post("/api/v1/customers", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn create_products(app: &TestApp) {
    for body in [
        json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g", "category": "flower", "net_weight_g": "3.5", "price_cents": 3500}),
        json!({"sku": "EDB-10", "name": "Gummies 10 x 10 mg", "category": "edible", "thc_mg": 100, "net_weight_g": 30, "price_cents": 2000}),
    ] {
        let res = app.post("/api/v1/products", body).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
}

async fn checkout(app: &TestApp, key: &str, body: Value) -> Response {
    app.post_with_headers("/api/v1/checkout", body, &[("Idempotency-Key", key)])
        .await
}

fn flower(customer: &str, store: &str, quantity: u32) -> Value {
    json!({"customer_id": customer, "store_id": store, "lines": [{"sku": "FLW-35", "quantity": quantity}]})
}

async fn count_orders(app: &TestApp, customer: &str) -> usize {
    let res = app
        .get(&format!("/api/v1/customers/{customer}/orders?view=full"))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    res.body["items"].as_array().unwrap().len()
}

both_engines!(
    async fn a_checkout_places_an_order_with_the_best_group_discount_on_the_receipt(app) {
        let store = create_store(&app, "Denver Colfax", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550101", json!({})).await;
        for (name, percent) in [("VIP", 10), ("Veterans", 15)] {
            let g = app.post("/api/v1/groups", json!({"name": name, "discounts": [{"type": "percent", "percent": percent}]})).await;
            assert_eq!(g.status, 201, "{:?}", g.body);
            let m = app.post(&format!("/api/v1/groups/{}/members", g.body["id"].as_str().unwrap()), json!({"customer_id": customer})).await;
            assert_eq!(m.status, 204, "{:?}", m.body);
        }

        let res = checkout(&app, "k-1", json!({"customer_id": customer, "store_id": store,
            "lines": [{"sku": "FLW-35", "quantity": 2}, {"sku": "EDB-10"}],
            "payments": [{"method": "cash", "amount_cents": 7650}]})).await;

        assert_eq!(res.status, 201, "{:?}", res.body);
        let order = &res.body["order"];
        assert_eq!(order["subtotal_cents"], 9000);
        assert_eq!(order["discount_cents"], 1350);
        assert_eq!(order["total_cents"], 7650);
        assert_eq!(order["discounts"][0]["group_name"], "Veterans");
        assert_eq!(order["status"], "completed");
        assert_eq!(order["channel"], "in_store");
        assert_eq!(order["lines"][0]["net_weight_g"], "3.5");
        assert!(order["number"].as_i64().unwrap() > 0);
        assert_eq!(res.body["limits"]["verdict"], "allowed");
        let view = app.get(&format!("/api/v1/customers/{customer}")).await;
        assert_eq!(view.body["stats"]["order_count"], 1);
        assert_eq!(view.body["stats"]["lifetime_spend_cents"], 7650);
        assert_eq!(view.body["stats"]["favourite_categories"][0], "flower");
        assert_eq!(view.body["groups"].as_array().unwrap().len(), 2);
    }
);

both_engines!(
    async fn a_retried_checkout_returns_the_first_order_and_a_different_body_is_refused(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550102", json!({})).await;

        let first = checkout(&app, "retry-1", flower(&customer, &store, 1)).await;
        let again = checkout(&app, "retry-1", flower(&customer, &store, 1)).await;
        let other = checkout(&app, "retry-1", flower(&customer, &store, 2)).await;
        let missing = app.post("/api/v1/checkout", flower(&customer, &store, 1)).await;

        assert_eq!(first.status, 201, "{:?}", first.body);
        assert_eq!(again.status, 201);
        assert_eq!(again.body, first.body);
        assert_eq!((other.status, other.error_code()), (422, "idempotency_key_reused"));
        assert_eq!((missing.status, missing.error_code()), (400, "idempotency_key_required"));
        assert_eq!(count_orders(&app, &customer).await, 1);
    }
);

both_engines!(
    async fn concurrent_retries_of_one_checkout_make_one_order(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550109", json!({})).await;
        let body = flower(&customer, &store, 1);
        let (a, b, c) = tokio::join!(
            checkout(&app, "race", body.clone()),
            checkout(&app, "race", body.clone()),
            checkout(&app, "race", body.clone())
        );
        assert_eq!((a.status, b.status, c.status), (201, 201, 201), "{:?} {:?} {:?}", a.body, b.body, c.body);
        assert_eq!(a.body["order"]["id"], b.body["order"]["id"]);
        assert_eq!(a.body["order"]["id"], c.body["order"]["id"]);
        assert_eq!(count_orders(&app, &customer).await, 1);
    }
);

both_engines!(
    async fn a_refusal_lists_every_reason_and_writes_only_its_audit_row(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550103", json!({"id_document":
            {"kind": "drivers_license", "number": "X1", "jurisdiction": "CO", "expiry": "2020-01-01"}})).await;
        let ban = app.post(&format!("/api/v1/customers/{customer}/ban"), json!({"reason": "Diversion"})).await;
        assert_eq!(ban.status, 200);

        let res = checkout(&app, "refused-1", flower(&customer, &store, 9)).await;

        assert_eq!((res.status, res.error_code()), (422, "checkout_refused"), "{:?}", res.body);
        let codes: Vec<&str> = res.body["error"]["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["customer_banned", "id_expired", "purchase_limit_exceeded"]);
        assert!(res.body["error"]["limits"]["violations"][0]["message"].as_str().unwrap().contains("over by"));
        assert_eq!(count_orders(&app, &customer).await, 0);
        let refusals = app.store.audit_entries(&AuditFilter { action: Some("checkout.refused".into()), limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(refusals.len(), 1);
        let placed = app.store.audit_entries(&AuditFilter { action: Some("order.checkout".into()), limit: 10, ..Default::default() }).await.unwrap();
        assert!(placed.is_empty());
    }
);

both_engines!(
    async fn customers_without_a_verified_age_or_under_21_cannot_buy(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let unverified = app.post("/api/v1/customers", json!({"first_name": "No", "last_name": "Id"})).await;
        let unverified = unverified.body["id"].as_str().unwrap().to_string();
        let teen = create_customer(&app, "3035550104", json!({"date_of_birth": "2010-01-01"})).await;

        let a = checkout(&app, "u-1", flower(&unverified, &store, 1)).await;
        let b = checkout(&app, "u-2", flower(&teen, &store, 1)).await;

        let codes = |r: &Response| -> Vec<String> { r.body["error"]["reasons"].as_array().unwrap().iter().map(|x| x["code"].as_str().unwrap().to_string()).collect() };
        assert_eq!(codes(&a), ["not_verified", "not_verified"]);
        assert_eq!(codes(&b), ["underage"]);
    }
);

both_engines!(
    async fn the_daily_limit_counts_every_store_of_the_licensee_and_returns_give_it_back(app) {
        let colfax = create_store(&app, "Colfax", json!({})).await;
        let boulder = create_store(&app, "Boulder", json!({})).await;
        let other_licensee = create_store(&app, "Elsewhere", json!({"licensee": "Other LLC"})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550105", json!({})).await;

        // 6 × 3.5 g = 21 g at Colfax; 3 more at Boulder would make 31.5 g > 1 oz (28.3495 g).
        let first = checkout(&app, "s-1", flower(&customer, &colfax, 6)).await;
        assert_eq!(first.status, 201, "{:?}", first.body);
        let refused = checkout(&app, "s-2", flower(&customer, &boulder, 3)).await;
        assert_eq!(refused.error_code(), "checkout_refused", "{:?}", refused.body);
        assert_eq!(refused.body["error"]["reasons"][0]["code"], "purchase_limit_exceeded");
        // A store of another licensee does not see this licensee's sales.
        let elsewhere = app.post_with_headers("/api/v1/checkout/quote", flower(&customer, &other_licensee, 3), &[]).await;
        assert_eq!(elsewhere.body["allowed"], true, "{:?}", elsewhere.body);

        // Returning 3 units at Colfax restores the allotment.
        let order_id = first.body["order"]["id"].as_str().unwrap();
        let ret = app.post(&format!("/api/v1/orders/{order_id}/returns"), json!({"lines": [{"line_no": 1, "quantity": 3}], "reason": "unopened"})).await;
        assert_eq!(ret.status, 200, "{:?}", ret.body);
        assert_eq!(ret.body["refunded_cents"], 10500);
        assert_eq!(ret.body["lines"][0]["returned_quantity"], 3);
        assert_eq!(ret.body["status"], "completed");
        let allowed = checkout(&app, "s-3", flower(&customer, &boulder, 3)).await;
        assert_eq!(allowed.status, 201, "{:?}", allowed.body);

        // Voiding the Boulder sale frees it again.
        let boulder_order = allowed.body["order"]["id"].as_str().unwrap();
        let void = app.post(&format!("/api/v1/orders/{boulder_order}/void"), json!({"reason": "rung up twice"})).await;
        assert_eq!(void.body["status"], "voided", "{:?}", void.body);
        let quote = app.post("/api/v1/checkout/quote", flower(&customer, &boulder, 3)).await;
        assert_eq!(quote.body["allowed"], true, "{:?}", quote.body);
        assert_eq!(quote.body["limits"]["outcomes"][0]["from_history"], "0.3704");
    }
);

both_engines!(
    async fn a_store_scoped_limit_ignores_sister_stores(app) {
        let colfax = create_store(&app, "Colfax", json!({"history_scope": "store"})).await;
        let boulder = create_store(&app, "Boulder", json!({"history_scope": "store"})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550106", json!({})).await;
        assert_eq!(checkout(&app, "a", flower(&customer, &colfax, 6)).await.status, 201);
        let quote = app.post("/api/v1/checkout/quote", flower(&customer, &boulder, 3)).await;
        assert_eq!(quote.body["allowed"], true, "{:?}", quote.body);
    }
);

both_engines!(
    async fn warn_mode_needs_a_managers_override_which_is_recorded_with_the_decision(app) {
        let store = create_store(&app, "Denver", json!({"enforcement": "warn"})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550107", json!({})).await;

        let plain = checkout(&app, "w-1", flower(&customer, &store, 9)).await;
        assert_eq!(plain.body["error"]["reasons"][0]["code"], "limit_override_required", "{:?}", plain.body);
        let mut body = flower(&customer, &store, 9);
        body["limits_override"] = json!({"reason": "patient caregiver paperwork verified"});
        let res = checkout(&app, "w-2", body).await;

        assert_eq!(res.status, 201, "{:?}", res.body);
        let o = &res.body["order"]["limits_override"];
        assert_eq!(o["reason"], "patient caregiver paperwork verified");
        assert_eq!(o["rules"][0]["rule"], "au-flower-equivalent");
        assert!(o["approved_by"].as_str().is_some());
        assert_eq!(res.body["limits"]["verdict"], "override_required");
    }
);

both_engines!(
    async fn a_quote_prices_and_decides_without_writing(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550108", json!({})).await;
        let res = app.post("/api/v1/checkout/quote", json!({"customer_id": customer, "store_id": store,
            "lines": [{"name": "House pre-roll", "category": "pre_roll", "net_weight_g": 1, "unit_price_cents": 800, "quantity": 2}]})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["allowed"], true);
        assert_eq!(res.body["pricing"]["total_cents"], 1600);
        assert!(res.body["limits"]["outcomes"][0]["message"].as_str().unwrap().contains("left"));
        assert_eq!(count_orders(&app, &customer).await, 0);
    }
);

both_engines!(
    async fn pickup_orders_follow_their_lifecycle_and_illegal_changes_are_409(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550110", json!({})).await;
        let mut body = flower(&customer, &store, 1);
        body["channel"] = json!("pickup");
        let placed = checkout(&app, "p-1", body).await;
        assert_eq!(placed.body["order"]["status"], "received", "{:?}", placed.body);
        let id = placed.body["order"]["id"].as_str().unwrap();

        let wrong = app.post(&format!("/api/v1/orders/{id}/status"), json!({"status": "out_for_delivery"})).await;
        assert_eq!((wrong.status, wrong.error_code()), (409, "illegal_status_transition"));
        let ready = app.post(&format!("/api/v1/orders/{id}/status"), json!({"status": "ready_for_pickup"})).await;
        assert_eq!(ready.body["status"], "ready_for_pickup", "{:?}", ready.body);
        let done = app.post(&format!("/api/v1/orders/{id}/status"), json!({"status": "completed"})).await;
        assert_eq!(done.body["status"], "completed");
        let cancel = app.post(&format!("/api/v1/orders/{id}/status"), json!({"status": "cancelled"})).await;
        assert_eq!(cancel.status, 409);
        let events: Vec<&str> = done.body["events"].as_array().unwrap().iter().map(|e| e["to_status"].as_str().unwrap()).collect();
        assert_eq!(events, ["received", "ready_for_pickup", "completed"]);
        let all_back = app.post(&format!("/api/v1/orders/{id}/returns"), json!({"lines": [{"line_no": 1, "quantity": 1}], "reason": "defective"})).await;
        assert_eq!(all_back.body["status"], "returned", "{:?}", all_back.body);
        let too_many = app.post(&format!("/api/v1/orders/{id}/returns"), json!({"lines": [{"line_no": 1, "quantity": 1}], "reason": "again"})).await;
        assert_eq!(too_many.status, 409, "{:?}", too_many.body);
    }
);

both_engines!(
    async fn purchase_history_filters_pages_and_audits_full_views(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550111", json!({})).await;
        for i in 0..3 {
            let mut body = json!({"customer_id": customer, "store_id": store, "lines": [{"sku": "EDB-10"}]});
            if i == 2 {
                body["channel"] = json!("delivery");
            }
            assert_eq!(checkout(&app, &format!("h-{i}"), body).await.status, 201);
        }

        let page = app.get(&format!("/api/v1/customers/{customer}/orders?view=full&limit=2")).await;
        let delivery = app.get(&format!("/api/v1/customers/{customer}/orders?view=full&channel=delivery")).await;
        let summary = app.get(&format!("/api/v1/customers/{customer}/orders?view=summary")).await;

        assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
        let before = page.body["next_before"].as_i64().unwrap();
        let rest = app.get(&format!("/api/v1/customers/{customer}/orders?view=full&before={before}")).await;
        assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(delivery.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(delivery.body["items"][0]["status"], "received");
        assert_eq!(summary.body["view"], "summary");
        assert_eq!(summary.body["items"].as_array().unwrap().len(), 3);
        assert!(summary.body["items"][0]["lines"].as_array().unwrap().is_empty());
        let views = app.store.audit_entries(&AuditFilter { action: Some("order.history_view".into()), limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(views.len(), 3);
    }
);

both_engines!(
    async fn banned_customers_cannot_check_in_and_the_queue_lists_and_serves(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        let ok = create_customer(&app, "3035550112", json!({})).await;
        let banned = create_customer(&app, "3035550113", json!({})).await;
        app.post(&format!("/api/v1/customers/{banned}/ban"), json!({"reason": "Abusive to staff"})).await;

        let refused = app.post(&format!("/api/v1/stores/{store}/checkins"), json!({"customer_id": banned})).await;
        let queued = app.post(&format!("/api/v1/stores/{store}/checkins"), json!({"customer_id": ok})).await;
        let queue = app.get(&format!("/api/v1/stores/{store}/checkins")).await;
        let dash = app.get(&format!("/api/v1/dashboard?store={store}")).await;

        assert_eq!((refused.status, refused.error_code()), (422, "checkin_refused"));
        assert_eq!(refused.body["error"]["reasons"][0]["code"], "customer_banned");
        assert_eq!(queued.status, 201, "{:?}", queued.body);
        assert_eq!(queue.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(queue.body["items"][0]["display_name"], "Dana R.");
        assert_eq!(dash.body["checked_in_now"], 1);
        assert_eq!(dash.body["customers"], 2);
        let id = queued.body["id"].as_str().unwrap();
        let served = app.post(&format!("/api/v1/stores/{store}/checkins/{id}/serve"), json!({})).await;
        assert_eq!(served.body["status"], "served", "{:?}", served.body);
        let queue = app.get(&format!("/api/v1/stores/{store}/checkins")).await;
        assert!(queue.body["items"].as_array().unwrap().is_empty());
    }
);

both_engines!(
    async fn the_queue_event_stream_sends_a_snapshot_and_then_each_change(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        let customer = create_customer(&app, "3035550114", json!({})).await;
        let mut stream = app.client.get(app.url(&format!("/api/v1/stores/{store}/checkins/events"))).bearer_auth(app.token.as_deref().unwrap()).send().await.unwrap();
        let first = next_event(&mut stream).await;
        assert!(first.contains("\"items\":[]"), "{first}");

        app.post(&format!("/api/v1/stores/{store}/checkins"), json!({"customer_id": customer})).await;

        let second = next_event(&mut stream).await;
        assert!(second.contains(&customer), "{second}");
    }
);

/// Reads one server-sent event (up to its blank line), skipping keep-alive comments.
pub async fn next_event(stream: &mut reqwest::Response) -> String {
    let mut buf = String::new();
    loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .expect("an event within 10 s")
            .expect("stream")
            .expect("stream still open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(end) = buf.find("\n\n") {
            let event = buf[..end].to_string();
            if event.lines().any(|l| l.starts_with("event:")) {
                return event;
            }
            buf = buf[end + 2..].to_string();
        }
    }
}

both_engines!(
    async fn stores_refuse_unknown_jurisdictions_and_products_refuse_bad_measures(app) {
        let store = app.post("/api/v1/stores", json!({"name": "X", "licence_type": "adult_use", "jurisdiction": "US-ZZ"})).await;
        assert_eq!((store.status, store.body["error"]["field"].as_str()), (422, Some("jurisdiction")));
        let product = app.post("/api/v1/products", json!({"sku": "A", "name": "A", "category": "flower", "net_weight_g": "3.5001", "price_cents": 1})).await;
        assert_eq!((product.status, product.body["error"]["field"].as_str()), (422, Some("net_weight_g")));
        let product = app.post("/api/v1/products", json!({"sku": "A", "name": "A", "category": "herb", "price_cents": 1})).await;
        assert_eq!((product.status, product.body["error"]["field"].as_str()), (422, Some("category")));
    }
);

both_engines!(
    async fn the_order_export_has_a_row_per_line_with_the_order_figures_and_needs_full_history(app) {
        let store = create_store(&app, "Denver", json!({})).await;
        create_products(&app).await;
        let customer = create_customer(&app, "3035550177", json!({})).await;
        let res = checkout(&app, "export-1", json!({"customer_id": customer, "store_id": store,
            "lines": [{"sku": "FLW-35", "quantity": 2}, {"sku": "EDB-10"}],
            "payments": [{"method": "cash", "amount_cents": 9000}]})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let number = res.body["order"]["number"].as_i64().unwrap().to_string();

        let export = app.client.get(app.url("/api/v1/exports/orders"))
            .bearer_auth(app.token.as_deref().unwrap()).send().await.unwrap();
        assert_eq!(export.status().as_u16(), 200);
        let text = export.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2, "{text}");
        let cell = |row: &csv::StringRecord, name: &str| {
            row[headers.iter().position(|h| h == name).unwrap()].to_string()
        };
        assert_eq!(cell(&rows[0], "order_number"), number);
        assert_eq!(cell(&rows[0], "order_total_cents"), "9000");
        assert_eq!(cell(&rows[0], "payment_methods"), "cash");
        assert_eq!(cell(&rows[0], "sku"), "FLW-35");
        assert_eq!(cell(&rows[0], "quantity"), "2");
        assert_eq!(cell(&rows[0], "net_weight_g"), "3.5");
        assert_eq!(cell(&rows[0], "line_total_cents"), "7000");
        assert_eq!(cell(&rows[1], "category"), "edible");
        assert_eq!(cell(&rows[1], "thc_mg"), "100");

        let budtender = app.as_role(canopy_domain::Role::Budtender).await;
        assert_eq!(budtender.get("/api/v1/exports/orders").await.status, 403);
    }
);
