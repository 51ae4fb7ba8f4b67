//! Test helpers shared by every integration test: a fresh database per test on SQLite or PostgreSQL,
//! and a real server on a random loopback port.
//!
//! PostgreSQL tests read the admin URL from `CANOPY_TEST_PG` (set by `scripts/test`). Without it they fail
//! under `CI=true` and are skipped with a message otherwise, so a quick local `cargo test` still works.

use std::net::SocketAddr;

use canopy_store::Store;
use canopy_web::{AppState, Settings};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database that exists for one test only.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A fresh, empty database, or `None` when PostgreSQL is not configured outside CI.
    pub async fn create(engine: Engine) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir.path().join("canopy.db").to_string_lossy().into_owned();
                Some(TestDb {
                    url,
                    _dir: Some(dir),
                })
            }
            Engine::Postgres => {
                let admin = match std::env::var("CANOPY_TEST_PG") {
                    Ok(url) if !url.is_empty() => url,
                    _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                        panic!(
                            "CANOPY_TEST_PG is not set: PostgreSQL tests cannot run (run them through scripts/test)"
                        )
                    }
                    _ => {
                        eprintln!(
                            "skipping: CANOPY_TEST_PG not set (scripts/test starts PostgreSQL)"
                        );
                        return None;
                    }
                };
                let name = format!("canopy_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to test PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Some(TestDb {
                    url: format!("{base}/{name}"),
                    _dir: None,
                })
            }
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url).await.expect("open test database")
    }
}

/// A running server with its own fresh database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    pub db: TestDb,
    pub client: reqwest::Client,
    /// Sent with every request made through the helpers (an API key once accounts exist).
    pub token: Option<String>,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        Self::spawn_with(engine, Settings::default()).await
    }

    pub async fn spawn_with(engine: Engine, settings: Settings) -> Option<TestApp> {
        let db = TestDb::create(engine).await?;
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
        Some(TestApp {
            addr,
            store,
            db,
            client,
            token: None,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        Response::from(
            self.authed(self.client.get(self.url(path)))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        Response::from(
            self.authed(self.client.delete(self.url(path)))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Response {
        Response::from(
            self.authed(self.client.post(self.url(path)))
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
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

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Response {
        Response::from(
            self.authed(self.client.patch(self.url(path)))
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
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
/// The body receives `app: TestApp`.
#[macro_export]
macro_rules! both_engines {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                if let Some(app) = $crate::TestApp::spawn($crate::Engine::Sqlite).await {
                    run(app).await;
                }
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::spawn($crate::Engine::Postgres).await {
                    run(app).await;
                }
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
                if let Some(db) = $crate::TestDb::create($crate::Engine::Sqlite).await {
                    run(db.open().await).await;
                }
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::TestDb::create($crate::Engine::Postgres).await {
                    run(db.open().await).await;
                }
            }
        }
    };
}
