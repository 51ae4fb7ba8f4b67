//! `canopy backup` copies a SQLite database while a server is writing to it, verifies the copy, and
//! `canopy restore` puts it back.

use std::time::Duration;

use canopy_store::Store;
use canopy_testkit::{Engine, TestDb};
use serde_json::json;

mod support;
use support::{Server, canopy, stderr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_is_consistent_and_restores() {
    let db = TestDb::create(Engine::Sqlite).await;
    let store = db.open().await;
    let key =
        canopy_testkit::create_key(&store, "register", canopy_domain::PermissionSet::all()).await;
    store.close().await;
    let server = Server::build(&db.url).arg("--no-workers").start().await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    // Customers keep arriving while the backup runs.
    let writer = tokio::spawn({
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        async move {
            for n in 0..60 {
                let res = client
                    .post(format!("{base}/api/v1/customers"))
                    .bearer_auth(&key)
                    .json(&json!({"first_name": "Ada", "last_name": format!("Number{n}"), "phone": format!("30355{n:05}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 201);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("canopy-backup.db");
    let backup = backup.to_str().unwrap();
    let out = canopy(&["backup", "--db", &db.url, "--to", backup]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("integrity check: ok"), "{printed}");
    writer.await.unwrap();
    let again = canopy(&["backup", "--db", &db.url, "--to", backup]);
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );

    drop(server);
    let restored = dir.path().join("restored.db");
    let restored = restored.to_str().unwrap();
    let out = canopy(&["restore", "--db", restored, "--from", backup]);
    assert!(out.status.success(), "{}", stderr(&out));
    let copy = Store::open(restored).await.unwrap();
    let in_copy = copy.count_customers().await.unwrap();
    copy.close().await;
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains(&format!("{in_copy} customers")),
        "{printed}"
    );

    let refused = canopy(&["restore", "--db", &db.url, "--from", backup]);
    assert!(
        !refused.status.success(),
        "a live database is replaced only with --replace"
    );
    let out = canopy(&["restore", "--db", &db.url, "--from", backup, "--replace"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let back = Store::open(&db.url).await.unwrap();
    assert_eq!(back.count_customers().await.unwrap(), in_copy);
    back.close().await;

    std::fs::write(dir.path().join("junk.db"), b"not a database at all").unwrap();
    let junk = canopy(&[
        "restore",
        "--db",
        restored,
        "--from",
        dir.path().join("junk.db").to_str().unwrap(),
        "--replace",
    ]);
    assert!(
        !junk.status.success(),
        "a file that is not a sound Canopy database is refused"
    );
}
