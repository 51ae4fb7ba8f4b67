//! The managers' customer list: filters, an honest count, paging, and the same filters on the CSV export.

use canopy_testkit::{TestApp, both_engines};
use serde_json::json;

/// A date `days` from today (UTC; the test server's zone), as YYYY-MM-DD.
fn in_days(days: i64) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    today
        .checked_add(jiff::Span::new().days(days))
        .expect("date")
        .to_string()
}

async fn customer(app: &TestApp, first: &str, body: serde_json::Value) -> String {
    let mut body = body;
    body["first_name"] = json!(first);
    body["last_name"] = json!("Lister");
    let res = app.post("/api/v1/customers", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().expect("id").to_string()
}

fn names(body: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["first_name"].as_str().expect("name").to_string())
        .collect();
    out.sort();
    out
}

both_engines!(
    async fn filters_narrow_the_list_count_what_they_select_and_page_through_it(app) {
        let soon = in_days(10);
        let later = in_days(400);
        let ada = customer(&app, "Ada", json!({"customer_type": "medical", "created_channel": "online",
            "id_document": {"number": "A1", "jurisdiction": "CO", "expiry": soon}})).await;
        let ben = customer(&app, "Ben", json!({"id_document": {"number": "B1", "jurisdiction": "CO", "expiry": later}})).await;
        customer(&app, "Cy", json!({"customer_type": "medical"})).await;
        let res = app.post(&format!("/api/v1/customers/{ben}/ban"), json!({"reason": "Fake ID"})).await;
        assert!(res.status < 300, "{:?}", res.body);
        let vip = app.post("/api/v1/groups", json!({"name": "VIP"})).await.body["id"].as_str().expect("group").to_string();
        let res = app.post(&format!("/api/v1/groups/{vip}/members"), json!({"customer_id": ada})).await;
        assert_eq!(res.status, 204);

        let all = app.get("/api/v1/customers").await;
        assert_eq!((all.body["total"].as_i64(), names(&all.body).len()), (Some(3), 3));
        let medical = app.get("/api/v1/customers?customer_type=medical").await;
        assert_eq!((medical.body["total"].as_i64(), names(&medical.body)), (Some(2), vec!["Ada".to_string(), "Cy".to_string()]));
        let banned = app.get("/api/v1/customers?banned=true").await;
        assert_eq!(names(&banned.body), vec!["Ben"]);
        let not_banned = app.get("/api/v1/customers?banned=false").await;
        assert_eq!(not_banned.body["total"], 2);
        let expiring = app.get("/api/v1/customers?id_expiring_within_days=30").await;
        assert_eq!(names(&expiring.body), vec!["Ada"]);
        let in_group = app.get(&format!("/api/v1/customers?group={vip}")).await;
        assert_eq!(names(&in_group.body), vec!["Ada"]);
        let online = app.get("/api/v1/customers?created_channel=online&customer_type=medical").await;
        assert_eq!(names(&online.body), vec!["Ada"]);

        // Paging keeps the count of the whole selection.
        let first = app.get("/api/v1/customers?limit=2").await;
        assert_eq!((first.body["total"].as_i64(), names(&first.body).len()), (Some(3), 2));
        let cursor = first.body["next_cursor"].as_str().expect("cursor");
        let second = app.get(&format!("/api/v1/customers?limit=2&cursor={cursor}")).await;
        assert_eq!((second.body["total"].as_i64(), names(&second.body).len()), (Some(3), 1));

        let bad = app.get("/api/v1/customers?customer_type=robot").await;
        assert_eq!((bad.status, bad.body["error"]["field"].as_str()), (400, Some("customer_type")));
    }
);

both_engines!(
    async fn lapsed_buyers_are_those_whose_last_live_order_is_before_the_date(app) {
        let store = app.post("/api/v1/stores", json!({"name": "Denver", "licence_type": "adult_use", "jurisdiction": "US-CO"})).await;
        let store = store.body["id"].as_str().expect("store").to_string();
        let buyer = customer(&app, "Bea", json!({"date_of_birth": "1990-01-01",
            "id_document": {"number": "Z9", "jurisdiction": "CO", "expiry": in_days(900)}})).await;
        customer(&app, "Never", json!({})).await;
        let res = app.post_with_headers("/api/v1/checkout",
            json!({"customer_id": buyer, "store_id": store,
                "lines": [{"name": "Gummies", "category": "edible", "unit_price_cents": 1500, "thc_mg": "10"}]}),
            &[("Idempotency-Key", "lapsed-1")]).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        // Bought today: not lapsed before today, lapsed before tomorrow; never-buyers are not "lapsed".
        let today = app.get(&format!("/api/v1/customers?last_purchase_before={}", in_days(0))).await;
        assert_eq!(today.body["total"], 0);
        let tomorrow = app.get(&format!("/api/v1/customers?last_purchase_before={}", in_days(2))).await;
        assert_eq!(names(&tomorrow.body), vec!["Bea"]);
    }
);

both_engines!(
    async fn the_csv_export_takes_the_same_filters(app) {
        customer(&app, "Ada", json!({"customer_type": "medical"})).await;
        customer(&app, "Ben", json!({})).await;
        let res = app.get_raw("/api/v1/exports/customers?customer_type=medical").await;
        assert_eq!(res.status(), 200);
        let text = res.text().await.expect("body");
        assert!(text.contains("Ada"), "{text}");
        assert!(!text.contains("Ben"), "{text}");
    }
);

both_engines!(
    async fn the_group_list_names_every_discount_type_and_category_an_editor_can_offer(app) {
        let res = app.get("/api/v1/groups").await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["discount_types"], json!(["percent", "amount"]));
        let categories = res.body["categories"].as_array().expect("categories");
        assert!(categories.contains(&json!("pre_roll")), "{categories:?}");
    }
);
