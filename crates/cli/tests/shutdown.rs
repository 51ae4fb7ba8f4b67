//! `canopy serve` stops cleanly on SIGTERM: long-lived streams are cut after the grace period and the
//! process exits successfully. (It also keeps the ID image key where it is told to.)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use canopy_testkit::{Engine, TestDb};
use serde_json::json;

#[tokio::test]
async fn sigterm_stops_the_server_within_the_grace_period_even_with_a_stream_open() {
    let db = TestDb::create(Engine::Sqlite).await;
    let store = db.open().await;
    let key =
        canopy_testkit::create_key(&store, "register", canopy_domain::PermissionSet::all()).await;
    store.close().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let secrets = tempfile::tempdir().unwrap();
    let key_file = secrets.path().join("id-image.key");
    let mut child = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args([
            "serve",
            "--db",
            &db.url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("CANOPY_LOG", "warn")
        .env("CANOPY_SHUTDOWN_GRACE", "2")
        .env("CANOPY_ID_IMAGE_KEY_FILE", &key_file)
        .env("CANOPY_SMS_LOG", db.url.clone() + ".sms.log")
        .stdout(Stdio::null())
        .spawn()
        .expect("start canopy serve");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..400 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "server did not come up");
    assert!(
        key_file.exists(),
        "the ID image key is created where configured"
    );
    assert!(
        !std::path::Path::new(&format!("{}.id-image.key", db.url)).exists(),
        "and not beside the database"
    );

    let shop: serde_json::Value = client
        .post(format!("{base}/api/v1/stores"))
        .bearer_auth(&key)
        .json(&json!({"name": "Denver", "licence_type": "adult_use", "jurisdiction": "US-CO"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shop = shop["id"].as_str().unwrap();
    let mut stream = client
        .get(format!("{base}/api/v1/stores/{shop}/checkins/events"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    assert!(
        stream.chunk().await.unwrap().is_some(),
        "the stream sends the queue first"
    );

    let stopped_at = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let took = stopped_at.elapsed();
    assert!(status.success(), "canopy serve exited with {status}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "the open stream was cut after the 2 s grace period, not after {took:?}"
    );
    assert!(
        client.get(format!("{base}/healthz")).send().await.is_err(),
        "no longer listening"
    );
}
