//! Hardening against hostile callers, one test per finding of the outside audit (see docs/security.md):
//! who may read an order, escalation through staff management, the sign-in limit under concurrency,
//! the last admin, hostile numbers and sizes, redirects and login CSRF, idempotency scope, response
//! headers, webhook targets and image bombs; and random queries and bodies that must never get a 5xx.

use std::sync::Arc;
use std::time::Duration;

use canopy_domain::{Actor, OutboundPolicy, Permission, PermissionSet, Role};
use canopy_store::{AuditFilter, StaffPatch, StoreError};
use canopy_testkit::{Response, TEST_PASSWORD, TestApp, TestClient, both_engines};
use canopy_web::Settings;
use reqwest::header::SET_COOKIE;
use serde_json::{Value, json};

async fn create_store(app: &TestApp) -> String {
    let res = app
        .post(
            "/api/v1/stores",
            json!({"name": "Denver", "licensee": "Green Co", "licence_type": "adult_use", "jurisdiction": "US-CO"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn create_customer(app: &TestApp, phone: &str) -> String {
    let res = app
        .post(
            "/api/v1/customers",
            json!({"first_name": "Dana", "last_name": "Reyes", "phone": phone, "date_of_birth": "1990-05-01",
                "id_document": {"kind": "drivers_license", "number": format!("CO{phone}"), "jurisdiction": "CO", "expiry": "2099-01-01"}}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn create_product(app: &TestApp) {
    let res = app
        .post(
            "/api/v1/products",
            json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g", "category": "flower", "net_weight_g": "3.5", "price_cents": 3500}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
}

fn flower(customer: &str, store: &str) -> Value {
    json!({"customer_id": customer, "store_id": store, "lines": [{"sku": "FLW-35", "quantity": 1}]})
}

async fn checkout_as(client: &TestClient, key: &str, body: Value) -> Response {
    client
        .post_with_headers("/api/v1/checkout", body, &[("Idempotency-Key", key)])
        .await
}

async fn audit_count(app: &TestApp, action: &str) -> usize {
    app.store
        .audit_entries(&AuditFilter {
            action: Some(action.to_string()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

both_engines!(
    async fn a_budtender_reads_back_only_the_receipt_it_rang_up(app) {
        let store = create_store(&app).await;
        create_product(&app).await;
        let customer = create_customer(&app, "3035550171").await;
        let budtender = app.as_role_at(Role::Budtender, &[&store]).await;
        let other_budtender = app.as_role_at(Role::Budtender, &[&store]).await;
        let mine = checkout_as(&budtender, "b-1", flower(&customer, &store)).await;
        assert_eq!(mine.status, 201, "{:?}", mine.body);
        let mine = mine.body["order"]["id"].as_str().unwrap().to_string();
        let theirs = checkout_as(&other_budtender, "b-2", flower(&customer, &store)).await;
        let theirs = theirs.body["order"]["id"].as_str().unwrap().to_string();

        let own = budtender.get(&format!("/api/v1/orders/{mine}")).await;
        assert_eq!(own.status, 200, "{:?}", own.body);
        assert_eq!(own.body["id"], mine.as_str());
        let other = budtender.get(&format!("/api/v1/orders/{theirs}")).await;
        assert_eq!((other.status, other.error_code()), (403, "forbidden"));
        assert_eq!(audit_count(&app, "order.view").await, 0);
    }
);

both_engines!(
    async fn reading_any_order_needs_orders_history_and_is_audited(app) {
        let store = create_store(&app).await;
        create_product(&app).await;
        let customer = create_customer(&app, "3035550172").await;
        let placed = checkout_as(&app.key_with_scopes(PermissionSet::all()).await, "m-1", flower(&customer, &store)).await;
        let order = placed.body["order"]["id"].as_str().unwrap().to_string();
        let manager = app.as_role(Role::Manager).await;

        let read = manager.get(&format!("/api/v1/orders/{order}")).await;

        assert_eq!(read.status, 200, "{:?}", read.body);
        assert_eq!(read.body["lines"][0]["sku"], "FLW-35");
        let views = app
            .store
            .audit_entries(&AuditFilter { action: Some("order.view".into()), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].entity_id.as_deref(), Some(order.as_str()));
        assert_eq!(views[0].changes["customer_id"], customer.as_str());
    }
);

both_engines!(
    async fn staff_manage_alone_cannot_make_or_take_over_an_admin(app) {
        let mut scopes: PermissionSet = Role::Budtender.permissions();
        scopes.insert(Permission::StaffManage);
        let key = app.key_with_scopes(scopes).await;
        let admin = app.create_user("the-admin", Role::Admin).await;
        let budtender = app.create_user("a-budtender", Role::Budtender).await;
        let new = |role: &str, name: &str| json!({"username": name, "role": role, "password": "a long enough password"});

        let made_admin = key.post("/api/v1/staff", new("admin", "mallory")).await;
        let made_manager = key.post("/api/v1/staff", new("manager", "mallory2")).await;
        let made_budtender = key.post("/api/v1/staff", new("budtender", "newbie")).await;
        let promoted = key.patch(&format!("/api/v1/staff/{}", budtender.id), json!({"role": "admin"})).await;
        let took_over = key
            .put(&format!("/api/v1/staff/{}/password", admin.id), json!({"password": "a password I chose"}))
            .await;
        let demoted = key.patch(&format!("/api/v1/staff/{}", admin.id), json!({"active": false})).await;

        assert_eq!((made_admin.status, made_admin.body["error"]["field"].as_str()), (403, Some("role")));
        assert_eq!(made_manager.status, 403);
        assert_eq!(made_budtender.status, 201, "{:?}", made_budtender.body);
        assert_eq!(promoted.status, 403);
        assert_eq!(took_over.status, 403);
        assert_eq!(demoted.status, 403);
        assert_eq!(app.store.staff_user(budtender.id).await.unwrap().role, Role::Budtender);
        assert!(app.store.staff_user(admin.id).await.unwrap().active);
    }
);

both_engines!(
    async fn two_admins_demoting_each_other_at_once_leave_one_admin(app) {
        let a = app.create_user("admin-a", Role::Admin).await;
        let b = app.create_user("admin-b", Role::Admin).await;
        let demote = |id| {
            let store = app.store.clone();
            async move {
                store
                    .update_staff_user(
                        id,
                        StaffPatch { role: Some(Role::Manager), ..Default::default() },
                        &Actor::system("test"),
                        jiff::Timestamp::now(),
                    )
                    .await
            }
        };

        let (first, second) = tokio::join!(demote(a.id), demote(b.id));

        let refused = [&first, &second]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::LastAdmin)))
            .count();
        assert_eq!(refused, 1, "{first:?} {second:?}");
        let admins = app
            .store
            .list_staff_users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.role == Role::Admin && u.active)
            .count();
        assert_eq!(admins, 1);
    }
);

async fn post_sign_in(app: &TestApp, username: &str, password: &str) -> u16 {
    app.anonymous()
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

both_engines!(
    async fn concurrent_wrong_passwords_cannot_get_past_the_sign_in_limit(app) {
        app.create_user("dana", Role::Budtender).await;
        let attempts = (0..30).map(|_| post_sign_in(&app, "dana", "not the password"));

        let statuses = futures::future::join_all(attempts).await;

        let checked = statuses.iter().filter(|s| **s == 401).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!(checked + refused, 30, "{statuses:?}");
        assert!(checked <= 10, "{checked} passwords were checked: {statuses:?}");
        // The right password is refused too while the account is locked.
        assert_eq!(post_sign_in(&app, "dana", TEST_PASSWORD).await, 429);
    }
);

both_engines!(
    async fn refused_sign_ins_are_counted_not_audited_one_by_one(app) {
        app.create_user("dana", Role::Budtender).await;
        for _ in 0..10 {
            assert_eq!(post_sign_in(&app, "dana", "not the password").await, 401);
        }
        for _ in 0..25 {
            assert_eq!(post_sign_in(&app, "dana", "not the password").await, 429);
        }
        assert_eq!(audit_count(&app, "session.sign_in_failed").await, 10);
        assert_eq!(audit_count(&app, "session.sign_in_throttled").await, 1);
        assert_eq!(app.store.sign_in_throttle_count("account:dana").await.unwrap(), 25);
    }
);

both_engines!(
    async fn a_right_password_clears_its_reserved_attempt(app) {
        app.create_user("dana", Role::Budtender).await;
        for _ in 0..9 {
            assert_eq!(post_sign_in(&app, "dana", "not the password").await, 401);
        }
        assert_eq!(post_sign_in(&app, "dana", TEST_PASSWORD).await, 200);
        for _ in 0..10 {
            assert_eq!(post_sign_in(&app, "dana", "not the password").await, 401);
        }
        assert_eq!(post_sign_in(&app, "dana", "not the password").await, 429);
    }
);

both_engines!(
    async fn hostile_numbers_are_refused_with_the_field_never_overflowed_or_panicked(app) {
        let store = create_store(&app).await;
        create_product(&app).await;
        let customer = create_customer(&app, "3035550173").await;
        let mut body = flower(&customer, &store);
        body["payments"] = json!([{"method": "cash", "amount_cents": i64::MAX}, {"method": "cash", "amount_cents": i64::MAX}]);
        let paid = checkout_as(&app.key_with_scopes(PermissionSet::all()).await, "n-1", body).await;
        assert_eq!((paid.status, paid.body["error"]["field"].as_str()), (422, Some("payments[0].amount_cents")));

        let mut body = flower(&customer, &store);
        body["lines"][0]["quantity"] = json!(u32::MAX);
        body["lines"][0]["unit_price_cents"] = json!(i64::MAX);
        let priced = app.post("/api/v1/checkout/quote", body).await;
        assert_eq!(priced.status, 422, "{:?}", priced.body);

        let adjusted = app
            .post(&format!("/api/v1/customers/{customer}/loyalty/adjustments"), json!({"points": i64::MIN, "reason": "test"}))
            .await;
        assert_eq!((adjusted.status, adjusted.body["error"]["field"].as_str()), (422, Some("points")));

        for percent in [json!(1e27), json!("1e27"), json!("79228162514264337593543950335")] {
            let group = app
                .post("/api/v1/groups", json!({"name": "Huge", "discounts": [{"type": "percent", "percent": percent}]}))
                .await;
            assert_eq!((group.status, group.body["error"]["field"].as_str()), (422, Some("discounts[0].percent")));
        }
        let weight = app
            .post("/api/v1/products", json!({"sku": "X", "name": "X", "category": "flower", "net_weight_g": "1e25", "price_cents": 1}))
            .await;
        assert_eq!(weight.status, 422, "{:?}", weight.body);
        assert_eq!(app.get("/healthz").await.status, 200);
    }
);

both_engines!(
    async fn lists_have_caps_addresses_among_them(app) {
        let address = json!({"line1": "1 Main St", "city": "Denver", "region": "CO", "postal_code": "80202", "country": "US"});
        let many = vec![address.clone(); 11];
        let res = app.post("/api/v1/customers", json!({"first_name": "A", "last_name": "B", "addresses": many})).await;
        assert_eq!((res.status, res.error_code(), res.body["error"]["field"].as_str()), (422, "too_many", Some("addresses")));
        let ten = vec![address; 10];
        let ok = app.post("/api/v1/customers", json!({"first_name": "A", "last_name": "B", "addresses": ten})).await;
        assert_eq!(ok.status, 201, "{:?}", ok.body);
    }
);

both_engines!(
    async fn idempotency_keys_belong_to_their_caller(app) {
        let store = create_store(&app).await;
        create_product(&app).await;
        let customer = create_customer(&app, "3035550174").await;
        let register_a = app.key_for_role(Role::Budtender).await;
        let register_b = app.key_for_role(Role::Budtender).await;

        let a = checkout_as(&register_a, "sale-1", flower(&customer, &store)).await;
        let b = checkout_as(&register_b, "sale-1", flower(&customer, &store)).await;
        let a_again = checkout_as(&register_a, "sale-1", flower(&customer, &store)).await;

        assert_eq!((a.status, b.status), (201, 201), "{:?}", b.body);
        assert_ne!(a.body["order"]["id"], b.body["order"]["id"], "b got its own order, not a's receipt");
        assert_eq!(a_again.body, a.body, "a's retry is still a replay");
    }
);

both_engines!(
    async fn permission_is_checked_before_the_body_is_read(app) {
        let budtender = app.key_for_role(Role::Budtender).await;
        for (path, body) in [
            ("/api/v1/staff", json!({"nonsense": true})),
            ("/api/v1/api-keys", json!({"scopes": 7})),
            ("/api/v1/groups", json!([1, 2, 3])),
        ] {
            let res = budtender.post(path, body).await;
            assert_eq!((res.status, res.error_code()), (403, "forbidden"), "{path}");
        }
        let res = budtender.post_raw("/api/v1/staff", "application/json", b"{not json".to_vec()).await;
        assert_eq!(res.status, 403);
    }
);

both_engines!(
    async fn oversized_requests_get_413_414_431_with_json_bodies(app) {
        let big = format!("{{\"first_name\": \"{}\", \"last_name\": \"B\"}}", "a".repeat(3 * 1024 * 1024));
        let res = app.post_raw("/api/v1/customers", "application/json", big.into_bytes()).await;
        assert_eq!((res.status, res.error_code()), (413, "body_too_large"));

        let upload = vec![b'x'; 17 * 1024 * 1024];
        let (content_type, body) = multipart_image(&upload);
        let res = app.post_raw("/api/v1/id-scans", &content_type, body).await;
        assert_eq!((res.status, res.error_code()), (413, "body_too_large"));

        let long = app.get(&format!("/api/v1/customers?q={}", "a".repeat(10_000))).await;
        assert_eq!((long.status, long.error_code()), (414, "uri_too_long"));

        let res = app
            .client
            .get(app.url("/api/v1/session"))
            .header("x-padding", "p".repeat(40 * 1024))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 431);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "headers_too_large");
    }
);

both_engines!(
    async fn api_responses_are_never_cached_or_sniffed(app) {
        for path in ["/api/v1/customers", "/api/v1/nowhere", "/api/v1/openapi.json"] {
            let res = app.get_raw(path).await;
            assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
            assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        }
        let missing = app.get("/api/v1/nowhere").await;
        assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
    }
);

both_engines!(
    async fn a_sign_in_form_on_another_site_cannot_sign_a_browser_in(app) {
        app.create_user("dana", Role::Budtender).await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let form = [("username", "dana"), ("password", TEST_PASSWORD), ("next", "/")];
        let foreign = client.post(app.url("/api/v1/session")).header("origin", "https://evil.example").form(&form).send().await.unwrap();
        let no_origin = client.post(app.url("/api/v1/session")).form(&form).send().await.unwrap();
        let tabbed = client
            .post(app.url("/api/v1/session"))
            .header("origin", app.url(""))
            .form(&[("username", "dana"), ("password", TEST_PASSWORD), ("next", "/\t/evil.example")])
            .send()
            .await
            .unwrap();

        assert_eq!(foreign.status().as_u16(), 403);
        assert!(foreign.headers().get(SET_COOKIE).is_none());
        assert_eq!(no_origin.status().as_u16(), 403);
        assert_eq!(tabbed.status().as_u16(), 303);
        assert_eq!(tabbed.headers()["location"], "/");
    }
);

both_engines!(
    async fn webhook_endpoints_must_point_at_public_addresses(app) {
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/hook",
            "http://localhost:6379/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
        ] {
            let res = app.post("/api/v1/webhooks/endpoints", json!({"url": url, "events": ["customer.created"]})).await;
            assert_eq!((res.status, res.error_code()), (422, "url_not_allowed"), "{url}");
        }
        let public = app
            .post("/api/v1/webhooks/endpoints", json!({"url": "https://crm.example.com/hook", "events": ["customer.created"]}))
            .await;
        assert_eq!(public.status, 201, "{:?}", public.body);
    }
);

both_engines!(
    settings = Settings {
        webhook_policy: Arc::new(OutboundPolicy::parse("10.20.0.0/16").unwrap()),
        ..Settings::default()
    };
    async fn an_operator_can_allow_a_private_partner_network(app) {
        let allowed = app.post("/api/v1/webhooks/endpoints", json!({"url": "http://10.20.0.5/hook", "events": ["customer.created"]})).await;
        let other = app.post("/api/v1/webhooks/endpoints", json!({"url": "http://10.21.0.5/hook", "events": ["customer.created"]})).await;
        assert_eq!(allowed.status, 201, "{:?}", allowed.body);
        assert_eq!(other.status, 422);
    }
);

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// 10,000 × 10,000 RGB declared in a few dozen bytes: 300 MB once decoded.
fn png_bomb() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8; 4], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&10_000u32.to_be_bytes());
    ihdr.extend_from_slice(&10_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    png
}

fn multipart_image(data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "canopy-security-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"id.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

both_engines!(
    async fn an_image_declaring_too_many_pixels_is_refused_before_decoding(app) {
        let (content_type, body) = multipart_image(&png_bomb());
        let bombs = (0..4).map(|_| app.post_raw("/api/v1/id-scans", &content_type, body.clone()));
        for res in futures::future::join_all(bombs).await {
            assert_eq!((res.status, res.error_code()), (422, "image_too_large"), "{:?}", res.body);
        }
    }
);

/// Random query strings and JSON bodies against every kind of endpoint: answers are 2xx, 4xx with the
/// JSON error shape, never a 5xx, and each within a few seconds.
#[tokio::test]
async fn random_queries_and_bodies_never_get_a_server_error_or_stall() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let app = TestApp::spawn(canopy_testkit::Engine::Sqlite).await;
    let customer = create_customer(&app, "3035550176").await;
    let store = create_store(&app).await;
    create_product(&app).await;

    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        Just(Value::from(customer.clone())),
        Just(Value::from(store.clone())),
        Just(Value::from("FLW-35")),
    ];
    let json = leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("customer_id".to_string()),
                    Just("store_id".to_string()),
                    Just("lines".to_string()),
                    Just("sku".to_string()),
                    Just("quantity".to_string()),
                    Just("points".to_string()),
                    Just("reason".to_string()),
                    Just("first_name".to_string()),
                    Just("last_name".to_string()),
                    Just("addresses".to_string()),
                    Just("payments".to_string()),
                    Just("amount_cents".to_string()),
                    Just("percent".to_string()),
                    Just("discounts".to_string()),
                    Just("type".to_string()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let query = "[ -~]{0,120}";
    let posts = [
        "/api/v1/customers".to_string(),
        "/api/v1/checkout/quote".to_string(),
        "/api/v1/groups".to_string(),
        "/api/v1/products".to_string(),
        "/api/v1/stores".to_string(),
        format!("/api/v1/customers/{customer}/loyalty/adjustments"),
        format!("/api/v1/customers/{customer}/notes"),
        "/api/v1/webhooks/endpoints".to_string(),
        "/api/v1/id-scans".to_string(),
        format!("/api/v1/stores/{store}/checkins"),
    ];
    let gets = [
        "/api/v1/customers?q=",
        "/api/v1/customers?limit=",
        "/api/v1/audit?limit=",
        "/api/v1/webhooks/deliveries?limit=",
    ];
    let mut runner = TestRunner::default();
    for case in 0..96 {
        let body = json.new_tree(&mut runner).unwrap().current();
        let text = query.new_tree(&mut runner).unwrap().current();
        let encoded: String = url_encode(&text);
        let get_path = format!("{}{encoded}", gets[case % gets.len()]);
        let post_path = &posts[case % posts.len()];
        let get = tokio::time::timeout(Duration::from_secs(10), app.get(&get_path)).await;
        let post =
            tokio::time::timeout(Duration::from_secs(10), app.post(post_path, body.clone())).await;
        let get = get.unwrap_or_else(|_| panic!("GET {get_path} stalled"));
        let post = post.unwrap_or_else(|_| panic!("POST {post_path} {body} stalled"));
        for (what, res) in [
            (get_path.clone(), get),
            (format!("POST {post_path} {body}"), post),
        ] {
            assert!(res.status < 500, "{what} → {} {:?}", res.status, res.body);
            if res.status >= 400 {
                assert!(
                    res.body["error"]["code"].is_string(),
                    "{what} → {:?}",
                    res.body
                );
            }
        }
    }
    assert_eq!(app.get("/healthz").await.status, 200);
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
