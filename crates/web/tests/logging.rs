//! The request log at `debug`: route templates, never URLs with search text or tokens. Its own test
//! binary, since it installs a log subscriber and tracing's per-callsite caches are process-wide.

use std::sync::Arc;

use canopy_testkit::TestApp;
use canopy_web::Settings;
use serde_json::json;

async fn create_customer(app: &TestApp, phone: &str) -> String {
    let res = app
        .post(
            "/api/v1/customers",
            json!({"first_name": "Dana", "last_name": "Reyes", "phone": phone}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

/// What the request log says, captured while `work` runs on this thread's runtime.
async fn logged_while<F: std::future::Future<Output = ()>>(work: F) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    work.await;
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn debug_logs_name_routes_never_search_text_or_tokens() {
    let settings = Settings {
        sms_inbound_token: Some("s3cret-inbound-token".into()),
        ..Settings::default()
    };
    // The server runs on this test's single-threaded runtime, so it logs to the subscriber set here.
    let log = logged_while(async {
        let app = TestApp::spawn_with(canopy_testkit::Engine::Sqlite, settings).await;
        let id = create_customer(&app, "3035550175").await;
        assert_eq!(
            app.get("/api/v1/customers?q=Zebediah%20Quartermaine")
                .await
                .status,
            200
        );
        assert_eq!(
            app.get(&format!("/api/v1/customers/{id}")).await.status,
            200
        );
        app.anonymous()
            .client
            .post(app.url("/api/v1/sms/inbound?token=s3cret-inbound-token"))
            .form(&[
                ("From", "+13035550175"),
                ("Body", "STOP"),
                ("MessageSid", "SM1"),
            ])
            .send()
            .await
            .unwrap();
    })
    .await;
    assert!(
        log.contains("/api/v1/customers/{id}"),
        "route templates are logged: {log}"
    );
    assert!(!log.contains("Zebediah"), "search text leaked into the log");
    assert!(
        !log.contains("s3cret-inbound-token"),
        "the SMS token leaked into the log"
    );
}
