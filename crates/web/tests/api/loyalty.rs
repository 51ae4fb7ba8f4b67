use canopy_domain::Role;
use canopy_testkit::{TestApp, both_engines};
use serde_json::json;

async fn create_customer(app: &TestApp) -> String {
    let res = app
        .post(
            "/api/v1/customers",
            json!({"first_name": "Rosa", "last_name": "Diaz", "phone": "(303) 555-0199"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

both_engines!(
    async fn a_new_customer_has_no_points_and_no_history(app) {
        let id = create_customer(&app).await;
        let res = app.get(&format!("/api/v1/customers/{id}/loyalty")).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["balance"], 0);
        assert_eq!(res.body["available"], 0);
        assert_eq!(res.body["pending"], 0);
        assert_eq!(res.body["available_value_cents"], 0);
        let res = app.get(&format!("/api/v1/customers/{id}/loyalty/history")).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["items"], json!([]));
    }
);

both_engines!(
    async fn an_adjustment_without_a_reason_is_refused_and_writes_nothing(app) {
        let id = create_customer(&app).await;
        let path = format!("/api/v1/customers/{id}/loyalty/adjustments");
        let res = app.post(&path, json!({"points": 100})).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.error_code(), "reason_required");
        assert_eq!(res.body["error"]["field"], "reason");
        let res = app.post(&path, json!({"points": 100, "reason": "  "})).await;
        assert_eq!(res.error_code(), "reason_required");
        let res = app.post(&path, json!({"points": 0, "reason": "nothing"})).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("points")));

        let history = app.get(&format!("/api/v1/customers/{id}/loyalty/history")).await;
        assert_eq!(history.body["items"], json!([]));
    }
);

both_engines!(
    async fn an_adjustment_shows_in_the_balance_the_history_and_the_audit_log(app) {
        let id = create_customer(&app).await;
        let path = format!("/api/v1/customers/{id}/loyalty/adjustments");
        let res = app.post(&path, json!({"points": 250, "reason": "Points from the old POS"})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["kind"], "adjust");
        assert_eq!(res.body["balance_after"], 250);
        let res = app.post(&path, json!({"points": -50, "reason": "Duplicate import"})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);

        let balance = app.get(&format!("/api/v1/customers/{id}/loyalty")).await;
        assert_eq!(balance.body["available"], 200);
        // Default program: 100 points = $5.
        assert_eq!(balance.body["available_value_cents"], 1000);

        let history = app.get(&format!("/api/v1/customers/{id}/loyalty/history?limit=1")).await;
        let items = history.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["points"], -50);
        assert_eq!(items[0]["reason"], "Duplicate import");
        assert!(items[0]["description"].as_str().unwrap().contains("Duplicate import"));
        let before = history.body["next_before"].as_i64().unwrap();
        let older = app.get(&format!("/api/v1/customers/{id}/loyalty/history?before={before}")).await;
        assert_eq!(older.body["items"][0]["points"], 250);
        assert!(older.body["next_before"].is_null());

        let audit = app
            .store
            .audit_entries(&canopy_store::AuditFilter { action: Some("loyalty.adjust".into()), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.len(), 2);
        assert_eq!(audit[1].entity_id.as_deref(), Some(id.as_str()));
    }
);

both_engines!(
    async fn removing_more_points_than_the_customer_has_is_a_conflict(app) {
        let id = create_customer(&app).await;
        let path = format!("/api/v1/customers/{id}/loyalty/adjustments");
        app.post(&path, json!({"points": 30, "reason": "welcome"})).await;
        let res = app.post(&path, json!({"points": -31, "reason": "oops"})).await;
        assert_eq!(res.status, 409);
        assert_eq!(res.error_code(), "insufficient_points");
        assert_eq!(res.body["error"]["available"], 30);
    }
);

both_engines!(
    async fn loyalty_routes_answer_404_for_unknown_customers(app) {
        let ghost = "01890a5d-ac96-774b-bcce-b302099a8057";
        assert_eq!(app.get(&format!("/api/v1/customers/{ghost}/loyalty")).await.status, 404);
        assert_eq!(app.get(&format!("/api/v1/customers/{ghost}/loyalty/history")).await.status, 404);
        let res = app.post(&format!("/api/v1/customers/{ghost}/loyalty/adjustments"), json!({"points": 5, "reason": "x"})).await;
        assert_eq!(res.status, 404);
        assert_eq!(app.get("/api/v1/customers/not-an-id/loyalty").await.status, 404);
    }
);

both_engines!(
    async fn the_program_is_saved_validated_and_applied_to_the_balance_value(app) {
        let res = app.get("/api/v1/loyalty/program").await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["spend_cents_per_point"], 100);

        let mut program = res.body.clone();
        program["value_points"] = json!(100);
        program["value_cents"] = json!(100);
        program["pending_days"] = json!(14);
        program["expiry_days"] = json!(365);
        program["excluded_jurisdictions"] = json!(["ny"]);
        let res = app.put("/api/v1/loyalty/program", program.clone()).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["excluded_jurisdictions"], json!(["NY"]));
        assert_eq!(app.get("/api/v1/loyalty/program").await.body["pending_days"], 14);

        let mut bad = program.clone();
        bad["spend_cents_per_point"] = json!(0);
        let res = app.put("/api/v1/loyalty/program", bad).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("spend_cents_per_point")));
        let mut bad = program.clone();
        bad["expiry_days"] = json!(7);
        let res = app.put("/api/v1/loyalty/program", bad).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("expiry_days")));
        let mut bad = program.clone();
        bad["surprise"] = json!(true);
        assert_eq!(app.put("/api/v1/loyalty/program", bad).await.status, 422);
        assert_eq!(app.get("/api/v1/loyalty/program").await.body["pending_days"], 14);

        let id = create_customer(&app).await;
        app.post(&format!("/api/v1/customers/{id}/loyalty/adjustments"), json!({"points": 300, "reason": "welcome"})).await;
        let balance = app.get(&format!("/api/v1/customers/{id}/loyalty?expiring_within_days=400")).await;
        assert_eq!(balance.body["available_value_cents"], 300);
        assert_eq!(balance.body["expiring"][0]["points"], 300);
    }
);

both_engines!(
    async fn the_liability_report_sums_outstanding_points_at_their_value(app) {
        let a = create_customer(&app).await;
        let b = {
            let res = app.post("/api/v1/customers", json!({"first_name": "Tom", "last_name": "Kay"})).await;
            res.body["id"].as_str().unwrap().to_string()
        };
        app.post(&format!("/api/v1/customers/{a}/loyalty/adjustments"), json!({"points": 120, "reason": "import"})).await;
        app.post(&format!("/api/v1/customers/{b}/loyalty/adjustments"), json!({"points": 80, "reason": "import"})).await;
        let res = app.get("/api/v1/loyalty/liability").await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["customers"], 2);
        assert_eq!(res.body["outstanding_points"], 200);
        assert_eq!(res.body["value_cents"], 1000);
        let verify = app.store.verify_loyalty().await.unwrap();
        assert!(verify.differences.is_empty());
    }
);

both_engines!(
    async fn the_openapi_document_lists_the_loyalty_routes(app) {
        let doc = app.get("/api/v1/openapi.json").await;
        for path in ["/api/v1/customers/{id}/loyalty", "/api/v1/customers/{id}/loyalty/history",
                     "/api/v1/customers/{id}/loyalty/adjustments", "/api/v1/loyalty/program", "/api/v1/loyalty/liability"] {
            assert!(doc.body["paths"][path].is_object(), "{path} missing");
        }
    }
);

both_engines!(
    async fn only_managers_adjust_points_and_only_admins_change_the_program(app) {
        let id = create_customer(&app).await;
        let path = format!("/api/v1/customers/{id}/loyalty/adjustments");
        let budtender = app.as_role(Role::Budtender).await;
        let res = budtender.post(&path, json!({"points": 500, "reason": "my friend"})).await;
        assert_eq!((res.status, res.error_code()), (403, "forbidden"));
        assert_eq!(budtender.get(&format!("/api/v1/customers/{id}/loyalty")).await.status, 200);

        let manager = app.as_role(Role::Manager).await;
        let res = manager.post(&path, json!({"points": 500, "reason": "Complaint resolved"})).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert!(res.body["actor_label"].as_str().unwrap().starts_with("manager-"), "{:?}", res.body);
        let program = manager.get("/api/v1/loyalty/program").await.body;
        assert_eq!(manager.put("/api/v1/loyalty/program", program.clone()).await.status, 403);
        let admin = app.as_role(Role::Admin).await;
        assert_eq!(admin.put("/api/v1/loyalty/program", program).await.status, 200);

        let history = app.get(&format!("/api/v1/customers/{id}/loyalty/history")).await;
        assert_eq!(history.body["items"].as_array().unwrap().len(), 1);
    }
);
