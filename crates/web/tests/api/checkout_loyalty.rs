//! Loyalty through the order's life: points earned with the sale, redeemed at the customer's choice,
//! taken back and given back on returns, voids and cancellations, never twice, on both engines.
//! The default program: $1 = 1 point on what the customer pays, 100 points = $5.

use canopy_testkit::{Response, TestApp, both_engines};
use serde_json::{Value, json};

struct Shop {
    store: String,
    customer: String,
}

/// A Colorado store selling $35 eighths, and a customer with `points` from a manager's adjustment.
async fn shop(app: &TestApp, points: i64) -> Shop {
    let res = app
        .post(
            "/api/v1/stores",
            json!({"name": "Denver", "licensee": "Green Co",
        "licence_type": "adult_use", "jurisdiction": "US-CO"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let store = res.body["id"].as_str().unwrap().to_string();
    let res = app
        .post(
            "/api/v1/products",
            json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g",
        "category": "flower", "net_weight_g": "3.5", "price_cents": 3500}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let res = app.post("/api/v1/customers", json!({"first_name": "Sarah", "last_name": "Miller",
        "phone": "3035550142", "date_of_birth": "1998-03-02",
        "id_document": {"kind": "drivers_license", "number": "CO123456", "jurisdiction": "CO", "expiry": "2099-01-01"}})).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let customer = res.body["id"].as_str().unwrap().to_string();
    if points != 0 {
        let res = app
            .post(
                &format!("/api/v1/customers/{customer}/loyalty/adjustments"),
                json!({"points": points, "reason": "points from the old POS"}),
            )
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
    Shop { store, customer }
}

impl Shop {
    fn sale(&self, eighths: u32, redeem_points: i64) -> Value {
        json!({"customer_id": self.customer, "store_id": self.store,
            "lines": [{"sku": "FLW-35", "quantity": eighths}], "loyalty_redeem_points": redeem_points})
    }
}

async fn checkout(app: &TestApp, key: &str, body: Value) -> Response {
    app.post_with_headers("/api/v1/checkout", body, &[("Idempotency-Key", key)])
        .await
}

async fn balance(app: &TestApp, customer: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/customers/{customer}/loyalty"))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    res.body
}

async fn assert_ledger_consistent(app: &TestApp) {
    let report = app.store.verify_loyalty().await.unwrap();
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

both_engines!(
    async fn an_in_store_sale_earns_its_points_in_the_same_checkout(app) {
        let shop = shop(&app, 0).await;
        let res = checkout(&app, "earn-1", shop.sale(2, 0)).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["loyalty"]["earned_points"], 70);
        assert_eq!(balance(&app, &shop.customer).await["available"], 70);

        let history = app.get(&format!("/api/v1/customers/{}/loyalty/history", shop.customer)).await;
        let entry = &history.body["items"][0];
        assert_eq!(entry["kind"], "earn");
        assert_eq!(entry["order_id"], res.body["order"]["id"]);
        assert_eq!(entry["amount_cents"], 7000);
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn a_retried_checkout_earns_once(app) {
        let shop = shop(&app, 0).await;
        let first = checkout(&app, "twice", shop.sale(1, 0)).await;
        let again = checkout(&app, "twice", shop.sale(1, 0)).await;
        assert_eq!((first.status, again.status), (201, 201));
        assert_eq!(again.body, first.body);
        assert_eq!(balance(&app, &shop.customer).await["balance"], 35);
    }
);

both_engines!(
    async fn redeemed_points_come_off_the_total_and_the_rest_earns(app) {
        let shop = shop(&app, 500).await;
        let quote = app.post("/api/v1/checkout/quote", shop.sale(2, 200)).await;
        assert_eq!(quote.status, 200, "{:?}", quote.body);
        assert_eq!(quote.body["pricing"]["loyalty_cents"], 1000);
        assert_eq!(quote.body["loyalty_points"], 200);
        assert_eq!(balance(&app, &shop.customer).await["available"], 500, "a quote writes nothing");

        let res = checkout(&app, "redeem-1", shop.sale(2, 200)).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let order = &res.body["order"];
        assert_eq!(order["subtotal_cents"], 7000);
        assert_eq!(order["loyalty_redeemed_cents"], 1000);
        assert_eq!(order["total_cents"], 6000);
        assert_eq!(res.body["loyalty"]["redeemed_points"], 200);
        assert_eq!(res.body["loyalty"]["earned_points"], 60, "points earn on what was paid");
        assert_eq!(balance(&app, &shop.customer).await["balance"], 500 - 200 + 60);
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn a_redemption_beyond_the_balance_or_the_order_is_refused_with_the_other_reasons(app) {
        let shop = shop(&app, 300).await;
        let res = checkout(&app, "too-many", shop.sale(1, 400)).await;
        assert_eq!((res.status, res.error_code()), (422, "checkout_refused"), "{:?}", res.body);
        let codes: Vec<&str> = res.body["error"]["reasons"].as_array().unwrap().iter()
            .map(|r| r["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["loyalty_insufficient_points"]);

        let all = app.post("/api/v1/checkout/quote", shop.sale(1, 300)).await;
        assert_eq!(all.body["pricing"]["total_cents"], 3500 - 1500, "{:?}", all.body);

        let res = checkout(&app, "negative", shop.sale(1, -5)).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("loyalty_redeem_points")));

        assert_eq!(balance(&app, &shop.customer).await["balance"], 300);
        let orders = app.get(&format!("/api/v1/customers/{}/orders?view=full", shop.customer)).await;
        assert_eq!(orders.body["items"], json!([]));
    }
);

both_engines!(
    async fn points_worth_more_than_the_order_are_refused(app) {
        let shop = shop(&app, 1000).await;
        let res = checkout(&app, "over", shop.sale(1, 800)).await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        assert_eq!(res.body["error"]["reasons"][0]["code"], "loyalty_exceeds_order_total");
        let res = checkout(&app, "exact", shop.sale(1, 700)).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["order"]["total_cents"], 0);
        assert_eq!(res.body["loyalty"]["earned_points"], 0);
        assert_eq!(balance(&app, &shop.customer).await["balance"], 300);
    }
);

both_engines!(
    async fn two_registers_redeeming_the_same_points_at_once_spend_them_once(app) {
        let shop = shop(&app, 100).await;
        let (a, b, c) = tokio::join!(
            checkout(&app, "reg-a", shop.sale(1, 100)),
            checkout(&app, "reg-b", shop.sale(1, 100)),
            checkout(&app, "reg-c", shop.sale(1, 100)),
        );
        let placed = [&a, &b, &c].iter().filter(|r| r.status == 201).count();
        assert_eq!(placed, 1, "{:?} {:?} {:?}", a.body, b.body, c.body);
        for r in [&a, &b, &c] {
            assert!(matches!(r.status, 201 | 409 | 422), "{:?}", r.body);
        }
        // 100 points spent once; the sale of $30 earned 30.
        assert_eq!(balance(&app, &shop.customer).await["balance"], 30);
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn returns_take_back_earned_points_and_give_back_redeemed_ones_in_proportion(app) {
        let shop = shop(&app, 200).await;
        // 4 eighths, $140, 200 points = $10 off: pays $130, earns 130.
        let res = checkout(&app, "ret", shop.sale(4, 200)).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let order = res.body["order"]["id"].as_str().unwrap().to_string();
        assert_eq!(balance(&app, &shop.customer).await["balance"], 130);

        let one = app.post(&format!("/api/v1/orders/{order}/returns"),
            json!({"lines": [{"line_no": 1, "quantity": 1}], "reason": "unopened"})).await;
        assert_eq!(one.status, 200, "{:?}", one.body);
        // A quarter back: 33 earned points taken back (rounded up), 50 redeemed given back.
        assert_eq!(balance(&app, &shop.customer).await["balance"], 130 - 33 + 50);

        let rest = app.post(&format!("/api/v1/orders/{order}/returns"),
            json!({"lines": [{"line_no": 1, "quantity": 3}], "reason": "unopened"})).await;
        assert_eq!(rest.status, 200, "{:?}", rest.body);
        assert_eq!(rest.body["status"], "returned");
        assert_eq!(balance(&app, &shop.customer).await["balance"], 200, "back where the customer started");
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn a_void_reverses_the_points_once(app) {
        let shop = shop(&app, 100).await;
        let res = checkout(&app, "void", shop.sale(2, 100)).await;
        let order = res.body["order"]["id"].as_str().unwrap().to_string();
        assert_eq!(balance(&app, &shop.customer).await["balance"], 65);

        let void = app.post(&format!("/api/v1/orders/{order}/void"), json!({"reason": "rung up twice"})).await;
        assert_eq!(void.status, 200, "{:?}", void.body);
        assert_eq!(balance(&app, &shop.customer).await["balance"], 100);
        let again = app.post(&format!("/api/v1/orders/{order}/void"), json!({"reason": "again"})).await;
        assert_eq!(again.status, 409, "{:?}", again.body);
        assert_eq!(balance(&app, &shop.customer).await["balance"], 100);
        let kinds: Vec<String> = app.get(&format!("/api/v1/customers/{}/loyalty/history", shop.customer)).await
            .body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
        assert_eq!(kinds, ["reverse", "reverse", "earn", "redeem", "adjust"]);
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn a_pickup_order_earns_when_completed_and_a_cancelled_one_gives_the_points_back(app) {
        let shop = shop(&app, 100).await;
        let mut sale = shop.sale(1, 0);
        sale["channel"] = json!("pickup");
        let res = checkout(&app, "pickup", sale).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["loyalty"]["earned_points"], 0);
        let order = res.body["order"]["id"].as_str().unwrap().to_string();
        for status in ["ready_for_pickup", "completed"] {
            let r = app.post(&format!("/api/v1/orders/{order}/status"), json!({"status": status})).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        assert_eq!(balance(&app, &shop.customer).await["balance"], 135);

        let mut sale = shop.sale(1, 100);
        sale["channel"] = json!("pickup");
        let res = checkout(&app, "pickup-cancel", sale).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let order = res.body["order"]["id"].as_str().unwrap().to_string();
        assert_eq!(balance(&app, &shop.customer).await["balance"], 35);
        let r = app.post(&format!("/api/v1/orders/{order}/status"), json!({"status": "cancelled", "reason": "not collected"})).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(balance(&app, &shop.customer).await["balance"], 135);
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn partners_hear_of_every_points_change_and_only_of_committed_ones(app) {
        let hook = app.post("/api/v1/webhooks/endpoints", json!({"url": "https://marketing.example.com/hook",
            "events": ["loyalty.changed"]})).await;
        assert_eq!(hook.status, 201, "{:?}", hook.body);
        let endpoint = hook.body["id"].as_str().unwrap().to_string();
        let shop = shop(&app, 100).await;
        let placed = checkout(&app, "hooked", shop.sale(1, 100)).await;
        assert_eq!(placed.status, 201, "{:?}", placed.body);
        let refused = checkout(&app, "refused", shop.sale(1, 5000)).await;
        assert_eq!(refused.status, 422);

        let deliveries = app.get(&format!("/api/v1/webhooks/deliveries?endpoint_id={endpoint}")).await;
        let items = deliveries.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "adjust, redeem and earn; nothing for the refusal: {items:?}");
        assert!(items.iter().all(|d| d["event_type"] == "loyalty.changed"));
    }
);
