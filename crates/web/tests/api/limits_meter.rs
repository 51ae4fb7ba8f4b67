//! The profile's limits meter: a quote of an empty cart is what is left of each allotment.

use canopy_testkit::both_engines;
use serde_json::json;

both_engines!(
    async fn a_quote_of_an_empty_cart_shows_every_allotment_untouched_while_checkout_still_refuses_it(app) {
        let store = app
            .post("/api/v1/stores", json!({"name": "Denver", "licence_type": "adult_use", "jurisdiction": "US-CO"}))
            .await;
        let store = store.body["id"].as_str().expect("store id").to_string();
        let customer = app
            .post("/api/v1/customers", json!({"first_name": "Dana", "last_name": "Reyes", "date_of_birth": "1990-05-01",
                "id_document": {"number": "CO123", "jurisdiction": "CO", "expiry": "2099-01-01"}}))
            .await;
        let customer = customer.body["id"].as_str().expect("customer id").to_string();
        let empty = json!({"customer_id": customer, "store_id": store, "lines": []});

        let quote = app.post("/api/v1/checkout/quote", empty.clone()).await;

        assert_eq!(quote.status, 200, "{:?}", quote.body);
        let outcomes = quote.body["limits"]["outcomes"].as_array().expect("outcomes");
        assert!(!outcomes.is_empty());
        let number = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<f64>().ok());
        for o in outcomes.iter().filter(|o| !o["limit"].is_null()) {
            assert_eq!(number(&o["from_cart"]), Some(0.0), "{o}");
            assert_eq!(number(&o["remaining"]), number(&o["limit"]), "{o}");
        }
        let checkout = app
            .post_with_headers("/api/v1/checkout", empty, &[("Idempotency-Key", "empty-1")])
            .await;
        assert_eq!((checkout.status, checkout.error_code()), (422, "empty_cart"));
    }
);
