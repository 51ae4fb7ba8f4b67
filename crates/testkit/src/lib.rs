//! Test helpers shared by every integration test: a fresh database per test on SQLite or PostgreSQL,
//! and a real server on a random loopback port.
//!
//! PostgreSQL tests read the admin URL from `CANOPY_TEST_PG` (set by `scripts/test`). Without it they fail,
//! never pass untested; each test's database is dropped when the test ends.

use std::net::SocketAddr;

use canopy_domain::{Actor, PermissionSet, Role, SessionId, StaffUser, Username};
use canopy_store::{NewApiKey, NewSession, NewStaffUser, Store};
use canopy_web::auth::secrets;
use canopy_web::{AppState, Settings};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database that exists for one test only: a SQLite file in a temporary folder, or a PostgreSQL
/// database created on the server `CANOPY_TEST_PG` names and dropped again when this value is dropped.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// The admin URL and name of a PostgreSQL test database, to drop it afterwards.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, empty database.
    ///
    /// # Panics
    /// For PostgreSQL when `CANOPY_TEST_PG` is not set: a PostgreSQL test that did not run must not be
    /// counted as passed. `scripts/test` always provides a server; to run only the SQLite halves, filter
    /// by name (`cargo test -p canopy-web --test api sqlite`).
    pub async fn create(engine: Engine) -> TestDb {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir.path().join("canopy.db").to_string_lossy().into_owned();
                TestDb {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Engine::Postgres => {
                let admin = std::env::var("CANOPY_TEST_PG")
                    .ok()
                    .filter(|url| !url.is_empty())
                    .expect(
                        "CANOPY_TEST_PG is not set, so this PostgreSQL test cannot run and fails instead of \
                         passing untested: run scripts/test (it starts PostgreSQL), or select only the \
                         SQLite halves with a `sqlite` name filter",
                    );
                let name = format!("canopy_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to test PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDb {
                    url: format!("{base}/{name}"),
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url).await.expect("open test database")
    }
}

impl Drop for TestDb {
    /// Drops a PostgreSQL test database (closing any connection still open to it). `Drop` cannot await,
    /// and the test's runtime may be shutting down, so this runs on a thread with a runtime of its own.
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut conn = sqlx::PgConnection::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop the PostgreSQL test database: {dropped:?}");
        }
    }
}

/// The password every test account made by [`TestApp::as_role`] and [`TestApp::create_user`] has.
pub const TEST_PASSWORD: &str = "test-password-1234";

/// The Argon2id hash of [`TEST_PASSWORD`], computed once per test binary.
pub async fn test_password_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        secrets::hash_password(TEST_PASSWORD)
            .await
            .expect("hash test password")
    })
    .await
    .clone()
}

/// A running server with its own fresh database.
///
/// Requests made through the helpers carry `token` as a bearer token: by default an API key with every
/// scope (created directly through the store), so tests of features other than permissions need not
/// sign in. [`TestApp::as_role`], [`TestApp::key_for_role`] and [`TestApp::anonymous`] give clients
/// with other credentials for permission tests.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    pub db: TestDb,
    pub client: reqwest::Client,
    /// Sent with every request made through the helpers: an API key with every scope.
    pub token: Option<String>,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> TestApp {
        Self::spawn_with(engine, Settings::default()).await
    }

    pub async fn spawn_with(engine: Engine, settings: Settings) -> TestApp {
        let db = TestDb::create(engine).await;
        let store = db.open().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = AppState::new(store.clone(), settings);
        tokio::spawn(canopy_web::serve(listener, state, std::future::pending()));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let token = create_key(&store, "test suite", PermissionSet::all()).await;
        TestApp {
            addr,
            store,
            db,
            client,
            token: Some(token),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn as_client(&self) -> TestClient {
        TestClient {
            addr: self.addr,
            client: self.client.clone(),
            token: self.token.clone(),
        }
    }

    /// A client signed in as a new staff member with `role` (a real session, sent as a bearer token),
    /// assigned to no store.
    pub async fn as_role(&self, role: Role) -> TestClient {
        self.as_role_at(role, &[]).await
    }

    /// A client signed in as a new staff member with `role`, assigned to `stores` (ids).
    pub async fn as_role_at(&self, role: Role, stores: &[&str]) -> TestClient {
        let username = format!("{}-{}", role.as_str(), uuid::Uuid::new_v4().simple());
        let user = self
            .store
            .create_staff_user(
                NewStaffUser {
                    username: Username::parse(&username).expect("test username"),
                    display_name: username.clone(),
                    role,
                    password_hash: test_password_hash().await,
                    stores: stores.iter().map(|s| s.to_string()).collect(),
                },
                &Actor::system("test"),
                jiff::Timestamp::now(),
            )
            .await
            .expect("create test user");
        let token = secrets::new_session_token();
        let now = jiff::Timestamp::now();
        self.store
            .create_session(
                &user,
                NewSession {
                    id: SessionId::new(),
                    token_hash: secrets::digest(&token),
                    csrf_token: secrets::new_csrf_token(),
                },
                now - jiff::SignedDuration::from_hours(24),
                &Actor::system("test"),
                now,
            )
            .await
            .expect("create test session");
        TestClient {
            addr: self.addr,
            client: fresh_client(),
            token: Some(token),
        }
    }

    /// A client holding an API key whose scopes are exactly `role`'s permissions.
    pub async fn key_for_role(&self, role: Role) -> TestClient {
        self.key_with_scopes(role.permissions()).await
    }

    /// A client holding an API key with exactly `scopes`.
    pub async fn key_with_scopes(&self, scopes: PermissionSet) -> TestClient {
        self.key_at_stores(scopes, None).await
    }

    /// A client holding an API key with `scopes`, limited to `stores` (ids) when given.
    pub async fn key_at_stores(
        &self,
        scopes: PermissionSet,
        stores: Option<&[&str]>,
    ) -> TestClient {
        let secret = secrets::new_api_key();
        self.store
            .create_api_key(
                NewApiKey {
                    name: "test key".to_string(),
                    prefix: secrets::api_key_prefix(&secret),
                    key_hash: secrets::digest(&secret),
                    scopes,
                    stores: stores.map(|s| s.iter().map(|s| s.to_string()).collect()),
                },
                &Actor::system("test"),
                jiff::Timestamp::now(),
            )
            .await
            .expect("create test API key");
        let token = secret;
        TestClient {
            addr: self.addr,
            client: fresh_client(),
            token: Some(token),
        }
    }

    /// A client that sends no credentials at all (its own cookie jar, so it can sign in).
    pub fn anonymous(&self) -> TestClient {
        TestClient {
            addr: self.addr,
            client: fresh_client(),
            token: None,
        }
    }

    /// A staff account with [`TEST_PASSWORD`], created directly through the store.
    pub async fn create_user(&self, username: &str, role: Role) -> StaffUser {
        self.create_user_at(username, role, &[]).await
    }

    /// Like [`TestApp::create_user`], assigned to `stores` (ids): staff act only at their stores.
    pub async fn create_user_at(&self, username: &str, role: Role, stores: &[&str]) -> StaffUser {
        self.store
            .create_staff_user(
                NewStaffUser {
                    username: Username::parse(username).expect("test username"),
                    display_name: username.to_string(),
                    role,
                    password_hash: test_password_hash().await,
                    stores: stores.iter().map(|s| s.to_string()).collect(),
                },
                &Actor::system("test"),
                jiff::Timestamp::now(),
            )
            .await
            .expect("create test user")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.as_client().get(path).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.as_client().delete(path).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Response {
        self.as_client().post(path, body).await
    }

    /// A POST with extra headers (an `Idempotency-Key`, …).
    pub async fn post_with_headers(
        &self,
        path: &str,
        body: serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Response {
        self.as_client()
            .post_with_headers(path, body, headers)
            .await
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Response {
        self.as_client().patch(path, body).await
    }

    /// Posts a body as is, with its content type (multipart uploads, malformed bodies).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        self.as_client().post_raw(path, content_type, body).await
    }

    /// A GET whose body is not JSON (images): the raw response.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        let req = self.client.get(self.url(path));
        let req = match &self.token {
            Some(token) => req.bearer_auth(token),
            None => req,
        };
        req.send().await.expect("request")
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> Response {
        self.as_client().put(path, body).await
    }
}

fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Stores a new API key with `scopes` and returns its secret (for clients of separate server processes).
pub async fn create_key(store: &Store, name: &str, scopes: PermissionSet) -> String {
    let secret = secrets::new_api_key();
    store
        .create_api_key(
            NewApiKey {
                name: name.to_string(),
                prefix: secrets::api_key_prefix(&secret),
                key_hash: secrets::digest(&secret),
                scopes,
                stores: None,
            },
            &Actor::system("test"),
            jiff::Timestamp::now(),
        )
        .await
        .expect("create test API key");
    secret
}

/// A client of a [`TestApp`] with its own credentials (`token` is sent as a bearer token when set).
#[derive(Clone)]
pub struct TestClient {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub token: Option<String>,
}

impl TestClient {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    /// Sends any request (`method`, optional JSON body) with this client's credentials.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut req = self.authed(self.client.request(method, self.url(path)));
        if let Some(body) = body {
            req = req.json(&body);
        }
        Response::from(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(reqwest::Method::DELETE, path, None).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Response {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    /// A POST with extra headers (an `Idempotency-Key`, …).
    pub async fn post_with_headers(
        &self,
        path: &str,
        body: serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self.authed(self.client.post(self.url(path))).json(&body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Response::from(req.send().await.expect("request")).await
    }

    /// Posts a body as is, with its content type (multipart uploads, malformed bodies).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        Response::from(
            self.authed(self.client.post(self.url(path)))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Response {
        self.request(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> Response {
        self.request(reqwest::Method::PUT, path, Some(body)).await
    }
}

/// A response read in full: status plus JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Response {
    pub async fn from(res: reqwest::Response) -> Response {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        Response {
            status,
            body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The `error.code` of an error response.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Writes one test body twice: `mod name { sqlite, postgres }`, each with a fresh app.
/// The body receives `app: TestApp`. Start with `settings = EXPR;` to serve with other
/// [`canopy_web::Settings`] than the defaults.
#[macro_export]
macro_rules! both_engines {
    (settings = $settings:expr; $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                run($crate::TestApp::spawn_with($crate::Engine::Sqlite, $settings).await).await;
            }

            #[tokio::test]
            async fn postgres() {
                run($crate::TestApp::spawn_with($crate::Engine::Postgres, $settings).await).await;
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                run($crate::TestApp::spawn($crate::Engine::Sqlite).await).await;
            }

            #[tokio::test]
            async fn postgres() {
                run($crate::TestApp::spawn($crate::Engine::Postgres).await).await;
            }
        }
    };
}

/// Like [`both_engines!`] but the body receives only a fresh `store: Store` (no server).
#[macro_export]
macro_rules! both_stores {
    ($(#[$meta:meta])* async fn $name:ident($store:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($store: canopy_store::Store) $body

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::TestDb::create($crate::Engine::Sqlite).await;
                run(db.open().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                let db = $crate::TestDb::create($crate::Engine::Postgres).await;
                run(db.open().await).await;
            }
        }
    };
}
