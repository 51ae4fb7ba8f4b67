//! A second process writing the same SQLite file (a CLI command run beside the live server) makes
//! checkouts wait for the write lock, never fail: every checkout under load is placed or refused by the
//! gate, none answers 500 (or 503).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use canopy_orders::LicenceType;
use canopy_store::Store;
use canopy_testkit::{Engine, TestDb};

mod support;
use support::{Server, canopy, stderr};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkouts_wait_for_a_cli_writer_on_the_same_sqlite_file() {
    let db = TestDb::create(Engine::Sqlite).await;
    let seeded = canopy(&[
        "demo",
        "--db",
        &db.url,
        "--customers",
        "60",
        "--orders",
        "0",
    ]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let key = canopy(&[
        "apikey", "create", "--db", &db.url, "--name", "register", "--scopes", "all",
    ]);
    assert!(key.status.success(), "{}", stderr(&key));
    let token = String::from_utf8_lossy(&key.stdout).trim().to_string();

    let store = Store::open(&db.url).await.unwrap();
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let buyers = store.customers_with_valid_id(today, 1000).await.unwrap();
    let shop = store
        .list_stores()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.settings.licence_type == LicenceType::AdultUse)
        .expect("an adult-use store")
        .id;
    let skus: Vec<String> = store
        .list_products(false)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.draft.measures.net_weight_mg.is_some_and(|w| w <= 3500))
        .map(|p| p.draft.sku)
        .collect();
    store.close().await;
    assert!(!buyers.is_empty() && !skus.is_empty());

    let client = reqwest::Client::new();
    let server = Server::start(&db.url).await;
    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (client, base, token, done) = (
                client.clone(),
                server.base.clone(),
                token.clone(),
                done.clone(),
            );
            let (buyers, skus) = (buyers.clone(), skus.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut i = w;
                while !done.load(Ordering::Relaxed) {
                    let body = serde_json::json!({
                        "customer_id": buyers[i % buyers.len()],
                        "store_id": shop,
                        "lines": [{"sku": skus[i % skus.len()], "quantity": 1}],
                    });
                    let status = client
                        .post(format!("{base}/api/v1/checkout"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                        .json(&body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    statuses.push(status);
                    i += 7;
                }
                statuses
            })
        })
        .collect();

    // The CLI writer: a new API key per run, each its own process and its own write transaction.
    let db_url = db.url.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let mut failures = Vec::new();
        for n in 0..20 {
            let out = canopy(&[
                "apikey",
                "create",
                "--db",
                &db_url,
                "--name",
                &format!("till {n}"),
                "--scopes",
                "customers:read",
            ]);
            if !out.status.success() {
                failures.push(stderr(&out));
            }
        }
        failures
    });
    let cli_failures = writer.await.unwrap();
    done.store(true, Ordering::Relaxed);
    let mut statuses = Vec::new();
    for w in workers {
        statuses.extend(w.await.unwrap());
    }
    drop(server);

    assert!(
        cli_failures.is_empty(),
        "CLI writes failed: {cli_failures:?}"
    );
    let placed = statuses.iter().filter(|&&s| s == 201).count();
    let failed: Vec<u16> = statuses
        .iter()
        .copied()
        .filter(|&s| s != 201 && s != 422)
        .collect();
    assert!(placed > 0, "no checkout was placed: {statuses:?}");
    assert!(
        failed.is_empty(),
        "{} of {} checkouts failed beside a CLI writer: {failed:?}",
        failed.len(),
        statuses.len()
    );
}
