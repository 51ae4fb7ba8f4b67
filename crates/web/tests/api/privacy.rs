//! Privacy: the right to know (export), the right to delete (erasure and its tombstone), and the
//! retention purge, on both engines.

use canopy_domain::{
    Actor, IdDocumentKind, PermissionSet, Role, VerificationMethod, VerifiedDocument,
};
use canopy_store::{AuditFilter, NewVerification, SealedImage};
use canopy_testkit::{Response, TestApp, both_engines};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// The erased person's values, each unusual enough that finding it anywhere means it leaked.
const FIRST: &str = "Quillon";
const LAST: &str = "Zabriskie";
const PHONE_DIGITS: &str = "3035550177";
const PHONE_E164: &str = "+13035550177";
const EMAIL: &str = "quillon.zabriskie@example.net";
const ID_NUMBER: &str = "ZQ7743921";
const STREET: &str = "4417 Larkspur Hollow Rd";
const DOB: &str = "1961-07-13";

fn profile() -> Value {
    json!({"first_name": FIRST, "last_name": LAST, "phone": PHONE_DIGITS, "email": EMAIL,
        "date_of_birth": DOB, "addresses": [{"line1": STREET, "city": "Denver", "region": "CO", "postal_code": "80202"}],
        "id_document": {"kind": "drivers_license", "number": ID_NUMBER, "jurisdiction": "CO", "expiry": "2099-01-01"}})
}

async fn create_customer(app: &TestApp, body: Value) -> String {
    let res = app.post("/api/v1/customers", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn create_store(app: &TestApp, jurisdiction: &str) -> String {
    let res = app
        .post(
            "/api/v1/stores",
            json!({"name": format!("Store {jurisdiction}"), "licensee": "Green Co",
            "licence_type": "adult_use", "jurisdiction": jurisdiction}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn create_product(app: &TestApp) {
    let res = app
        .post(
            "/api/v1/products",
            json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g", "category": "flower",
            "net_weight_g": "3.5", "price_cents": 3500}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
}

async fn checkout(
    app: &TestApp,
    key: &str,
    customer: &str,
    store: &str,
    channel: &str,
) -> Response {
    let res = app
        .post_with_headers(
            "/api/v1/checkout",
            json!({"customer_id": customer, "store_id": store,
            "channel": channel, "lines": [{"sku": "FLW-35", "quantity": 1}]}),
            &[("Idempotency-Key", key)],
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res
}

async fn audit_count(app: &TestApp, id: &str, action: &str) -> usize {
    app.store
        .audit_entries(&AuditFilter {
            entity_id: Some(id.to_string()),
            action: Some(action.to_string()),
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

/// Records a verification with an (opaque) sealed image, `age` ago, straight through the store.
async fn verify_at(app: &TestApp, customer: &str, number: &str, image: bool, age: SignedDuration) {
    let at = Timestamp::now() - age;
    app.store
        .record_verification(
            customer.parse().unwrap(),
            NewVerification {
                method: VerificationMethod::Manual,
                document: VerifiedDocument {
                    kind: IdDocumentKind::DriversLicense,
                    number: number.to_string(),
                    jurisdiction: Some("CO".into()),
                    expiry: Some("2099-01-01".parse().unwrap()),
                    date_of_birth: DOB.parse().unwrap(),
                },
                reason: Some("scanner down".into()),
            },
            image.then(|| SealedImage {
                content_type: "image/jpeg".into(),
                sealed: vec![7; 64],
            }),
            &Actor::system("test"),
            at,
        )
        .await
        .unwrap();
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

both_engines!(
    async fn export_covers_every_table_holding_a_customer_id(app) {
        let columns = app.store.schema_columns().await.unwrap();
        let mut holding: Vec<String> = columns
            .iter()
            .filter(|(_, c)| matches!(c.as_str(), "customer_id" | "patient_id" | "caregiver_id"))
            .map(|(t, _)| t.clone())
            .collect();
        holding.push("customers".into());
        holding.sort();
        holding.dedup();
        let covered = canopy_store::privacy::export_tables();
        let forgotten: Vec<&String> = holding.iter().filter(|t| !covered.contains(&t.as_str())).collect();
        assert!(forgotten.is_empty(), "tables holding a customer id missing from the privacy export: {forgotten:?}");

        let id = create_customer(&app, profile()).await;
        let res = app.get(&format!("/api/v1/customers/{id}/privacy-export?include_medical=true")).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        for table in covered {
            assert!(res.body["sections"][table].is_array(), "section {table}");
        }
    }
);

both_engines!(
    async fn a_privacy_export_holds_everything_in_one_document_and_is_logged(app) {
        let store = create_store(&app, "US-CO").await;
        create_product(&app).await;
        let id = create_customer(&app, profile()).await;
        app.post(&format!("/api/v1/customers/{id}/notes"), json!({"body": "likes citrus strains"})).await;
        let consent = app
            .post(&format!("/api/v1/customers/{id}/consent"), json!({"channel": "sms", "purpose": "marketing",
                "status": "granted", "source": "pos", "disclosure_version": "sms-2026-01", "evidence": "signed the tablet form"}))
            .await;
        assert_eq!(consent.status, 201, "{:?}", consent.body);
        let order = checkout(&app, "k1", &id, &store, "in_store").await;
        let card = app
            .post(&format!("/api/v1/customers/{id}/medical-card"), json!({"number": "MMJ-77", "issuing_state": "CO", "expiry": "2099-01-01"}))
            .await;
        assert_eq!(card.status, 200, "{:?}", card.body);

        let res = app.get(&format!("/api/v1/customers/{id}/privacy-export")).await;

        assert_eq!(res.status, 200, "{:?}", res.body);
        let s = &res.body["sections"];
        assert_eq!(s["customers"][0]["first_name"], FIRST);
        assert_eq!(s["customer_notes"][0]["body"], "likes citrus strains");
        assert_eq!(s["consent_entries"][0]["evidence"], "signed the tablet form");
        assert_eq!(s["orders"][0]["id"], order.body["order"]["id"]);
        assert_eq!(s["order_lines"][0]["sku"], "FLW-35");
        assert!(s["audit_log"].as_array().unwrap().iter().any(|a| a["action"] == "customer.create"));
        assert!(s.get("medical_cards").is_none(), "medical data only when asked for");
        assert_eq!(res.body["withheld"], json!(["medical_cards"]));
        assert_eq!(audit_count(&app, &id, "customer.privacy_export").await, 1);
        assert_eq!(audit_count(&app, &id, "customer.medical_read").await, 0);

        let with_medical = app.get(&format!("/api/v1/customers/{id}/privacy-export?include_medical=true")).await;
        assert_eq!(with_medical.body["sections"]["medical_cards"][0]["number"], "MMJ-77");
        assert_eq!(audit_count(&app, &id, "customer.medical_read").await, 1);
        let requests = &with_medical.body["sections"]["privacy_requests"];
        assert_eq!(requests.as_array().unwrap().len(), 1, "the earlier request is in the log");
        assert_eq!((requests[0]["kind"].as_str(), requests[0]["outcome"].as_str()), (Some("know"), Some("completed")));
    }
);

both_engines!(
    async fn export_and_erasure_need_their_own_permissions(app) {
        let id = create_customer(&app, profile()).await;
        let budtender = app.key_for_role(Role::Budtender).await;
        let manager = app.key_for_role(Role::Manager).await;
        let export = format!("/api/v1/customers/{id}/privacy-export");
        let erase = format!("/api/v1/customers/{id}/erasure");

        assert_eq!(budtender.get(&export).await.status, 403);
        assert_eq!(manager.get(&export).await.status, 200);
        let no_medical = app.key_with_scopes(PermissionSet::parse_scopes(["privacy:export"]).unwrap()).await;
        assert_eq!(no_medical.get(&format!("{export}?include_medical=true")).await.status, 403);
        assert_eq!(manager.post(&erase, json!({"reason": "asked by email"})).await.status, 403);
        let blank = app.post(&erase, json!({"reason": "  "})).await;
        assert_eq!((blank.status, blank.error_code()), (422, "required"));
        assert_eq!(app.get(&format!("/api/v1/customers/{id}")).await.body["first_name"], FIRST);
    }
);

both_engines!(
    async fn erasure_leaves_no_personal_data_in_any_text_column_and_keeps_the_sales_record(app) {
        let hook = app
            .post("/api/v1/webhooks/endpoints", json!({"url": "https://crm.example.com/hook",
                "events": ["customer.created", "customer.updated", "order.created", "consent.changed", "customer.erased"]}))
            .await;
        assert_eq!(hook.status, 201, "{:?}", hook.body);
        let store = create_store(&app, "US-CO").await;
        create_product(&app).await;
        let id = create_customer(&app, profile()).await;
        let other = create_customer(&app, json!({"first_name": "Dana", "last_name": "Reyes", "phone": "3035550101"})).await;
        app.patch(&format!("/api/v1/customers/{id}"), json!({"preferred_name": "Quill"})).await;
        app.post(&format!("/api/v1/customers/{id}/notes"), json!({"body": format!("{FIRST} {LAST} asked about {STREET}")})).await;
        app.post(&format!("/api/v1/customers/{id}/consent"), json!({"channel": "sms", "purpose": "marketing",
            "status": "granted", "source": "pos", "disclosure_version": "v1", "evidence": format!("texted YES from {PHONE_E164}")})).await;
        app.post(&format!("/api/v1/customers/{id}/medical-card"), json!({"number": "MMJ-5521", "issuing_state": "CO", "expiry": "2099-01-01"})).await;
        let group = app.post("/api/v1/groups", json!({"name": "Veterans"})).await;
        app.post(&format!("/api/v1/groups/{}/members", group.body["id"].as_str().unwrap()), json!({"customer_id": id})).await;
        verify_at(&app, &id, ID_NUMBER, true, days(1)).await;
        let order = checkout(&app, "sale-1", &id, &store, "in_store").await;
        let order_id = order.body["order"]["id"].as_str().unwrap().to_string();
        if order.body["order"]["status"] != "completed" {
            let done = app.post(&format!("/api/v1/orders/{order_id}/status"), json!({"status": "completed"})).await;
            assert_eq!(done.status, 200, "{:?}", done.body);
        }
        let total = order.body["order"]["total_cents"].clone();
        let stats_before = app.get(&format!("/api/v1/customers/{id}")).await.body["stats"].clone();
        assert_eq!(app.get(&format!("/api/v1/customers?q={LAST}")).await.body["items"].as_array().unwrap().len(), 1);

        let res = app.post(&format!("/api/v1/customers/{id}/erasure"), json!({"reason": "CCPA request by email 2026-12-01"})).await;

        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["orders_kept"], 1);
        assert_eq!(res.body["id_images_deleted"], 1);
        for value in [FIRST, LAST, "Quill", PHONE_DIGITS, PHONE_E164, EMAIL, ID_NUMBER, STREET, DOB, "MMJ-5521",
            &LAST.to_lowercase(), &PHONE_DIGITS.chars().rev().collect::<String>()] {
            let found = app.store.tables_containing_text(value).await.unwrap();
            assert!(found.is_empty(), "{value:?} is still in {found:?}");
        }
        for q in [LAST, PHONE_DIGITS, EMAIL, ID_NUMBER, "Zabriski"] {
            let hits = app.get(&format!("/api/v1/customers?q={q}")).await;
            assert_eq!(hits.body["items"].as_array().unwrap().len(), 0, "search {q}");
        }
        let kept = app.get(&format!("/api/v1/orders/{order_id}")).await;
        assert_eq!(kept.status, 200, "{:?}", kept.body);
        assert_eq!(kept.body["total_cents"], total);
        let stats_after = app.get(&format!("/api/v1/customers/{id}")).await.body["stats"].clone();
        assert_eq!(stats_after["order_count"], stats_before["order_count"]);
        assert_eq!(stats_after["lifetime_spend_cents"], stats_before["lifetime_spend_cents"]);
        assert_eq!(app.get(&format!("/api/v1/customers/{other}")).await.body["first_name"], "Dana");
        assert_eq!(audit_count(&app, &id, "customer.erase").await, 1);

        let export = app.get(&format!("/api/v1/customers/{id}/privacy-export?include_medical=true")).await;
        let text = export.body.to_string();
        assert!(!text.contains(LAST) && !text.contains(EMAIL) && !text.contains(ID_NUMBER), "{text}");
        let deliveries = app.get("/api/v1/webhooks/deliveries").await;
        let erased: Vec<&Value> = deliveries.body["items"].as_array().unwrap().iter()
            .filter(|d| d["event_type"] == "customer.erased").collect();
        assert_eq!(erased.len(), 1, "{:?}", deliveries.body);
        let retention = app.get(&format!("/api/v1/customers/{id}/retention")).await;
        assert!(retention.body["erased_at"].is_string(), "{:?}", retention.body);
        let again = app.post(&format!("/api/v1/customers/{id}/erasure"), json!({"reason": "twice"})).await;
        assert_eq!((again.status, again.error_code()), (409, "already_erased"));
    }
);

both_engines!(
    async fn erasure_is_refused_while_an_order_is_open_and_the_refusal_is_logged(app) {
        let store = create_store(&app, "US-CO").await;
        create_product(&app).await;
        let id = create_customer(&app, profile()).await;
        let order = checkout(&app, "pickup-1", &id, &store, "pickup").await;
        assert_ne!(order.body["order"]["status"], "completed");

        let res = app.post(&format!("/api/v1/customers/{id}/erasure"), json!({"reason": "asked at the counter"})).await;

        assert_eq!((res.status, res.error_code()), (409, "open_orders"), "{:?}", res.body);
        assert!(res.body["error"]["message"].as_str().unwrap().contains("open order"));
        assert_eq!(app.get(&format!("/api/v1/customers/{id}")).await.body["last_name"], LAST);
        let export = app.get(&format!("/api/v1/customers/{id}/privacy-export")).await;
        let log = &export.body["sections"]["privacy_requests"];
        assert_eq!((log[0]["kind"].as_str(), log[0]["outcome"].as_str(), log[0]["detail"].as_str()),
            (Some("delete"), Some("refused"), Some("open_orders")));
    }
);

both_engines!(
    async fn an_erased_person_is_not_recreated_by_import_or_sync_but_may_return_with_consent(app) {
        let id = create_customer(&app, profile()).await;
        let res = app.post(&format!("/api/v1/customers/{id}/erasure"), json!({"reason": "deletion request"})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);

        let sync = app.post("/api/v1/customers", json!({"first_name": "Q", "last_name": "Z", "email": EMAIL.to_uppercase()})).await;
        assert_eq!((sync.status, sync.error_code()), (409, "erased_customer"), "{:?}", sync.body);
        let csv = format!("First Name,Last Name,Cell\nSomeone,Else,303-555-0100\n{FIRST},{LAST},{PHONE_DIGITS}\n");
        let import = app
            .client
            .post(app.url("/api/v1/imports/customers"))
            .bearer_auth(app.token.as_deref().unwrap())
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        let import = Response::from(import).await;
        assert_eq!((import.status, import.error_code()), (409, "erased_customer"), "{:?}", import.body);
        assert_eq!(app.get("/api/v1/customers?q=Else").await.body["items"].as_array().unwrap().len(), 0,
            "a refused import writes nothing");
        let unrelated = app.post("/api/v1/customers", json!({"first_name": "Dana", "last_name": "Reyes", "phone": "3035550101"})).await;
        assert_eq!(unrelated.status, 201);

        let back = app.post("/api/v1/customers/returning", profile()).await;
        assert_eq!(back.status, 201, "{:?}", back.body);
        let new_id = back.body["id"].as_str().unwrap();
        assert_ne!(new_id, id);
        assert_eq!(audit_count(&app, new_id, "customer.recreate_after_erasure").await, 1);
    }
);

both_engines!(
    async fn a_purge_removes_exactly_what_the_default_policy_says_and_nothing_else(app) {
        let old_image = create_customer(&app, json!({"first_name": "Old", "last_name": "Image"})).await;
        let new_image = create_customer(&app, json!({"first_name": "New", "last_name": "Image"})).await;
        let old_scan = create_customer(&app, json!({"first_name": "Old", "last_name": "Scan"})).await;
        verify_at(&app, &old_image, "IMG-OLD-1", true, days(31)).await;
        verify_at(&app, &new_image, "IMG-NEW-1", true, days(29)).await;
        verify_at(&app, &old_scan, "SCAN-OLD-1", false, days(181)).await;
        let policy = app.store.privacy_policy().await.unwrap();
        assert_eq!(policy.jurisdiction, "default");

        let report = app.store.purge_expired(&policy, &Actor::system("retention"), Timestamp::now()).await.unwrap();

        assert_eq!((report.id_images, report.document_numbers), (1, 1));
        let state = |id: String| {
            let app = &app;
            async move { app.get(&format!("/api/v1/customers/{id}/retention")).await.body }
        };
        assert!(state(old_image.clone()).await["id_image_purge_at"].is_null());
        assert!(state(new_image.clone()).await["id_image_purge_at"].is_string());
        assert!(app.store.tables_containing_text("SCAN-OLD-1").await.unwrap().is_empty());
        assert!(!app.store.tables_containing_text("IMG-OLD-1").await.unwrap().is_empty(), "31 days < 180");
        let scanned = app.get(&format!("/api/v1/customers/{old_scan}")).await;
        assert!(scanned.body["id_document"].is_null(), "{:?}", scanned.body);
        assert_eq!(scanned.body["verification"]["document"]["date_of_birth"], DOB, "the age check's fields stay");
        let entries = app.store.audit_entries(&AuditFilter { action: Some("privacy.purge".into()), limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(entries.len(), 2);
        for e in &entries {
            assert!(e.changes["why"].as_str().unwrap().contains("days"));
            assert!(e.changes["citation"].is_string());
            assert!(!e.changes.to_string().contains("SCAN-OLD-1"), "never the data itself");
        }

        let again = app.store.purge_expired(&policy, &Actor::system("retention"), Timestamp::now()).await.unwrap();
        assert_eq!((again.id_images, again.document_numbers, again.requests), (0, 0, 0));
    }
);

both_engines!(
    async fn an_oregon_store_purges_document_numbers_and_images_at_once_and_california_keeps_numbers(app) {
        create_store(&app, "US-CA").await;
        let id = create_customer(&app, json!({"first_name": "Cal", "last_name": "Resident"})).await;
        verify_at(&app, &id, "CA-NUM-1", true, days(200)).await;
        let ca = app.store.privacy_policy().await.unwrap();
        let report = app.store.purge_expired(&ca, &Actor::system("retention"), Timestamp::now()).await.unwrap();
        assert_eq!((report.id_images, report.document_numbers), (1, 0), "Civ. §1798.90.1 allows the number");

        create_store(&app, "US-OR").await;
        verify_at(&app, &id, "CA-NUM-2", true, SignedDuration::from_secs(60)).await;
        let both = app.store.privacy_policy().await.unwrap();
        assert_eq!(both.jurisdiction, "US-CA+US-OR");
        let report = app.store.purge_expired(&both, &Actor::system("retention"), Timestamp::now()).await.unwrap();
        assert_eq!((report.id_images, report.document_numbers), (1, 2));
        assert!(app.store.tables_containing_text("CA-NUM-").await.unwrap().is_empty());
    }
);

both_engines!(
    async fn erasure_waits_while_the_person_may_have_a_second_profile_on_the_review_list(app) {
        let id = create_customer(&app, profile()).await;
        let twin = app.store.create_customer(
            serde_json::from_value::<canopy_domain::CustomerPatch>(json!({"first_name": FIRST, "last_name": LAST,
                "date_of_birth": DOB, "phone": "3035550199"})).unwrap()
                .validate(canopy_domain::Region::US, jiff::civil::date(2026, 6, 1)).unwrap(),
            &Actor::system("online-store"), Timestamp::now()).await.unwrap().id.to_string();
        let scan = app.store.scan_duplicates(200, &Actor::system("duplicates-scan"), Timestamp::now()).await.unwrap();
        assert_eq!(scan.pairs_found, 1, "{scan:?}");
        let erase = format!("/api/v1/customers/{id}/erasure");

        let res = app.post(&erase, json!({"reason": "deletion request"})).await;

        assert_eq!((res.status, res.error_code()), (409, "pending_merge"), "{:?}", res.body);
        let message = res.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&twin) && message.contains("merge or dismiss"), "{message}");
        assert_eq!(app.get(&format!("/api/v1/customers/{id}")).await.body["last_name"], LAST);
        let export = app.get(&format!("/api/v1/customers/{id}/privacy-export")).await;
        assert_eq!(export.body["sections"]["privacy_requests"][0]["detail"], "pending_merge");

        let dismissed = app.post("/api/v1/duplicates/dismissals", json!({"customer_ids": [id, twin]})).await;
        assert_eq!(dismissed.status, 204, "{:?}", dismissed.body);
        let res = app.post(&erase, json!({"reason": "deletion request"})).await;
        assert_eq!(res.status, 200, "a dismissed pair is no longer pending: {:?}", res.body);
    }
);

both_engines!(
    async fn a_merged_away_profile_is_erased_through_its_survivor(app) {
        let survivor = create_customer(&app, json!({"first_name": "Dana", "last_name": "Reyes", "phone": "3035550101"})).await;
        let merged = create_customer(&app, json!({"first_name": "Dane", "last_name": "Reyes", "phone": "3035550102"})).await;
        let res = app.post("/api/v1/merges", json!({"survivor_id": survivor, "merged_id": merged, "fields": {}})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);

        let res = app.post(&format!("/api/v1/customers/{merged}/erasure"), json!({"reason": "deletion request"})).await;

        assert_eq!((res.status, res.error_code()), (409, "merged_profile"), "{:?}", res.body);
        assert!(res.body["error"]["message"].as_str().unwrap().contains(&survivor), "{:?}", res.body);
    }
);

both_engines!(
    async fn erasing_a_survivor_erases_the_profiles_merged_into_it_and_their_merge_snapshots(app) {
        let survivor = create_customer(&app, json!({"first_name": "Dana", "last_name": "Reyes", "phone": "3035550101"})).await;
        let merged = create_customer(&app, json!({"first_name": "Morwenna", "last_name": "Quillfeather",
            "phone": "7205550177", "email": "morwenna.q@example.org"})).await;
        let merge = app.post("/api/v1/merges", json!({"survivor_id": survivor, "merged_id": merged, "fields": {}})).await;
        assert_eq!(merge.status, 201, "{:?}", merge.body);
        let merge_id = merge.body["id"].as_str().unwrap().to_string();

        let res = app.post(&format!("/api/v1/customers/{survivor}/erasure"), json!({"reason": "deletion request"})).await;

        assert_eq!(res.status, 200, "{:?}", res.body);
        for value in ["Morwenna", "Quillfeather", "7205550177", "morwenna.q@example.org", "Reyes", "3035550101"] {
            let found = app.store.tables_containing_text(value).await.unwrap();
            assert!(found.is_empty(), "{value:?} is still in {found:?}");
        }
        assert_eq!(app.get(&format!("/api/v1/merges/{merge_id}")).await.status, 200, "the merge record stays readable");
        let undo = app.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
        assert_eq!((undo.status, undo.error_code()), (409, "customer_erased"), "{:?}", undo.body);
        let again = app.post("/api/v1/customers", json!({"first_name": "Morwenna", "last_name": "Quillfeather",
            "email": "morwenna.q@example.org"})).await;
        assert_eq!((again.status, again.error_code()), (409, "erased_customer"), "the merged-away identity is in the tombstone too: {:?}", again.body);
    }
);
