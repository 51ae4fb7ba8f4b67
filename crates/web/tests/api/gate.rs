//! Trying to talk the compliance gate out of the law from outside, as a budtender with a browser
//! and curl would, on both engines. Each test is one way around the gate; each was open before
//! the gate became one decision with the server as the authority for its facts, except where a
//! test says it pins behaviour that already held.

use canopy_domain::{Permission, PermissionSet, Role};
use canopy_testkit::{Response, TestApp, TestClient, both_engines};
use serde_json::{Value, json};

/// A Colorado adult-use store (1 oz flower a day) of licensee "Green Co".
async fn store(app: &TestApp, name: &str, extra: Value) -> String {
    let mut body = json!({"name": name, "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.post("/api/v1/stores", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn customer(app: &TestApp, phone: &str, extra: Value) -> String {
    let mut body = json!({"first_name": "Dana", "last_name": "Reyes", "phone": phone, "date_of_birth": "1990-05-01",
        "id_document": {"kind": "drivers_license", "number": format!("CO{phone}"), "jurisdiction": "CO", "expiry": "2099-01-01"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.post("/api/v1/customers", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

/// A 14 g flower SKU at $90.
async fn products(app: &TestApp) {
    let res = app
        .post(
            "/api/v1/products",
            json!({"sku": "FLW-14", "name": "Half ounce", "category": "flower", "net_weight_g": "14", "price_cents": 9000}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
}

fn half_ounces(customer: &str, store: &str, quantity: u32) -> Value {
    json!({"customer_id": customer, "store_id": store, "lines": [{"sku": "FLW-14", "quantity": quantity}]})
}

async fn checkout(client: &TestClient, key: &str, body: Value) -> Response {
    client
        .post_with_headers("/api/v1/checkout", body, &[("Idempotency-Key", key)])
        .await
}

fn field(res: &Response) -> &str {
    res.body["error"]["field"].as_str().unwrap_or("")
}

fn reasons(res: &Response) -> Vec<&str> {
    res.body["error"]["reasons"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["code"].as_str()).collect())
        .unwrap_or_default()
}

fn scopes(list: &[Permission]) -> PermissionSet {
    list.iter().copied().collect()
}

both_engines!(
    async fn a_request_cannot_replace_purchase_history_at_a_licensee_store(app) {
        let s = store(&app, "Colfax", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550201", json!({})).await;
        let admin = app.as_client();
        assert_eq!(checkout(&admin, "a-1", half_ounces(&c, &s, 2)).await.status, 201);

        // The budtender's 56 g day: claim a full ounce is left and ask for local history to be ignored.
        let mut body = half_ounces(&c, &s, 2);
        body["external_allotments"] = json!([{"rule": "au-flower-equivalent", "remaining": "28.3495", "unit": "g", "mode": "replace"}]);
        let res = checkout(&admin, "a-2", body.clone()).await;
        assert_eq!((res.status, res.error_code()), (422, "allotment_replace_not_allowed"));
        assert_eq!(field(&res), "external_allotments[0].mode");

        // Sent to tighten, the same generous figure cannot loosen anything.
        body["external_allotments"][0]["mode"] = json!("tighten");
        let res = checkout(&admin, "a-3", body).await;
        assert_eq!((res.status, reasons(&res)), (422, vec!["purchase_limit_exceeded"]));
    }
);

both_engines!(
    async fn only_a_state_system_key_replaces_history_and_only_at_a_state_store(app) {
        let s = store(&app, "State scope", json!({"history_scope": "state"})).await;
        products(&app).await;
        let c = customer(&app, "3035550202", json!({})).await;
        let admin = app.as_client();
        assert_eq!(checkout(&admin, "s-1", half_ounces(&c, &s, 2)).await.status, 201);
        let mut body = half_ounces(&c, &s, 1);
        body["external_allotments"] = json!([{"rule": "au-flower-equivalent", "remaining": "28.3495", "unit": "g", "mode": "replace"}]);

        let manager = app.as_role_at(Role::Manager, &[&s]).await;
        let res = checkout(&manager, "s-2", body.clone()).await;
        assert_eq!((res.status, res.error_code()), (422, "allotment_replace_not_allowed"));

        // `all` does not include the dedicated scope.
        let res = checkout(&admin, "s-3", body.clone()).await;
        assert_eq!((res.status, res.error_code()), (422, "allotment_replace_not_allowed"));

        let state = app
            .key_with_scopes(scopes(&[Permission::OrdersWrite, Permission::StateSync]))
            .await;
        let res = checkout(&state, "s-4", body).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
);

both_engines!(
    async fn a_catalogue_line_takes_its_facts_from_the_catalogue(app) {
        let s = store(&app, "Colfax", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550203", json!({})).await;
        let budtender = app.as_role_at(Role::Budtender, &[&s]).await;
        assert_eq!(checkout(&budtender, "c-1", half_ounces(&c, &s, 2)).await.status, 201);

        for (line, want_field) in [
            (json!({"sku": "FLW-14", "net_weight_g": "0.001"}), "lines[0].net_weight_g"),
            (json!({"sku": "FLW-14", "category": "topical"}), "lines[0].category"),
            (json!({"sku": "FLW-14", "thc_mg": "1"}), "lines[0].thc_mg"),
            (json!({"sku": "FLW-14", "name": "Hemp tea"}), "lines[0].name"),
        ] {
            let res = checkout(&budtender, "c-2", json!({"customer_id": c, "store_id": s, "lines": [line]})).await;
            assert_eq!((res.status, res.error_code(), field(&res)), (422, "catalogue_fact", want_field));
        }
        let res = checkout(&budtender, "c-3", json!({"customer_id": c, "store_id": s,
            "lines": [{"sku": "FLW-14", "unit_price_cents": 0}]})).await;
        assert_eq!((res.status, res.error_code(), field(&res)), (422, "price_override_required", "lines[0].unit_price_cents"));
        let res = checkout(&budtender, "c-4", json!({"customer_id": c, "store_id": s,
            "lines": [{"sku": "FLW-14", "unit_price_cents": 0}], "price_override": {"reason": "friend"}})).await;
        assert_eq!((res.status, res.error_code()), (403, "forbidden"));
    }
);

both_engines!(
    async fn a_price_override_needs_its_permission_and_a_reason_and_is_stored_and_audited(app) {
        let s = store(&app, "Colfax", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550204", json!({})).await;
        let manager = app.as_role_at(Role::Manager, &[&s]).await;
        let res = checkout(&manager, "p-1", json!({"customer_id": c, "store_id": s,
            "lines": [{"sku": "FLW-14", "unit_price_cents": 7000}], "price_override": {"reason": "  "}})).await;
        assert_eq!((res.status, field(&res)), (422, "price_override.reason"));
        let res = checkout(&manager, "p-2", json!({"customer_id": c, "store_id": s,
            "lines": [{"sku": "FLW-14", "unit_price_cents": 7000}], "price_override": {"reason": "damaged packaging"}})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let order = &res.body["order"];
        assert_eq!(order["total_cents"], 7000);
        assert_eq!(order["price_override"]["reason"], "damaged packaging");
        assert_eq!(order["price_override"]["lines"][0], json!({"line_no": 1, "catalogue_cents": 9000, "charged_cents": 7000}));
        let id = order["id"].as_str().unwrap();
        let stored = app.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(stored.body["price_override"]["reason"], "damaged packaging");
        let audit = app.get(&format!("/api/v1/audit?entity=order&entity_id={id}&action=order.checkout")).await;
        assert_eq!(audit.body["items"][0]["changes"]["price_override"]["reason"], "damaged packaging", "{:?}", audit.body);
    }
);

both_engines!(
    async fn lines_without_a_sku_need_their_own_scope_and_every_measure_and_are_marked(app) {
        let s = store(&app, "Colfax", json!({})).await;
        let c = customer(&app, "3035550205", json!({})).await;
        let line = json!({"name": "House flower", "category": "flower", "unit_price_cents": 1000});
        let body = json!({"customer_id": c, "store_id": s, "lines": [line]});

        let register = app.key_with_scopes(scopes(&[Permission::OrdersWrite])).await;
        let res = checkout(&register, "x-1", body.clone()).await;
        assert_eq!((res.status, res.error_code()), (403, "forbidden"));

        let pos = app
            .key_with_scopes(scopes(&[Permission::OrdersWrite, Permission::OrdersRead, Permission::ExternalLines]))
            .await;
        let res = checkout(&pos, "x-2", body.clone()).await;
        assert_eq!((res.status, res.error_code(), field(&res)), (422, "required", "lines[0].net_weight_g"));
        let mut complete = body;
        complete["lines"][0]["net_weight_g"] = json!("3.5");
        let res = checkout(&pos, "x-3", complete).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["order"]["caller_asserted"], true);
    }
);

both_engines!(
    async fn staff_act_only_at_the_stores_they_are_assigned_to(app) {
        let mine = store(&app, "Mine", json!({})).await;
        let theirs = store(&app, "Theirs", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550206", json!({})).await;
        let budtender = app.as_role_at(Role::Budtender, &[&mine]).await;

        let res = budtender.post(&format!("/api/v1/stores/{theirs}/checkins"), json!({"customer_id": c})).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));
        let res = checkout(&budtender, "t-1", half_ounces(&c, &theirs, 1)).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));
        let res = budtender.post("/api/v1/checkout/quote", half_ounces(&c, &theirs, 1)).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));

        let res = budtender.post(&format!("/api/v1/stores/{mine}/checkins"), json!({"customer_id": c})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["eligibility"]["eligible"], true);
        assert_eq!(res.body["eligibility"]["actions"]["sell"], true);
        assert_eq!(checkout(&budtender, "t-2", half_ounces(&c, &mine, 1)).await.status, 201);

        // Someone else's order, at someone else's store: no void, no return, no status change.
        let other = checkout(&app.as_client(), "t-3", half_ounces(&c, &theirs, 1)).await;
        let id = other.body["order"]["id"].as_str().unwrap();
        let res = budtender.post(&format!("/api/v1/orders/{id}/void"), json!({"reason": "oops"})).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));
        let res = budtender.post(&format!("/api/v1/orders/{id}/returns"), json!({"reason": "oops", "lines": [{"line_no": 1, "quantity": 1}]})).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));

        // Admins act everywhere; a key limited to one store acts only there.
        let admin = app.as_role(Role::Admin).await;
        assert_eq!(admin.post(&format!("/api/v1/orders/{id}/void"), json!({"reason": "wrong customer"})).await.status, 200);
        let key = app.key_at_stores(scopes(&[Permission::OrdersWrite]), Some(&[&mine])).await;
        let res = checkout(&key, "t-4", half_ounces(&c, &theirs, 1)).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));
    }
);

both_engines!(
    async fn staff_see_the_check_in_queue_and_its_stream_only_at_their_stores(app) {
        let mine = store(&app, "Mine", json!({})).await;
        let theirs = store(&app, "Theirs", json!({})).await;
        let c = customer(&app, "3035550216", json!({})).await;
        let res = app.post(&format!("/api/v1/stores/{theirs}/checkins"), json!({"customer_id": c})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let budtender = app.as_role_at(Role::Budtender, &[&mine]).await;

        // Another store's queue: not its list, not its live stream, not its dashboard.
        let res = budtender.get(&format!("/api/v1/stores/{theirs}/checkins")).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));
        let res = budtender.get(&format!("/api/v1/stores/{theirs}/checkins/events")).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));
        let res = budtender.get(&format!("/api/v1/dashboard?store={theirs}")).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));

        // Their own store's queue and stream.
        let res = budtender.get(&format!("/api/v1/stores/{mine}/checkins")).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert!(res.body["items"].as_array().unwrap().is_empty());
        let mut stream = budtender
            .client
            .get(budtender.url(&format!("/api/v1/stores/{mine}/checkins/events")))
            .bearer_auth(budtender.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        let first = crate::orders::next_event(&mut stream).await;
        assert!(first.contains("\"items\":[]"), "{first}");

        // Admins see every store's queue, and the customer waiting there.
        let admin = app.as_role(Role::Admin).await;
        let res = admin.get(&format!("/api/v1/stores/{theirs}/checkins")).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["items"][0]["customer_id"], c.as_str());
        let res = admin.get(&format!("/api/v1/dashboard?store={theirs}")).await;
        assert_eq!(res.status, 200, "{:?}", res.body);

        // A key limited to one store reads only that store's queue.
        let key = app.key_at_stores(scopes(&[Permission::CustomersRead]), Some(&[&mine])).await;
        let res = key.get(&format!("/api/v1/stores/{theirs}/checkins")).await;
        assert_eq!((res.status, res.error_code()), (403, "store_not_assigned"));
        assert_eq!(key.get(&format!("/api/v1/stores/{mine}/checkins")).await.status, 200);
    }
);

both_engines!(
    async fn zero_or_negative_quantities_are_refused(app) {
        let s = store(&app, "Colfax", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550207", json!({})).await;
        let admin = app.as_client();
        let res = checkout(&admin, "q-1", half_ounces(&c, &s, 0)).await;
        assert_eq!((res.status, field(&res)), (422, "lines[0].quantity"));
        let res = checkout(&admin, "q-2", json!({"customer_id": c, "store_id": s, "lines": [{"sku": "FLW-14", "quantity": -2}]})).await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        let res = checkout(&admin, "q-3", json!({"customer_id": c, "store_id": s,
            "lines": [{"sku": "FLW-14", "quantity": 3}, {"sku": "FLW-14", "quantity": 1, "unit_price_cents": -9000}],
            "price_override": {"reason": "balance"}})).await;
        assert_eq!((res.status, field(&res)), (422, "lines[1].unit_price_cents"));
    }
);

both_engines!(
    async fn a_return_gives_back_only_what_came_back(app) {
        let s = store(&app, "Colfax", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550208", json!({})).await;
        let admin = app.as_client();
        let placed = checkout(&admin, "r-1", half_ounces(&c, &s, 2)).await;
        let id = placed.body["order"]["id"].as_str().unwrap();
        let res = admin.post(&format!("/api/v1/orders/{id}/returns"), json!({"reason": "changed mind", "lines": [{"line_no": 1, "quantity": 1}]})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        // 14 g came back, so 14 g can be sold again, and no more.
        assert_eq!(checkout(&admin, "r-2", half_ounces(&c, &s, 1)).await.status, 201);
        let res = checkout(&admin, "r-3", half_ounces(&c, &s, 1)).await;
        assert_eq!(reasons(&res), vec!["purchase_limit_exceeded"]);
        // Returning the same units twice is refused.
        let res = admin.post(&format!("/api/v1/orders/{id}/returns"), json!({"reason": "again", "lines": [{"line_no": 1, "quantity": 2}]})).await;
        assert_eq!(res.error_code(), "invalid_return_quantity");
    }
);

both_engines!(
    async fn splitting_one_purchase_across_channels_and_sister_stores_counts_it_once(app) {
        let a = store(&app, "Colfax", json!({})).await;
        let b = store(&app, "Aurora", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550209", json!({})).await;
        let admin = app.as_client();
        assert_eq!(checkout(&admin, "sp-1", half_ounces(&c, &a, 1)).await.status, 201);
        let mut pickup = half_ounces(&c, &b, 1);
        pickup["channel"] = json!("pickup");
        assert_eq!(checkout(&admin, "sp-2", pickup).await.status, 201);
        let mut delivery = half_ounces(&c, &a, 1);
        delivery["channel"] = json!("delivery");
        let res = checkout(&admin, "sp-3", delivery).await;
        assert_eq!(reasons(&res), vec!["purchase_limit_exceeded"]);
    }
);

both_engines!(
    async fn a_caregiver_cannot_buy_for_an_unlinked_patient(app) {
        let s = store(&app, "Both", json!({"licence_type": "both"})).await;
        products(&app).await;
        let caregiver = customer(&app, "3035550210", json!({"customer_type": "caregiver"})).await;
        let patient = customer(&app, "3035550211", json!({"customer_type": "medical"})).await;
        let mut body = half_ounces(&caregiver, &s, 1);
        body["patient_id"] = json!(patient);
        let res = checkout(&app.as_client(), "cg-1", body).await;
        assert!(reasons(&res).contains(&"patient_not_linked"), "{:?}", res.body);
    }
);

both_engines!(
    async fn two_registers_at_once_over_the_limit_together_sell_once(app) {
        let s = store(&app, "Colfax", json!({})).await;
        products(&app).await;
        let c = customer(&app, "3035550212", json!({})).await;
        let one = app.as_role_at(Role::Budtender, &[&s]).await;
        let two = app.as_role_at(Role::Budtender, &[&s]).await;
        // Each register sells 21 g: under 1 oz alone, over it together.
        app.post("/api/v1/products", json!({"sku": "FLW-7", "name": "Quarter", "category": "flower", "net_weight_g": "7", "price_cents": 5000})).await;
        let cart = json!({"customer_id": c, "store_id": s, "lines": [{"sku": "FLW-14"}, {"sku": "FLW-7"}]});
        let (r1, r2) = tokio::join!(checkout(&one, "reg-1", cart.clone()), checkout(&two, "reg-2", cart.clone()));
        let mut statuses = [r1.status, r2.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 422], "{:?} {:?}", r1.body, r2.body);
        let refused = if r1.status == 422 { &r1 } else { &r2 };
        assert_eq!(reasons(refused), vec!["purchase_limit_exceeded"]);
    }
);

both_engines!(
    async fn the_customer_view_and_the_id_scan_carry_the_servers_decision(app) {
        let s = store(&app, "Colfax", json!({})).await;
        let c = customer(&app, "3035550213", json!({"date_of_birth": "2010-01-01"})).await;
        let view = app.get(&format!("/api/v1/customers/{c}")).await;
        assert_eq!(view.body["eligibility"]["eligible"], false);
        assert_eq!(view.body["eligibility"]["actions"], json!({"check_in": false, "sell": false}));
        assert_eq!(view.body["eligibility"]["reasons"][0]["code"], "underage");
        let res = app.post(&format!("/api/v1/stores/{s}/checkins"), json!({"customer_id": c})).await;
        assert_eq!((res.status, res.error_code()), (422, "checkin_refused"));
        assert_eq!(res.body["error"]["eligibility"]["minimum_age"], 21);
    }
);
