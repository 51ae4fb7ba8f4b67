//! Duplicates and merges over HTTP on both engines: the intake warning, merging everything into the
//! survivor, undoing exactly that, and the cases that must not go wrong (a checkout racing the merge, a
//! banned profile, a chain of merges, points already spent).

use canopy_testkit::{Response, TestApp, both_engines};
use serde_json::{Value, json};

struct Shop {
    store: String,
}

/// A Colorado store selling $35 eighths.
async fn shop(app: &TestApp) -> Shop {
    let res = app
        .post(
            "/api/v1/stores",
            json!({"name": "Denver", "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let store = res.body["id"].as_str().unwrap().to_string();
    let res = app
        .post(
            "/api/v1/products",
            json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g", "category": "flower", "net_weight_g": "3.5", "price_cents": 3500}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    Shop { store }
}

/// Creates a customer, confirming "different person" when intake suspects a duplicate.
async fn customer(app: &TestApp, body: Value) -> String {
    let res = app
        .post("/api/v1/customers?different_person=true", body)
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

fn person(first: &str, phone: &str, id_number: &str) -> Value {
    json!({"first_name": first, "last_name": "Miller", "phone": phone, "date_of_birth": "1990-03-02",
        "id_document": {"kind": "drivers_license", "number": id_number, "jurisdiction": "CO", "expiry": "2099-01-01"}})
}

async fn checkout(app: &TestApp, shop: &Shop, customer: &str, key: &str, redeem: i64) -> Response {
    app.post_with_headers(
        "/api/v1/checkout",
        json!({"customer_id": customer, "store_id": shop.store, "lines": [{"sku": "FLW-35", "quantity": 1}],
            "loyalty_redeem_points": redeem}),
        &[("Idempotency-Key", key)],
    )
    .await
}

async fn adjust(app: &TestApp, customer: &str, points: i64) {
    let res = app
        .post(
            &format!("/api/v1/customers/{customer}/loyalty/adjustments"),
            json!({"points": points, "reason": "points from the old POS"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
}

async fn merge(app: &TestApp, survivor: &str, merged: &str, fields: Value) -> Response {
    app.post(
        "/api/v1/merges",
        json!({"survivor_id": survivor, "merged_id": merged, "fields": fields}),
    )
    .await
}

async fn undo(app: &TestApp, merge_id: &str) -> Response {
    app.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({}))
        .await
}

/// Everything a profile is, as the API shows it, minus what any write changes (`updated_at`).
struct Snapshot {
    profile: Value,
    balance: Value,
    orders: Vec<String>,
    notes: Vec<String>,
    groups: Vec<String>,
    remaining_flower: Vec<Value>,
}

async fn snapshot(app: &TestApp, shop: &Shop, id: &str) -> Snapshot {
    let mut profile = app.get(&format!("/api/v1/customers/{id}")).await.body;
    assert!(profile["id"].is_string(), "{profile}");
    let groups = profile["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    // Points are compared as the ledger's balance below (the survivor keeps what it earned after a merge).
    for volatile in ["updated_at", "stats", "groups", "loyalty_points"] {
        profile.as_object_mut().unwrap().remove(volatile);
    }
    let mut balance = app
        .get(&format!("/api/v1/customers/{id}/loyalty"))
        .await
        .body;
    balance
        .as_object_mut()
        .unwrap()
        .remove("available_value_cents");
    let orders = app
        .get(&format!("/api/v1/customers/{id}/orders"))
        .await
        .body;
    let mut orders: Vec<String> = orders["items"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    orders.sort();
    let notes = app.get(&format!("/api/v1/customers/{id}/notes")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap().to_string())
        .collect();
    let quote = app
        .post(
            "/api/v1/checkout/quote",
            json!({"customer_id": id, "store_id": shop.store, "lines": []}),
        )
        .await;
    let remaining_flower = quote.body["limits"]["outcomes"]
        .as_array()
        .map(|o| o.iter().map(|x| x["remaining"].clone()).collect())
        .unwrap_or_default();
    Snapshot {
        profile,
        balance,
        orders,
        notes,
        groups,
        remaining_flower,
    }
}

async fn assert_ledger_consistent(app: &TestApp) {
    let report = app.store.verify_loyalty().await.unwrap();
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

both_engines!(
    async fn intake_warns_of_a_likely_duplicate_and_remembers_a_different_person(app) {
        let jon = customer(&app, json!({"first_name": "Jon", "last_name": "Smith", "phone": "3035550101",
            "date_of_birth": "1988-04-02"})).await;
        let jonathan = json!({"first_name": "Jonathan", "last_name": "Smith", "phone": "3035550199",
            "date_of_birth": "1988-04-02"});

        let warned = app.post("/api/v1/customers", jonathan.clone()).await;

        assert_eq!((warned.status, warned.error_code()), (409, "likely_duplicate"), "{:?}", warned.body);
        let candidates = warned.body["error"]["candidates"].as_array().unwrap();
        assert_eq!(candidates.len(), 1);
        assert_eq!(candidates[0]["customer"]["id"], json!(jon));
        assert_eq!(candidates[0]["level"], "likely");
        assert_eq!(
            candidates[0]["explanation"],
            "same date of birth, nickname of the same name, different phones"
        );
        let count = app.store.count_customers().await.unwrap();
        assert_eq!(count, 1, "a warning writes nothing");

        let created = app.post("/api/v1/customers?different_person=true", jonathan).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        let id = created.body["id"].as_str().unwrap();
        let duplicates = app.get(&format!("/api/v1/customers/{id}/duplicates")).await;
        assert_eq!(duplicates.status, 200);
        assert_eq!(duplicates.body["items"], json!([]), "the confirmed pair is not offered again");

        let exact = app.post("/api/v1/customers?different_person=true",
            json!({"first_name": "Someone", "last_name": "Else", "phone": "3035550101"})).await;
        assert_eq!((exact.status, exact.error_code()), (409, "duplicate_customer"), "the exact duplicate stays refused");
    }
);

both_engines!(
    async fn a_merge_moves_everything_and_undo_restores_both_profiles_exactly(app) {
        let shop = shop(&app).await;
        let sarah = customer(&app, person("Sarah", "3035550142", "CO111")).await;
        let sara = customer(&app, person("Sara", "3035550177", "CO222")).await;
        adjust(&app, &sara, 200).await;
        adjust(&app, &sarah, 50).await;
        assert_eq!(checkout(&app, &shop, &sara, "sara-1", 0).await.status, 201);
        assert_eq!(checkout(&app, &shop, &sarah, "sarah-1", 0).await.status, 201);
        app.post(&format!("/api/v1/customers/{sara}/notes"), json!({"body": "prefers edibles"})).await;
        let group = app.post("/api/v1/groups", json!({"name": "Veterans"})).await.body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/groups/{group}/members"), json!({"customer_id": sara})).await;
        let consent = app.post(&format!("/api/v1/customers/{sara}/consent"),
            json!({"channel": "sms", "purpose": "transactional", "status": "revoked", "source": "pos"})).await;
        assert_eq!(consent.status, 201, "{:?}", consent.body);
        let sarah_before = snapshot(&app, &shop, &sarah).await;
        let sara_before = snapshot(&app, &shop, &sara).await;

        let merged = merge(&app, &sarah, &sara, json!({"phone": "merged"})).await;

        assert_eq!(merged.status, 201, "{:?}", merged.body);
        let merge_id = merged.body["id"].as_str().unwrap().to_string();
        assert_eq!(merged.body["counts"]["orders"], 1);
        assert_eq!(merged.body["counts"]["notes"], 1);
        assert_eq!(merged.body["counts"]["groups"], 1);
        assert_eq!(merged.body["counts"]["consent"], 1);
        let survivor = snapshot(&app, &shop, &sarah).await;
        assert_eq!(survivor.profile["phone"], "+13035550177", "the chosen phone");
        assert_eq!(survivor.orders.len(), 2, "orders follow, so limits count both");
        assert_eq!(survivor.notes, vec!["prefers edibles".to_string()]);
        assert_eq!(survivor.groups, vec!["Veterans".to_string()]);
        assert_eq!(
            survivor.balance["balance"].as_i64().unwrap(),
            sarah_before.balance["balance"].as_i64().unwrap() + sara_before.balance["balance"].as_i64().unwrap()
        );
        assert_ne!(survivor.remaining_flower, sarah_before.remaining_flower, "the merged purchase counts toward limits");
        let consent = app.get(&format!("/api/v1/customers/{sarah}/consent")).await.body;
        let transactional = consent["current"].as_array().unwrap().iter()
            .find(|c| c["channel"] == "sms" && c["purpose"] == "transactional").unwrap().clone();
        assert_eq!(transactional["allowed"], false, "the most restrictive consent wins");
        let history = app.get(&format!("/api/v1/customers/{sarah}/loyalty/history")).await.body;
        let reasons: Vec<&str> = history["items"].as_array().unwrap().iter().filter_map(|e| e["reason"].as_str()).collect();
        assert!(reasons.iter().any(|r| r.starts_with("Moved from merge ")), "{reasons:?}");
        let gone = app.get(&format!("/api/v1/customers/{sara}")).await;
        assert_eq!(gone.status, 200);
        assert_eq!(gone.body["merged_into"], json!(sarah));
        let search = app.get("/api/v1/customers?q=Sara%20Miller").await.body;
        let found: Vec<&str> = search["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert!(!found.contains(&sara.as_str()), "search never returns a merged-away profile: {found:?}");
        assert!(found.contains(&sarah.as_str()));
        assert_ledger_consistent(&app).await;
        let read = app.get(&format!("/api/v1/merges/{merge_id}")).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.body["moved"]["orders"].as_array().unwrap().len(), 1);
        let audit = app.get(&format!("/api/v1/audit?entity=customer&entity_id={sarah}&action=customer.merge")).await;
        assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{:?}", audit.body);

        // The survivor keeps buying; a checkout naming the merged-away id lands on the survivor.
        let after = checkout(&app, &shop, &sara, "after-merge", 0).await;
        assert_eq!(after.status, 201, "{:?}", after.body);
        let new_order = after.body["order"]["id"].as_str().or(after.body["id"].as_str()).unwrap().to_string();
        let earned = after.body["loyalty"]["earned_points"].as_i64().unwrap();

        let undone = undo(&app, &merge_id).await;

        assert_eq!(undone.status, 200, "{:?}", undone.body);
        assert!(undone.body["undone_at"].is_string());
        let sarah_after = snapshot(&app, &shop, &sarah).await;
        let sara_after = snapshot(&app, &shop, &sara).await;
        assert_eq!(sara_after.profile, sara_before.profile);
        assert_eq!(sara_after.balance, sara_before.balance);
        assert_eq!(sara_after.orders, sara_before.orders);
        assert_eq!(sara_after.notes, sara_before.notes);
        assert_eq!(sara_after.groups, sara_before.groups);
        assert_eq!(sara_after.remaining_flower, sara_before.remaining_flower);
        assert_eq!(sarah_after.profile, sarah_before.profile);
        let mut expected_orders = sarah_before.orders.clone();
        expected_orders.push(new_order);
        expected_orders.sort();
        assert_eq!(sarah_after.orders, expected_orders, "the survivor's new order stays");
        assert_eq!(
            sarah_after.balance["balance"].as_i64().unwrap(),
            sarah_before.balance["balance"].as_i64().unwrap() + earned
        );
        assert!(sarah_after.notes.is_empty() && sarah_after.groups.is_empty());
        let consent = app.get(&format!("/api/v1/customers/{sarah}/consent")).await.body;
        let transactional = consent["current"].as_array().unwrap().iter()
            .find(|c| c["channel"] == "sms" && c["purpose"] == "transactional").unwrap().clone();
        assert_eq!(transactional["allowed"], true);
        assert_ledger_consistent(&app).await;
        let again = undo(&app, &merge_id).await;
        assert_eq!((again.status, again.error_code()), (409, "already_undone"));
    }
);

both_engines!(
    async fn a_ban_on_the_merged_profile_survives_the_merge_and_returns_with_undo(app) {
        let sarah = customer(&app, person("Sarah", "3035550142", "CO111")).await;
        let sara = customer(&app, person("Sara", "3035550177", "CO222")).await;
        let ban = app.post(&format!("/api/v1/customers/{sara}/ban"), json!({"reason": "resold product"})).await;
        assert_eq!(ban.status, 200, "{:?}", ban.body);

        let merged = merge(&app, &sarah, &sara, json!({})).await;

        assert_eq!(merged.status, 201, "{:?}", merged.body);
        let survivor = app.get(&format!("/api/v1/customers/{sarah}")).await.body;
        assert_eq!(survivor["banned"], true);
        assert_eq!(survivor["ban"]["reason"], "resold product");
        let undone = undo(&app, merged.body["id"].as_str().unwrap()).await;
        assert_eq!(undone.status, 200, "{:?}", undone.body);
        assert_eq!(app.get(&format!("/api/v1/customers/{sarah}")).await.body["banned"], false);
        assert_eq!(app.get(&format!("/api/v1/customers/{sara}")).await.body["banned"], true);
    }
);

both_engines!(
    async fn in_a_chain_of_merges_undoing_the_first_moves_back_only_its_own(app) {
        let shop = shop(&app).await;
        let a = customer(&app, person("Sarah", "3035550142", "CO111")).await;
        let b = customer(&app, person("Sara", "3035550177", "CO222")).await;
        let c = customer(&app, person("Sarrah", "3035550188", "CO333")).await;
        assert_eq!(checkout(&app, &shop, &b, "b-1", 0).await.status, 201);
        assert_eq!(checkout(&app, &shop, &c, "c-1", 0).await.status, 201);
        adjust(&app, &b, 100).await;
        adjust(&app, &c, 30).await;
        let b_before = snapshot(&app, &shop, &b).await;
        let c_before = snapshot(&app, &shop, &c).await;
        let first = merge(&app, &a, &b, json!({"phone": "merged"})).await;
        assert_eq!(first.status, 201, "{:?}", first.body);
        let second = merge(&app, &a, &c, json!({"phone": "merged"})).await;
        assert_eq!(second.status, 201, "{:?}", second.body);

        let undone = undo(&app, first.body["id"].as_str().unwrap()).await;

        assert_eq!(undone.status, 200, "{:?}", undone.body);
        let b_after = snapshot(&app, &shop, &b).await;
        assert_eq!(b_after.profile, b_before.profile);
        assert_eq!(b_after.orders, b_before.orders);
        assert_eq!(b_after.balance, b_before.balance);
        let a_now = snapshot(&app, &shop, &a).await;
        assert_eq!(a_now.orders, c_before.orders, "C's order stays with the survivor");
        assert_eq!(a_now.profile["phone"], "+13035550188", "the later merge's choice stands");
        assert_eq!(app.get(&format!("/api/v1/customers/{c}")).await.body["merged_into"], json!(a));
        assert_ledger_consistent(&app).await;
        let undone = undo(&app, second.body["id"].as_str().unwrap()).await;
        assert_eq!(undone.status, 200, "{:?}", undone.body);
        assert_eq!(snapshot(&app, &shop, &c).await.balance, c_before.balance);
        let a_last = app.get(&format!("/api/v1/customers/{a}")).await.body;
        assert_eq!(a_last["phone"], "+13035550142", "both undone: the survivor's own phone again");
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn undo_is_refused_with_the_reason_when_merged_points_were_already_redeemed(app) {
        let shop = shop(&app).await;
        let a = customer(&app, person("Sarah", "3035550142", "CO111")).await;
        let b = customer(&app, person("Sara", "3035550177", "CO222")).await;
        adjust(&app, &b, 300).await;
        let merged = merge(&app, &a, &b, json!({})).await;
        assert_eq!(merged.status, 201, "{:?}", merged.body);
        let spent = checkout(&app, &shop, &a, "spend", 300).await;
        assert_eq!(spent.status, 201, "{:?}", spent.body);
        let before = snapshot(&app, &shop, &a).await;

        let refused = undo(&app, merged.body["id"].as_str().unwrap()).await;

        assert_eq!((refused.status, refused.error_code()), (409, "points_spent"), "{:?}", refused.body);
        assert!(refused.body["error"]["message"].as_str().unwrap().contains("already redeemed"));
        let after = snapshot(&app, &shop, &a).await;
        assert_eq!(after.balance, before.balance, "a refused undo writes nothing");
        assert_eq!(app.get(&format!("/api/v1/customers/{b}")).await.body["merged_into"], json!(a));
        assert_ledger_consistent(&app).await;
    }
);

both_engines!(
    async fn a_checkout_racing_a_merge_never_leaves_an_order_on_the_merged_profile(app) {
        let shop = shop(&app).await;
        let a = customer(&app, person("Sarah", "3035550142", "CO111")).await;
        let b = customer(&app, person("Sara", "3035550177", "CO222")).await;
        for round in 0..4 {
            let key = format!("race-{round}");
            let (sale, merged) = tokio::join!(
                checkout(&app, &shop, &b, &key, 0),
                merge(&app, &a, &b, json!({}))
            );
            assert_eq!(merged.status, 201, "{:?}", merged.body);
            assert!(
                sale.status == 201 || (sale.status == 409 && sale.error_code() == "customer_merged"),
                "{:?}",
                sale.body
            );
            let on_b = snapshot(&app, &shop, &b).await.orders;
            assert!(on_b.is_empty(), "round {round}: {on_b:?}");
            assert_eq!(undo(&app, merged.body["id"].as_str().unwrap()).await.status, 200);
        }
        assert_ledger_consistent(&app).await;
    }
);

/// A customer written straight to the store, as an import or the online store did before intake checks.
async fn unchecked(app: &TestApp, body: Value) -> String {
    let patch: canopy_domain::CustomerPatch = serde_json::from_value(body).unwrap();
    let today = jiff::civil::date(2026, 6, 1);
    let draft = patch.validate(canopy_domain::Region::US, today).unwrap();
    let actor = canopy_domain::Actor::system("online-store");
    let created = app
        .store
        .create_customer(draft, &actor, jiff::Timestamp::now())
        .await
        .unwrap();
    created.id.to_string()
}

both_engines!(
    async fn the_review_list_pages_by_score_and_forgets_dismissed_pairs(app) {
        let jon = unchecked(&app, json!({"first_name": "Jon", "last_name": "Smith", "date_of_birth": "1988-04-02"})).await;
        let jonathan = unchecked(&app, json!({"first_name": "Jonathan", "last_name": "Smith", "date_of_birth": "1988-04-02"})).await;
        unchecked(&app, json!({"first_name": "Maria", "last_name": "Gonzalez", "date_of_birth": "1990-01-15",
            "email": "maria@example.com"})).await;
        unchecked(&app, json!({"first_name": "Maria", "last_name": "Gonzales", "date_of_birth": "1990-01-15"})).await;
        unchecked(&app, json!({"first_name": "Otto", "last_name": "Berg", "date_of_birth": "1950-06-06"})).await;
        let actor = canopy_domain::Actor::system("duplicates-scan");
        let scan = app.store.scan_duplicates(100, &actor, jiff::Timestamp::now()).await.unwrap();
        assert_eq!((scan.customers, scan.pairs_found), (5, 2), "{scan:?}");

        let first = app.get("/api/v1/duplicates?limit=1").await;

        assert_eq!(first.status, 200, "{:?}", first.body);
        assert_eq!(first.body["items"].as_array().unwrap().len(), 1);
        let cursor = first.body["next_cursor"].as_str().expect("a second page").to_string();
        let second = app.get(&format!("/api/v1/duplicates?limit=1&cursor={cursor}")).await;
        assert_eq!(second.body["items"].as_array().unwrap().len(), 1, "{:?}", second.body);
        assert!(second.body["next_cursor"].is_null());
        assert!(first.body["items"][0]["score"].as_i64() >= second.body["items"][0]["score"].as_i64());
        let smiths = [first.body["items"][0].clone(), second.body["items"][0].clone()]
            .into_iter()
            .find(|p| p["a"]["last_name"] == "Smith")
            .unwrap();
        assert_eq!(smiths["explanation"], "same date of birth, nickname of the same name");

        let dismissed = app.post("/api/v1/duplicates/dismissals", json!({"customer_ids": [jon, jonathan]})).await;
        assert_eq!(dismissed.status, 204, "{:?}", dismissed.body);
        let list = app.get("/api/v1/duplicates").await.body;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert!(list["items"][0]["a"]["last_name"].as_str().unwrap().starts_with("Gonzal"));
        let rescan = app.store.scan_duplicates(100, &actor, jiff::Timestamp::now()).await.unwrap();
        assert_eq!((rescan.pairs_found, rescan.dismissed_skipped), (1, 1), "remembered across scans");
    }
);

both_engines!(
    async fn budtenders_cannot_merge(app) {
        let a = customer(&app, person("Sarah", "3035550142", "CO111")).await;
        let b = customer(&app, person("Sara", "3035550177", "CO222")).await;
        let budtender = app.as_role(canopy_domain::Role::Budtender).await;
        let res = budtender.post("/api/v1/merges", json!({"survivor_id": a, "merged_id": b})).await;
        assert_eq!((res.status, res.error_code()), (403, "forbidden"));
        let manager = app.as_role(canopy_domain::Role::Manager).await;
        let res = manager.post("/api/v1/merges", json!({"survivor_id": a, "merged_id": b})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
);

async fn import_csv(app: &TestApp, query: &str, csv: String) -> Response {
    app.post_raw(
        &format!("/api/v1/imports/customers{query}"),
        "text/csv",
        csv.into_bytes(),
    )
    .await
}

both_engines!(
    async fn an_import_or_a_sync_naming_a_merged_away_id_lands_on_the_survivor(app) {
        let sarah = customer(&app, person("Sarah", "3035550142", "CO111")).await;
        let sara = customer(&app, person("Sara", "3035550177", "CO222")).await;
        let merged = merge(&app, &sarah, &sara, json!({"phone": "survivor", "email": "survivor"})).await;
        assert_eq!(merged.status, 201, "{:?}", merged.body);

        // A re-import of an export taken before the merge: the row names the merged-away id and its
        // old phone, which the survivor did not keep.
        let csv = format!("id,first_name,last_name,phone,email\n{sara},Sara,Miller,3035550177,sara@example.com\n");
        let res = import_csv(&app, "", csv).await;

        assert_eq!(res.status, 200, "{:?}", res.body);
        let row = &res.body["rows"][0];
        assert_eq!((row["action"].as_str(), row["customer_id"].as_str()), (Some("update"), Some(sarah.as_str())), "{row}");
        assert_eq!(res.body["summary"]["created"], 0);
        assert_eq!(app.get(&format!("/api/v1/customers/{sarah}")).await.body["email"], "sara@example.com");

        // The online store still holds the merged-away id and syncs a change through the API.
        let synced = app.patch(&format!("/api/v1/customers/{sara}"), json!({"preferred_name": "Sadie"})).await;
        assert_eq!(synced.status, 200, "{:?}", synced.body);
        assert_eq!(synced.body["id"], sarah.as_str());
        assert_eq!(app.get(&format!("/api/v1/customers/{sarah}")).await.body["preferred_name"], "Sadie");
        let away = app.get(&format!("/api/v1/customers/{sara}")).await.body;
        assert_eq!((away["merged_into"].as_str(), away["preferred_name"].is_null()), (Some(sarah.as_str()), true));
        let note = app.post(&format!("/api/v1/customers/{sara}/notes"), json!({"body": "asked for delivery"})).await;
        assert_eq!(note.status, 201, "{:?}", note.body);
        let notes = app.get(&format!("/api/v1/customers/{sarah}/notes")).await.body;
        assert!(notes["items"].as_array().unwrap().iter().any(|n| n["body"] == "asked for delivery"), "{notes}");
    }
);

both_engines!(
    async fn an_import_refuses_a_likely_duplicate_unless_told_they_are_different_people(app) {
        let jon = customer(&app, json!({"first_name": "Jon", "last_name": "Smith", "date_of_birth": "1988-04-02",
            "phone": "3035550100"})).await;
        let csv = "First Name,Last Name,DOB,Cell\nJonathan,Smith,1988-04-02,303-555-0199\nOtto,Berg,1950-06-06,303-555-0111\n";

        let res = import_csv(&app, "", csv.to_string()).await;

        assert_eq!((res.status, res.error_code()), (422, "import_rejected"), "{:?}", res.body);
        let rows = &res.body["error"]["report"]["rows"];
        assert_eq!(rows[0]["code"], "likely_duplicate", "{rows}");
        let message = rows[0]["message"].as_str().unwrap();
        assert!(message.contains(&jon) && message.contains("nickname"), "{message}");
        assert_eq!(rows[1]["action"], "create");
        assert_eq!(app.get("/api/v1/customers?q=Berg").await.body["items"].as_array().unwrap().len(), 0,
            "nothing written");

        let res = import_csv(&app, "?different_people=true", csv.to_string()).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["summary"]["created"], 2);
        let jonathan = res.body["rows"][0]["customer_id"].as_str().unwrap().to_string();
        let dupes = app.get(&format!("/api/v1/customers/{jonathan}/duplicates")).await;
        assert_eq!(dupes.body["items"].as_array().unwrap().len(), 0, "recorded as different people: {:?}", dupes.body);
    }
);

both_engines!(
    async fn an_id_scan_with_no_profile_shows_likely_duplicates_with_their_reasons(app) {
        let bill = customer(&app, json!({"first_name": "Bill", "last_name": "Ortega", "date_of_birth": "1979-11-23",
            "phone": "3035550123"})).await;
        let card = "@\n\u{1e}\rANSI 636020080002DL00410230ZC02710010DLDAQ987-654-321\nDCSORTEGA\nDACWILLIAM\nDADANN\n\
             DBB11231979\nDBA01012099\nDBD01012022\nDBC1\nDAG9 ELM ST\nDAIDENVER\nDAJCO\nDAK802020000  \nDCGUSA\n\
             DDEN\nDDFN\nDDGN\rZCZCAX\r";

        let res = app.post("/api/v1/id-scans", json!({"payload": card})).await;

        assert_eq!(res.status, 200, "{:?}", res.body);
        assert!(res.body["customer"].is_null(), "{:?}", res.body);
        let likely = res.body["likely_duplicates"].as_array().unwrap();
        assert_eq!(likely.len(), 1, "{:?}", res.body);
        assert_eq!(likely[0]["customer"]["id"], bill.as_str());
        assert!(likely[0]["explanation"].as_str().unwrap().contains("nickname"), "{:?}", likely[0]);
    }
);
