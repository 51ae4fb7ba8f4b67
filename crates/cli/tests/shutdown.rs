//! `canopy serve` stops cleanly on SIGTERM: long-lived streams are cut after the grace period and the
//! process exits successfully. (It also keeps the ID image key where it is told to.)

use std::time::{Duration, Instant};

use canopy_testkit::{Engine, TestDb};
use serde_json::json;

mod support;
use support::Server;

#[tokio::test]
async fn sigterm_stops_the_server_within_the_grace_period_even_with_a_stream_open() {
    let db = TestDb::create(Engine::Sqlite).await;
    let store = db.open().await;
    let key =
        canopy_testkit::create_key(&store, "register", canopy_domain::PermissionSet::all()).await;
    store.close().await;
    let secrets = tempfile::tempdir().unwrap();
    let key_file = secrets.path().join("id-image.key");
    let server = Server::build(&db.url)
        .env("CANOPY_SHUTDOWN_GRACE", "2")
        .env("CANOPY_ID_IMAGE_KEY_FILE", &key_file)
        .env("CANOPY_SMS_LOG", db.url.clone() + ".sms.log")
        .start()
        .await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
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
    let status = server.terminate().await;
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
