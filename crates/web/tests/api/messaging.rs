//! Consent, inbound SMS keywords, SMS templates and webhook administration over HTTP.

use canopy_testkit::{TestApp, both_engines};
use canopy_web::Settings;
use serde_json::json;

const TOKEN: &str = "inbound-secret-123";

fn with_inbound_token() -> Settings {
    Settings {
        sms_inbound_token: Some(TOKEN.into()),
        ..Settings::default()
    }
}

async fn create_customer(app: &TestApp, phone: &str) -> String {
    let res = app
        .post(
            "/api/v1/customers",
            json!({"first_name": "Sarah", "last_name": "Miller", "phone": phone}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

fn current<'a>(body: &'a serde_json::Value, channel: &str, purpose: &str) -> &'a serde_json::Value {
    body["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["channel"] == channel && s["purpose"] == purpose)
        .unwrap()
}

async fn text_in(app: &TestApp, token: &str, from: &str, body: &str) -> u16 {
    app.client
        .post(app.url(&format!("/api/v1/sms/inbound?token={token}")))
        .form(&[("From", from), ("Body", body), ("MessageSid", "SM1")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

both_engines!(
    async fn marketing_is_not_opted_in_by_default_and_a_grant_is_recorded_with_its_evidence(app) {
        let id = create_customer(&app, "303-555-0142").await;
        let path = format!("/api/v1/customers/{id}/consent");

        let before = app.get(&path).await;
        assert_eq!(before.status, 200);
        assert_eq!(current(&before.body, "sms", "marketing")["allowed"], false);
        assert_eq!(current(&before.body, "email", "marketing")["allowed"], false);
        assert_eq!(current(&before.body, "sms", "transactional")["allowed"], true);

        let res = app
            .post(&path, json!({"channel": "sms", "purpose": "marketing", "status": "granted", "source": "pos",
                                "disclosure_version": "sms-2026-01", "evidence": "signed the tablet form"}))
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let sms_marketing = current(&res.body, "sms", "marketing");
        assert_eq!(sms_marketing["allowed"], true);
        assert_eq!(sms_marketing["latest"]["source"], "pos");
        assert_eq!(sms_marketing["latest"]["disclosure_version"], "sms-2026-01");
        assert_eq!(res.body["history"].as_array().unwrap().len(), 1);
    }
);

both_engines!(
    async fn a_marketing_grant_without_a_disclosure_version_or_with_a_bad_source_is_refused(app) {
        let id = create_customer(&app, "303-555-0142").await;
        let path = format!("/api/v1/customers/{id}/consent");
        for (body, field) in [
            (json!({"channel": "sms", "purpose": "marketing", "status": "granted", "source": "pos"}), "disclosure_version"),
            (json!({"channel": "fax", "purpose": "marketing", "status": "granted", "source": "pos"}), "channel"),
            (json!({"channel": "sms", "purpose": "marketing", "status": "revoked", "source": "sms_keyword"}), "source"),
        ] {
            let res = app.post(&path, body).await;
            assert_eq!(res.status, 422, "{:?}", res.body);
            assert_eq!(res.body["error"]["field"], field);
        }
        assert_eq!(app.get(&path).await.body["history"].as_array().unwrap().len(), 0);
    }
);

both_engines!(settings = with_inbound_token();
    async fn an_inbound_stop_revokes_marketing_and_transactional_sms_at_once(app) {
        let id = create_customer(&app, "(303) 555-0142").await;
        let path = format!("/api/v1/customers/{id}/consent");
        app.post(&path, json!({"channel": "sms", "purpose": "marketing", "status": "granted", "source": "online",
                               "disclosure_version": "web-3"})).await;

        assert_eq!(text_in(&app, TOKEN, "+13035550142", "Stop").await, 200);

        let after = app.get(&path).await;
        for purpose in ["marketing", "transactional"] {
            let state = current(&after.body, "sms", purpose);
            assert_eq!(state["allowed"], false, "{purpose}");
            assert_eq!(state["latest"]["source"], "sms_keyword");
            assert_eq!(state["latest"]["address"], "+13035550142");
        }
        assert_eq!(current(&after.body, "email", "marketing")["allowed"], false);

        assert_eq!(text_in(&app, TOKEN, "+13035550142", "START").await, 200);
        let restarted = app.get(&path).await;
        assert_eq!(current(&restarted.body, "sms", "transactional")["allowed"], true);
        assert_eq!(current(&restarted.body, "sms", "marketing")["allowed"], false);
    }
);

both_engines!(settings = with_inbound_token();
    async fn the_inbound_webhook_refuses_a_wrong_token_and_ignores_ordinary_replies(app) {
        let id = create_customer(&app, "303-555-0142").await;
        let path = format!("/api/v1/customers/{id}/consent");

        assert_eq!(text_in(&app, "wrong", "+13035550142", "STOP").await, 401);
        assert_eq!(text_in(&app, TOKEN, "+13035550142", "please don't stop the music").await, 200);
        assert_eq!(text_in(&app, TOKEN, "+13035550199", "STOP").await, 200, "unknown numbers are accepted and ignored");

        assert_eq!(app.get(&path).await.body["history"].as_array().unwrap().len(), 0);
    }
);

both_engines!(
    async fn inbound_sms_is_off_until_a_token_is_configured(app) {
        assert_eq!(text_in(&app, "", "+13035550142", "STOP").await, 404);
    }
);

both_engines!(
    async fn an_admin_edits_a_template_and_unknown_placeholders_are_refused(app) {
        let res = app.put("/api/v1/sms/templates/ready_for_pickup", json!({"body": "{first_name}, order {order} is ready at Main St."})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        let bad = app.put("/api/v1/sms/templates/ready_for_pickup", json!({"body": "Hi {name}"})).await;
        assert_eq!(bad.status, 422);
        let unknown = app.put("/api/v1/sms/templates/completed", json!({"body": "done"})).await;
        assert_eq!(unknown.status, 404);

        let list = app.get("/api/v1/sms/templates").await;
        let ready = list.body["items"].as_array().unwrap().iter().find(|t| t["status"] == "ready_for_pickup").unwrap();
        assert_eq!(ready["customised"], true);
        assert_eq!(ready["body"], "{first_name}, order {order} is ready at Main St.");

        let id = create_customer(&app, "303-555-0142").await;
        app.store.queue_order_status_sms("o-1", "A-77", id.parse().unwrap(), "ready_for_pickup", jiff::Timestamp::now()).await.unwrap();
        let messages = app.get("/api/v1/sms/messages").await;
        assert_eq!(messages.body["items"][0]["body"], "Sarah, order A-77 is ready at Main St.");
    }
);

both_engines!(
    async fn an_admin_registers_an_endpoint_sees_its_secret_once_and_its_deliveries(app) {
        let res = app
            .post("/api/v1/webhooks/endpoints", json!({"url": "https://crm.example.com/canopy", "events": ["customer.created", "consent.changed"]}))
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert!(res.body["secret"].as_str().unwrap().starts_with("whsec_"));
        let endpoint = res.body["id"].as_str().unwrap().to_string();

        let read = app.get(&format!("/api/v1/webhooks/endpoints/{endpoint}")).await;
        assert!(read.body.get("secret").is_none(), "the secret is shown only once");
        assert_eq!(read.body["events"], json!(["customer.created", "consent.changed"]));

        create_customer(&app, "303-555-0142").await;
        let deliveries = app.get(&format!("/api/v1/webhooks/deliveries?endpoint_id={endpoint}")).await;
        assert_eq!(deliveries.body["items"].as_array().unwrap().len(), 1);
        let delivery = deliveries.body["items"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(deliveries.body["items"][0]["event_type"], "customer.created");

        let replay = app.post(&format!("/api/v1/webhooks/deliveries/{delivery}/replay"), json!({})).await;
        assert_eq!(replay.status, 202);
        assert_eq!(replay.body["replay_of"], delivery.as_str());

        let paused = app.patch(&format!("/api/v1/webhooks/endpoints/{endpoint}"), json!({"active": false})).await;
        assert_eq!(paused.body["active"], false);
        create_customer(&app, "303-555-0199").await;
        let deliveries = app.get(&format!("/api/v1/webhooks/deliveries?endpoint_id={endpoint}")).await;
        assert_eq!(deliveries.body["items"].as_array().unwrap().len(), 2, "a paused endpoint gets nothing new");

        assert_eq!(app.delete(&format!("/api/v1/webhooks/endpoints/{endpoint}")).await.status, 204);
        assert_eq!(app.get(&format!("/api/v1/webhooks/endpoints/{endpoint}")).await.status, 404);
    }
);

both_engines!(
    async fn endpoints_with_bad_urls_or_unknown_events_are_refused(app) {
        for (body, field) in [
            (json!({"url": "ftp://x.example.com", "events": ["customer.created"]}), "url"),
            (json!({"url": "not a url", "events": ["customer.created"]}), "url"),
            (json!({"url": "https://x.example.com", "events": ["customer.deleted"]}), "events"),
            (json!({"url": "https://x.example.com", "events": []}), "events"),
        ] {
            let res = app.post("/api/v1/webhooks/endpoints", body).await;
            assert_eq!(res.status, 422, "{:?}", res.body);
            assert_eq!(res.body["error"]["field"], field);
        }
        assert_eq!(app.get("/api/v1/webhooks/endpoints").await.body["items"].as_array().unwrap().len(), 0);
    }
);

both_engines!(
    async fn pickup_order_status_changes_queue_one_text_each_and_announce_order_events(app) {
        let hook = app
            .post("/api/v1/webhooks/endpoints", json!({"url": "https://pos-partner.example.com/hook",
                "events": ["order.created", "order.status_changed", "checkin.created"]}))
            .await;
        let endpoint = hook.body["id"].as_str().unwrap().to_string();
        let store = app
            .post("/api/v1/stores", json!({"name": "Denver", "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"}))
            .await;
        let store = store.body["id"].as_str().unwrap().to_string();
        let product = app
            .post("/api/v1/products", json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g", "category": "flower", "net_weight_g": "3.5", "price_cents": 3500}))
            .await;
        assert_eq!(product.status, 201, "{:?}", product.body);
        let customer = app
            .post("/api/v1/customers", json!({"first_name": "Dana", "last_name": "Reyes", "phone": "3035550110", "date_of_birth": "1990-05-01",
                "id_document": {"kind": "drivers_license", "number": "CO123", "jurisdiction": "CO", "expiry": "2099-01-01"}}))
            .await;
        let customer = customer.body["id"].as_str().unwrap().to_string();

        let placed = app
            .post_with_headers("/api/v1/checkout", json!({"customer_id": customer, "store_id": store, "channel": "pickup",
                "lines": [{"sku": "FLW-35", "quantity": 1}]}), &[("Idempotency-Key", "sms-1")])
            .await;
        assert_eq!(placed.body["order"]["status"], "received", "{:?}", placed.body);
        let order = placed.body["order"]["id"].as_str().unwrap().to_string();
        let number = placed.body["order"]["number"].as_i64().unwrap();
        for status in ["ready_for_pickup", "completed"] {
            let res = app.post(&format!("/api/v1/orders/{order}/status"), json!({"status": status})).await;
            assert_eq!(res.status, 200, "{:?}", res.body);
        }
        let checkin = app.post(&format!("/api/v1/stores/{store}/checkins"), json!({"customer_id": customer})).await;
        assert!(checkin.status < 300, "{:?}", checkin.body);

        let texts = app.get(&format!("/api/v1/sms/messages?order_id={order}")).await;
        let mut statuses: Vec<&str> = texts.body["items"].as_array().unwrap().iter().map(|m| m["order_status"].as_str().unwrap()).collect();
        statuses.sort();
        assert_eq!(statuses, ["ready_for_pickup", "received"], "completed sends nothing");
        assert!(texts.body["items"].as_array().unwrap().iter().all(|m| m["to"] == "+13035550110"
            && m["body"].as_str().unwrap().contains(&number.to_string())));
        let deliveries = app.get(&format!("/api/v1/webhooks/deliveries?endpoint_id={endpoint}")).await;
        let mut types: Vec<&str> = deliveries.body["items"].as_array().unwrap().iter().map(|d| d["event_type"].as_str().unwrap()).collect();
        types.sort();
        assert_eq!(types, ["checkin.created", "order.created", "order.status_changed", "order.status_changed"]);
    }
);

async fn upload(app: &TestApp, query: &str, csv: &str) -> canopy_testkit::Response {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/imports/customers{query}")))
        .bearer_auth(app.token.as_deref().unwrap())
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    canopy_testkit::Response::from(res).await
}

both_engines!(
    async fn an_uploaded_csv_imports_once_and_a_bad_file_writes_nothing(app) {
        let csv = "First Name,Last Name,Cell,Email\nSarah,Miller,303-555-0142,sarah@example.com\nJames,Ng,720-555-0199,\n";

        let dry = upload(&app, "?dry_run=true", csv).await;
        assert_eq!(dry.status, 200, "{:?}", dry.body);
        assert_eq!(dry.body["summary"]["created"], 2);
        assert_eq!(app.get("/api/v1/customers").await.body["items"].as_array().unwrap().len(), 0);

        let first = upload(&app, "", csv).await;
        assert_eq!((first.status, &first.body["written"]), (200, &json!(true)), "{:?}", first.body);
        let again = upload(&app, "", csv).await;
        assert_eq!(again.body["summary"]["unchanged"], 2);
        assert_eq!(again.body["written"], false);

        let bad = upload(&app, "", "first,last,phone\nA,B,555\nC,D,303-555-0100\n").await;
        assert_eq!((bad.status, bad.error_code()), (422, "import_rejected"));
        assert_eq!(bad.body["error"]["report"]["rows"][0]["line"], 2);
        assert_eq!(bad.body["error"]["report"]["rows"][0]["column"], "phone");
        assert_eq!(app.get("/api/v1/customers").await.body["items"].as_array().unwrap().len(), 2);

        let export = app.client.get(app.url("/api/v1/exports/customers"))
            .bearer_auth(app.token.as_deref().unwrap()).send().await.unwrap();
        assert_eq!(export.status().as_u16(), 200);
        let text = export.text().await.unwrap();
        assert!(text.starts_with("id,first_name"), "{text}");
        assert!(text.contains("'+13035550142"));
    }
);

both_engines!(
    async fn an_uploaded_csv_brings_an_opening_balance_and_groups_once(app) {
        let csv = "first,last,phone,points,groups\nSarah,Miller,303-555-0142,1250,VIP;Veterans\n";

        let first = upload(&app, "", csv).await;
        let again = upload(&app, "", csv).await;

        assert_eq!(first.status, 200, "{:?}", first.body);
        assert_eq!(first.body["summary"]["opening_balances"], 1);
        assert_eq!(first.body["summary"]["groups_created"], 2);
        assert_eq!(first.body["new_groups"], json!(["VIP", "Veterans"]));
        assert_eq!(again.body["summary"]["unchanged"], 1, "{:?}", again.body);
        assert_eq!(again.body["summary"]["opening_balances"], 0);
        let id = first.body["rows"][0]["customer_id"].as_str().unwrap();
        let history = app.get(&format!("/api/v1/customers/{id}/loyalty/history")).await;
        let entries = history.body["items"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{:?}", history.body);
        assert_eq!(entries[0]["points"], 1250);
        assert_eq!(entries[0]["reason"], "Opening balance imported from an API upload");
        assert_eq!(app.get(&format!("/api/v1/customers/{id}/loyalty")).await.body["balance"], 1250);
        let groups = app.get("/api/v1/groups").await.body;
        let members: Vec<(&str, i64)> = groups["items"].as_array().unwrap().iter()
            .map(|g| (g["name"].as_str().unwrap(), g["member_count"].as_i64().unwrap()))
            .collect();
        assert_eq!(members, vec![("VIP", 1), ("Veterans", 1)]);
    }
);

both_engines!(
    async fn budtenders_cannot_import_or_export_customers(app) {
        let budtender = app.as_role(canopy_domain::Role::Budtender).await;
        assert_eq!(budtender.get("/api/v1/exports/customers").await.status, 403);
        let manager = app.as_role(canopy_domain::Role::Manager).await;
        let res = manager.client.get(app.url("/api/v1/exports/customers"))
            .bearer_auth(manager.token.as_deref().unwrap()).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
);
