use canopy_testkit::{TestApp, both_engines};
use serde_json::json;

async fn create_sarah(app: &TestApp) -> String {
    let res = app
        .post(
            "/api/v1/customers",
            json!({"first_name": "Sarah", "last_name": "Miller", "phone": "(303) 555-0142",
                   "email": "Sarah.Miller@Example.com", "date_of_birth": "1998-02-11",
                   "id_document": {"kind": "drivers_license", "number": "123-456-789", "jurisdiction": "CO", "expiry": "2030-01-01"}}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

both_engines!(
    async fn health_reports_the_engine(app) {
        let res = app.get("/healthz").await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["status"], "ok");
    }
);

both_engines!(
    async fn a_created_customer_reads_back_normalised(app) {
        let id = create_sarah(&app).await;
        let res = app.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["phone"], "+13035550142");
        assert_eq!(res.body["email"], "Sarah.Miller@Example.com");
        assert_eq!(res.body["display_name"], "Sarah M.");
        assert_eq!(res.body["banned"], false);
        assert_eq!(res.body["created_channel"], "back_office");
        assert!(res.body["age"].as_i64().unwrap() >= 28);
    }
);

both_engines!(
    async fn a_duplicate_phone_in_another_format_is_a_conflict_naming_the_customer(app) {
        let id = create_sarah(&app).await;
        let res = app.post("/api/v1/customers", json!({"first_name": "S", "last_name": "M", "phone": "+1 303.555.0142"})).await;
        assert_eq!(res.status, 409);
        assert_eq!(res.error_code(), "duplicate_customer");
        assert_eq!(res.body["error"]["field"], "phone");
        assert_eq!(res.body["error"]["existing_customer_id"], id.as_str());
    }
);

both_engines!(
    async fn duplicate_email_and_id_number_are_conflicts_whatever_their_case_or_dashes(app) {
        create_sarah(&app).await;
        let res = app.post("/api/v1/customers", json!({"first_name": "S", "last_name": "M", "email": "sarah.miller@EXAMPLE.com"})).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (409, Some("email")));
        let res = app
            .post("/api/v1/customers", json!({"first_name": "S", "last_name": "M",
                "id_document": {"number": "123456789", "jurisdiction": "co"}}))
            .await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (409, Some("id_document.number")));
    }
);

both_engines!(
    async fn invalid_input_names_the_field_and_writes_nothing(app) {
        for (body, field) in [
            (json!({"first_name": "A", "last_name": "B", "phone": "555"}), "phone"),
            (json!({"first_name": "A", "last_name": "B", "email": "nope"}), "email"),
            (json!({"first_name": "A"}), "last_name"),
            (json!({"first_name": "A", "last_name": "B", "date_of_birth": "2999-01-01"}), "date_of_birth"),
            (json!({"first_name": "A", "last_name": "B", "customer_type": "tourist"}), "customer_type"),
            (json!({"first_name": "A", "last_name": "B", "favourite": "x"}), "favourite"),
        ] {
            let res = app.post("/api/v1/customers", body).await;
            assert_eq!(res.status, 422, "{field}: {:?}", res.body);
            assert_eq!(res.body["error"]["field"], field);
        }
        let list = app.get("/api/v1/customers").await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
    }
);

both_engines!(
    async fn a_patch_changes_only_the_fields_sent_and_null_clears(app) {
        let id = create_sarah(&app).await;
        let res = app.patch(&format!("/api/v1/customers/{id}"), json!({"preferred_name": "Sadie", "email": null})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["preferred_name"], "Sadie");
        assert_eq!(res.body["email"], serde_json::Value::Null);
        assert_eq!(res.body["phone"], "+13035550142");
        assert_eq!(res.body["display_name"], "Sadie M.");
        let res = app.patch(&format!("/api/v1/customers/{id}"), json!({"last_name": null})).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("last_name")));
        let after = app.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(after.body["last_name"], "Miller");
    }
);

both_engines!(
    async fn listing_pages_through_every_customer_once(app) {
        for i in 0..5 {
            let res = app.post("/api/v1/customers", json!({"first_name": format!("P{i}"), "last_name": "Page"})).await;
            assert_eq!(res.status, 201);
        }
        let first = app.get("/api/v1/customers?limit=3").await;
        assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let second = app.get(&format!("/api/v1/customers?limit=3&cursor={cursor}")).await;
        assert_eq!(second.body["items"].as_array().unwrap().len(), 2);
        assert!(second.body["next_cursor"].is_null());
        let bad = app.get("/api/v1/customers?limit=0").await;
        assert_eq!((bad.status, bad.error_code()), (400, "invalid_limit"));
    }
);

both_engines!(
    async fn notes_are_kept_newest_first_with_their_author(app) {
        let id = create_sarah(&app).await;
        for body in ["Prefers indica", "Delivery: side door"] {
            let res = app.post(&format!("/api/v1/customers/{id}/notes"), json!({"body": body})).await;
            assert_eq!(res.status, 201);
        }
        let empty = app.post(&format!("/api/v1/customers/{id}/notes"), json!({"body": "  "})).await;
        assert_eq!((empty.status, empty.body["error"]["field"].as_str()), (422, Some("body")));
        let notes = app.get(&format!("/api/v1/customers/{id}/notes")).await;
        let items = notes.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["body"], "Delivery: side door");
        assert!(items[0]["author"].as_str().is_some_and(|a| !a.is_empty()));
    }
);

both_engines!(
    async fn a_banned_customer_is_flagged_and_still_found(app) {
        let id = create_sarah(&app).await;
        let res = app.post(&format!("/api/v1/customers/{id}/ban"), json!({"reason": "Attempted resale"})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["banned"], true);
        assert_eq!(res.body["ban"]["reason"], "Attempted resale");
        let found = app.get("/api/v1/customers?q=miller").await;
        assert_eq!(found.body["items"][0]["banned"], true);
        let res = app.delete(&format!("/api/v1/customers/{id}/ban")).await;
        assert_eq!((res.status, res.body["banned"].as_bool()), (200, Some(false)));
    }
);

both_engines!(
    async fn a_ban_needs_a_reason_and_an_end_in_the_future(app) {
        let id = create_sarah(&app).await;
        let res = app.post(&format!("/api/v1/customers/{id}/ban"), json!({"reason": ""})).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("reason")));
        let res = app.post(&format!("/api/v1/customers/{id}/ban"), json!({"reason": "x", "until": "2001-01-01T00:00:00Z"})).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("until")));
    }
);

both_engines!(
    async fn unknown_customers_are_404_in_the_api_error_shape(app) {
        for path in ["/api/v1/customers/not-a-uuid", "/api/v1/customers/01939c5e-0000-7000-8000-000000000000"] {
            let res = app.get(path).await;
            assert_eq!((res.status, res.error_code()), (404, "not_found"), "{path}");
        }
    }
);

both_engines!(
    async fn every_change_leaves_an_audit_row_with_old_and_new_values(app) {
        let id = create_sarah(&app).await;
        app.patch(&format!("/api/v1/customers/{id}"), json!({"first_name": "Sara"})).await;
        let entries = app
            .store
            .audit_entries(&canopy_store::AuditFilter { entity_id: Some(id.clone()), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(entries[0].action, "customer.update");
        assert_eq!(entries[0].changes["first_name"], json!({"old": "Sarah", "new": "Sara"}));
        assert_eq!(entries[1].action, "customer.create");
    }
);

both_engines!(
    async fn the_openapi_document_lists_the_customer_routes(app) {
        let res = app.get("/api/v1/openapi.json").await;
        assert_eq!(res.status, 200);
        assert!(res.body["paths"]["/api/v1/customers/{id}"]["patch"].is_object());
    }
);

both_engines!(
    async fn a_form_with_several_invalid_fields_hears_about_all_of_them_at_once(app) {
        let res = app
            .post("/api/v1/customers", json!({"first_name": "Jordan", "last_name": " ", "phone": "12",
                "email": "jordan-at-example", "date_of_birth": "2099-01-01"}))
            .await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        // The first error stays where single-error clients read it...
        assert_eq!((res.error_code(), res.body["error"]["field"].as_str()), ("required", Some("last_name")));
        // ...and `errors` lists every field at fault, each with its own code.
        let errors = res.body["error"]["errors"].as_array().expect("errors");
        let fields: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(fields.iter().map(|f| f.0).collect::<Vec<_>>(), ["last_name", "phone", "email", "date_of_birth"]);
        assert!(errors.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
        assert_eq!(app.get("/api/v1/customers?q=Jordan").await.body["items"], json!([]), "nothing created");

        // An edit is judged the same way.
        let id = create_sarah(&app).await;
        let res = app.patch(&format!("/api/v1/customers/{id}"), json!({"first_name": "", "email": "nope"})).await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        let fields: Vec<&str> = res.body["error"]["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["first_name", "email"]);
    }
);

both_engines!(
    async fn search_rows_carry_the_points_and_whether_an_id_image_is_on_file(app) {
        let sarah = create_sarah(&app).await;
        let res = app
            .post("/api/v1/customers", json!({"first_name": "Sam", "last_name": "Miller"}))
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let sam = res.body["id"].as_str().unwrap().to_string();
        let res = app
            .post(&format!("/api/v1/customers/{sarah}/loyalty/adjustments"), json!({"points": 120, "reason": "welcome"}))
            .await;
        assert!(res.status < 300, "{:?}", res.body);
        app.store
            .record_verification(
                sarah.parse().unwrap(),
                canopy_store::NewVerification {
                    method: canopy_domain::VerificationMethod::Manual,
                    document: canopy_domain::VerifiedDocument {
                        kind: canopy_domain::IdDocumentKind::DriversLicense,
                        number: "123-456-789".into(),
                        jurisdiction: Some("CO".into()),
                        expiry: Some("2030-01-01".parse().unwrap()),
                        date_of_birth: "1998-02-11".parse().unwrap(),
                    },
                    reason: Some("scanner down".into()),
                },
                Some(canopy_store::SealedImage { content_type: "image/jpeg".into(), sealed: vec![7; 64] }),
                &canopy_domain::Actor::system("test"),
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();

        // One search answers what each lookup row shows: no request per row for points.
        let res = app.get("/api/v1/customers?q=Miller").await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        let row = |id: &str| res.body["items"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().expect("row");
        assert_eq!((row(&sarah)["loyalty_points"].as_i64(), row(&sarah)["has_id_image"].as_bool()), (Some(120), Some(true)));
        assert_eq!((row(&sam)["loyalty_points"].as_i64(), row(&sam)["has_id_image"].as_bool()), (Some(0), Some(false)));
        // The profile says the same.
        let one = app.get(&format!("/api/v1/customers/{sam}")).await;
        assert_eq!((one.body["loyalty_points"].as_i64(), one.body["has_id_image"].as_bool()), (Some(0), Some(false)));
    }
);
