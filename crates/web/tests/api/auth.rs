//! Signing in and out, sessions, CSRF, rate limits, API keys and the audit trail they leave.

use canopy_domain::Role;
use canopy_testkit::{Engine, TEST_PASSWORD, TestApp, both_engines};
use canopy_web::{Clock, Settings};
use reqwest::header::{SET_COOKIE, USER_AGENT};
use serde_json::json;

/// Signs in through the API with a fresh cookie jar; returns the client, the response and its cookies.
async fn sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (reqwest::Client, u16, serde_json::Value, Vec<String>) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = client
        .post(app.url("/api/v1/session"))
        .header(USER_AGENT, "canopy-tests")
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let cookies = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body = res.json().await.unwrap_or_default();
    (client, status, body, cookies)
}

both_engines!(
    async fn health_and_the_api_description_need_no_credentials(app) {
        let stranger = app.anonymous();
        assert_eq!(stranger.get("/healthz").await.status, 200);
        let doc = stranger.get("/api/v1/openapi.json").await;
        assert_eq!(doc.status, 200);
        assert!(doc.body["paths"]["/api/v1/session"].is_object());
    }
);

both_engines!(
    async fn a_bogus_or_revoked_key_is_refused_with_401(app) {
        let mut bogus = app.anonymous();
        bogus.token = Some("cnpy_not-a-real-key".into());
        let res = bogus.get("/api/v1/customers").await;
        assert_eq!((res.status, res.error_code()), (401, "invalid_api_key"));

        let created = app
            .post("/api/v1/api-keys", json!({"name": "Online store", "scopes": ["customers:read"]}))
            .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        let mut store_app = app.anonymous();
        store_app.token = Some(created.body["secret"].as_str().unwrap().to_string());
        assert_eq!(store_app.get("/api/v1/customers").await.status, 200);

        let id = created.body["id"].as_str().unwrap();
        let revoked = app.delete(&format!("/api/v1/api-keys/{id}")).await;
        assert_eq!(revoked.status, 200);
        assert!(revoked.body["revoked_at"].is_string());
        assert_eq!(store_app.get("/api/v1/customers").await.status, 401);
    }
);

both_engines!(
    async fn a_new_key_is_shown_once_and_listed_without_its_secret(app) {
        let created = app
            .post("/api/v1/api-keys", json!({"name": "Delivery app", "scopes": ["all"]}))
            .await;
        let secret = created.body["secret"].as_str().unwrap();
        assert!(secret.starts_with("cnpy_") && secret.len() > 40);
        assert!(secret.starts_with(created.body["prefix"].as_str().unwrap()));
        let list = app.get("/api/v1/api-keys").await;
        let listed = list.body["items"].as_array().unwrap();
        let mine = listed.iter().find(|k| k["name"] == "Delivery app").unwrap();
        assert!(mine.get("secret").is_none());
        // `all` is every scope but the key-only state-system one, which must be named to be held.
        let all = canopy_domain::Permission::ALL
            .iter()
            .filter(|p| **p != canopy_domain::Permission::StateSync)
            .count();
        assert_eq!(mine["scopes"].as_array().unwrap().len(), all);
        assert!(!list.body.to_string().contains(secret));
    }
);

both_engines!(
    async fn an_unknown_scope_is_a_field_error_and_a_key_cannot_grant_more_than_it_holds(app) {
        let res = app
            .post("/api/v1/api-keys", json!({"name": "x", "scopes": ["customers:raed"]}))
            .await;
        assert_eq!((res.status, res.error_code()), (422, "unknown_scope"));
        assert_eq!(res.body["error"]["field"], "scopes");

        let limited = app
            .key_with_scopes([canopy_domain::Permission::ApiKeysManage].into_iter().collect())
            .await;
        let res = limited
            .post("/api/v1/api-keys", json!({"name": "escalate", "scopes": ["all"]}))
            .await;
        assert_eq!(res.status, 403);
    }
);

both_engines!(
    async fn signing_in_sets_a_strict_http_only_cookie_and_reports_role_and_permissions(app) {
        app.create_user("dana", Role::Manager).await;
        let (client, status, body, cookies) = sign_in(&app, "Dana", TEST_PASSWORD).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["role"], "manager");
        let session = cookies.iter().find(|c| c.starts_with("canopy_session=")).unwrap();
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
        assert!(!session.contains("Secure"), "not configured for TLS: {session}");

        let me = client.get(app.url("/api/v1/session")).send().await.unwrap();
        let me: serde_json::Value = me.json().await.unwrap();
        assert_eq!(me["user"]["username"], "dana");
        assert_eq!(me["kind"], "user");
        let permissions = me["permissions"].as_array().unwrap();
        assert!(permissions.contains(&json!("customers:ban")));
        assert!(!permissions.contains(&json!("staff:manage")));
        assert_eq!(me["idle_timeout_seconds"], 1800);
    }
);

both_engines!(
    async fn a_cookie_session_must_echo_its_csrf_token_to_change_anything(app) {
        app.create_user("dana", Role::Budtender).await;
        let (client, _, body, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
        let csrf = body["csrf_token"].as_str().unwrap();
        let customer = json!({"first_name": "Sarah", "last_name": "Miller"});

        let forged = client.post(app.url("/api/v1/customers")).json(&customer).send().await.unwrap();
        assert_eq!(forged.status().as_u16(), 403);
        let forged: serde_json::Value = forged.json().await.unwrap();
        assert_eq!(forged["error"]["code"], "csrf_token_invalid");

        let res = client
            .post(app.url("/api/v1/customers"))
            .header("X-CSRF-Token", csrf)
            .json(&customer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let reads = client.get(app.url("/api/v1/customers")).send().await.unwrap();
        assert_eq!(reads.status().as_u16(), 200, "reads need no token");
    }
);

both_engines!(
    async fn signing_out_ends_the_session_for_good(app) {
        app.create_user("dana", Role::Budtender).await;
        let (client, _, body, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
        let csrf = body["csrf_token"].as_str().unwrap();
        let stolen_cookie = client.get(app.url("/api/v1/session")).send().await.unwrap();
        assert_eq!(stolen_cookie.status().as_u16(), 200);

        let out = client
            .delete(app.url("/api/v1/session"))
            .header("X-CSRF-Token", csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status().as_u16(), 204);
        let after = client.get(app.url("/api/v1/session")).send().await.unwrap();
        assert_eq!(after.status().as_u16(), 401);
        let audit = app.get("/api/v1/audit?action=session.sign_out").await;
        assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
    }
);

both_engines!(
    async fn each_sign_in_gets_a_new_session_and_the_old_cookie_stops_working(app) {
        let user = app.create_user("dana", Role::Budtender).await;
        let (client, _, _, first) = sign_in(&app, "dana", TEST_PASSWORD).await;
        let res = client
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "dana", "password": TEST_PASSWORD}))
            .send()
            .await
            .unwrap();
        let second: Vec<String> = res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
        let token = |cookies: &[String]| {
            cookies.iter().find(|c| c.starts_with("canopy_session=")).unwrap().split(';').next().unwrap().to_string()
        };
        assert_ne!(token(&first), token(&second));
        let mut old = app.anonymous();
        old.token = Some(token(&first).trim_start_matches("canopy_session=").to_string());
        assert_eq!(old.get("/api/v1/session").await.status, 401);
        let audit = app
            .get(&format!("/api/v1/audit?entity=staff_user&entity_id={}&action=session.replace", user.id))
            .await;
        assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
    }
);

both_engines!(
    async fn a_wrong_password_and_an_unknown_user_get_the_same_answer_and_are_audited(app) {
        let user = app.create_user("dana", Role::Budtender).await;
        let (_, status, body, cookies) = sign_in(&app, "dana", "not the password").await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("invalid_credentials")));
        assert!(cookies.is_empty());
        let (_, status2, body2, _) = sign_in(&app, "nobody", "not the password").await;
        assert_eq!(status2, 401);
        assert_eq!(body["error"]["message"], body2["error"]["message"]);

        let audit = app.get("/api/v1/audit?action=session.sign_in_failed").await;
        let items = audit.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        let dana = items.iter().find(|e| e["entity_id"] == user.id.to_string()).unwrap();
        assert_eq!(dana["changes"]["reason"], "wrong_password");
        assert_eq!(dana["address"], "127.0.0.1");
        assert_eq!(dana["user_agent"], "canopy-tests");
        assert!(!audit.body.to_string().contains("not the password"));
    }
);

both_engines!(
    async fn ten_failures_lock_the_account_for_fifteen_minutes_even_with_the_right_password(app) {
        app.create_user("dana", Role::Budtender).await;
        for _ in 0..10 {
            let (_, status, _, _) = sign_in(&app, "dana", "wrong password!").await;
            assert_eq!(status, 401);
        }
        let (_, status, body, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
        assert_eq!((status, body["error"]["code"].as_str()), (429, Some("too_many_attempts")));
        // Another account from the same address is not locked (the address limit is higher).
        app.create_user("sam", Role::Budtender).await;
        let (_, status, _, _) = sign_in(&app, "sam", TEST_PASSWORD).await;
        assert_eq!(status, 200);
    }
);

both_engines!(
    async fn a_deactivated_account_cannot_sign_in_and_loses_its_sessions(app) {
        let user = app.create_user("dana", Role::Budtender).await;
        let session = app.as_role(Role::Budtender).await;
        let (client, _, _, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
        let res = app.patch(&format!("/api/v1/staff/{}", user.id), json!({"active": false})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(client.get(app.url("/api/v1/session")).send().await.unwrap().status().as_u16(), 401);
        let (_, status, _, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
        assert_eq!(status, 401);
        assert_eq!(session.get("/api/v1/session").await.status, 200, "others stay signed in");
    }
);

both_engines!(
    async fn the_last_active_admin_cannot_be_demoted_or_disabled(app) {
        let admin = app.create_user("root", Role::Admin).await;
        let res = app.patch(&format!("/api/v1/staff/{}", admin.id), json!({"role": "manager"})).await;
        assert_eq!((res.status, res.error_code()), (409, "last_admin"));
        app.create_user("second", Role::Admin).await;
        let res = app.patch(&format!("/api/v1/staff/{}", admin.id), json!({"active": false})).await;
        assert_eq!(res.status, 200);
    }
);

both_engines!(
    async fn staff_accounts_are_created_validated_and_audited_without_their_password(app) {
        let res = app
            .post("/api/v1/staff", json!({"username": "Dana.R", "role": "budtender", "password": "short", "stores": ["denver-1"]}))
            .await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("password")));
        let res = app
            .post("/api/v1/staff", json!({"username": "Dana.R", "role": "owner", "password": "a long enough password"}))
            .await;
        assert_eq!((res.status, res.error_code()), (422, "invalid_role"));
        let res = app
            .post("/api/v1/staff", json!({"username": "Dana.R", "display_name": "Dana R.", "role": "budtender",
                "password": "a long enough password", "stores": ["denver-1", "boulder"]}))
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["username"], "dana.r");
        assert_eq!(res.body["stores"], json!(["denver-1", "boulder"]));
        assert!(res.body.get("password_hash").is_none());
        let again = app
            .post("/api/v1/staff", json!({"username": "dana.r", "role": "budtender", "password": "a long enough password"}))
            .await;
        assert_eq!((again.status, again.error_code()), (409, "already_exists"));

        let (_, status, _, _) = sign_in(&app, "dana.r", "a long enough password").await;
        assert_eq!(status, 200);
        let audit = app.get("/api/v1/audit?entity=staff_user").await;
        let text = audit.body.to_string();
        assert!(text.contains("staff.create") && text.contains("session.sign_in"));
        assert!(!text.contains("a long enough password") && !text.contains("argon2"));
    }
);

both_engines!(
    async fn a_password_reset_signs_the_account_out_and_the_new_password_works(app) {
        let user = app.create_user("dana", Role::Budtender).await;
        let (client, _, _, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
        let res = app
            .put(&format!("/api/v1/staff/{}/password", user.id), json!({"password": "brand new password"}))
            .await;
        assert_eq!(res.status, 204);
        assert_eq!(client.get(app.url("/api/v1/session")).send().await.unwrap().status().as_u16(), 401);
        assert_eq!(sign_in(&app, "dana", TEST_PASSWORD).await.1, 401);
        assert_eq!(sign_in(&app, "dana", "brand new password").await.1, 200);
    }
);

both_engines!(
    async fn the_audit_log_filters_and_pages_newest_first(app) {
        for name in ["a", "b", "c"] {
            app.post("/api/v1/customers", json!({"first_name": name, "last_name": "Test"})).await;
        }
        let page = app.get("/api/v1/audit?entity=customer&limit=2").await;
        assert_eq!(page.status, 200);
        let items = page.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0]["seq"].as_i64() > items[1]["seq"].as_i64());
        let before = page.body["next_before"].as_i64().unwrap();
        let rest = app.get(&format!("/api/v1/audit?entity=customer&limit=2&before={before}")).await;
        assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
        assert!(rest.body["next_before"].is_null());
        assert_eq!(app.get("/api/v1/audit?limit=0").await.status, 400);
        assert_eq!(app.get("/api/v1/audit?sort=asc").await.status, 400);
    }
);

/// Sessions end after the idle timeout (30 minutes), on the server's clock moved by hand.
async fn idle_sessions_expire(engine: Engine) {
    let clock = Clock::manual(jiff::Timestamp::now());
    let settings = Settings {
        clock: clock.clone(),
        ..Settings::default()
    };
    let app = TestApp::spawn_with(engine, settings).await;
    app.create_user("dana", Role::Budtender).await;
    let (client, _, _, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
    clock.advance(jiff::SignedDuration::from_mins(29));
    let res = client.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "29 minutes idle is still signed in"
    );
    clock.advance(jiff::SignedDuration::from_mins(31));
    let res = client.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "session_expired");
}

#[tokio::test]
async fn idle_sessions_expire_on_sqlite() {
    idle_sessions_expire(Engine::Sqlite).await;
}

#[tokio::test]
async fn idle_sessions_expire_on_postgres() {
    idle_sessions_expire(Engine::Postgres).await;
}

/// Sessions end at the absolute lifetime (12 hours) however busy they are.
async fn sessions_end_at_their_lifetime(engine: Engine) {
    let clock = Clock::manual(jiff::Timestamp::now());
    let settings = Settings {
        clock: clock.clone(),
        ..Settings::default()
    };
    let app = TestApp::spawn_with(engine, settings).await;
    app.create_user("dana", Role::Budtender).await;
    let (client, _, _, _) = sign_in(&app, "dana", TEST_PASSWORD).await;
    // Used every 20 minutes, so never idle for long: still signed in at exactly 12 hours.
    for _ in 0..36 {
        clock.advance(jiff::SignedDuration::from_mins(20));
        let res = client.get(app.url("/api/v1/session")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    clock.advance(jiff::SignedDuration::from_mins(20));
    let res = client.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn sessions_end_at_their_lifetime_on_sqlite() {
    sessions_end_at_their_lifetime(Engine::Sqlite).await;
}

#[tokio::test]
async fn sessions_end_at_their_lifetime_on_postgres() {
    sessions_end_at_their_lifetime(Engine::Postgres).await;
}

#[tokio::test]
async fn secure_cookies_are_marked_secure_when_configured() {
    let settings = Settings {
        secure_cookies: true,
        ..Settings::default()
    };
    let app = TestApp::spawn_with(Engine::Sqlite, settings).await;
    app.create_user("dana", Role::Budtender).await;
    let (_, _, _, cookies) = sign_in(&app, "dana", TEST_PASSWORD).await;
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn a_form_sign_in_redirects_to_a_local_page_only() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    app.create_user("dana", Role::Budtender).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |next: &'static str, password: &'static str| {
        client
            .post(app.url("/api/v1/session"))
            .header("origin", app.url(""))
            .form(&[("username", "dana"), ("password", password), ("next", next)])
            .send()
    };
    let ok = post("/customers", TEST_PASSWORD).await.unwrap();
    assert_eq!(ok.status().as_u16(), 303);
    assert_eq!(ok.headers()["location"], "/customers");
    assert!(ok.headers().get(SET_COOKIE).is_some());
    let offsite = post("//evil.example/", TEST_PASSWORD).await.unwrap();
    assert_eq!(offsite.headers()["location"], "/");
    let wrong = post("/customers", "wrong password!").await.unwrap();
    assert_eq!(
        wrong.headers()["location"],
        "/sign-in?error=invalid_credentials&next=/customers"
    );
}
