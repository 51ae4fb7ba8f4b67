//! Two `canopy serve` processes on one PostgreSQL database: a check-in made through one appears
//! on the other's live event stream (LISTEN/NOTIFY), and the SQLite variant through polling.

use std::time::Duration;

use canopy_testkit::{Engine, TestDb};
use serde_json::{Value, json};

mod support;
use support::Server;

async fn post(client: &reqwest::Client, key: &str, url: String, body: Value) -> Value {
    let res = client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.expect("json")
}

async fn next_queue_event(stream: &mut reqwest::Response) -> String {
    let mut buf = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("an event within 10 s")
            .expect("stream")
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event = buf[..end].to_string();
            buf = buf[end + 2..].to_string();
            if event.contains("event: queue") {
                return event;
            }
        }
    }
}

async fn a_check_in_on_one_server_reaches_the_other_servers_stream(engine: Engine) {
    let db = TestDb::create(engine).await;
    let store = db.open().await; // migrate once before two processes start
    let key =
        canopy_testkit::create_key(&store, "two servers", canopy_domain::PermissionSet::all())
            .await;
    store.close().await;
    let (a, b) = (Server::start(&db.url).await, Server::start(&db.url).await);
    let client = reqwest::Client::new();
    let store = post(
        &client,
        &key,
        format!("{}/api/v1/stores", a.base),
        json!({"name": "Denver", "licence_type": "adult_use", "jurisdiction": "US-CO"}),
    )
    .await;
    let store = store["id"].as_str().unwrap().to_string();
    let customer = post(&client, &key, format!("{}/api/v1/customers", a.base), json!({"first_name": "Kim", "last_name": "Ortiz",
        "date_of_birth": "1985-01-01", "id_document": {"number": "K1", "jurisdiction": "CO", "expiry": "2099-01-01"}})).await;
    let customer = customer["id"].as_str().unwrap().to_string();

    let mut stream = client
        .get(format!("{}/api/v1/stores/{store}/checkins/events", b.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200, "{:?}", stream.headers());
    let first = next_queue_event(&mut stream).await;
    assert!(first.contains("\"items\":[]"), "{first}");
    post(
        &client,
        &key,
        format!("{}/api/v1/stores/{store}/checkins", a.base),
        json!({"customer_id": customer}),
    )
    .await;

    let second = next_queue_event(&mut stream).await;
    assert!(
        second.contains(&customer) && second.contains("Kim O."),
        "{second}"
    );
}

#[tokio::test]
async fn postgres_servers_share_the_queue_through_listen_notify() {
    a_check_in_on_one_server_reaches_the_other_servers_stream(Engine::Postgres).await;
}

#[tokio::test]
async fn sqlite_servers_on_one_file_share_the_queue_by_polling() {
    a_check_in_on_one_server_reaches_the_other_servers_stream(Engine::Sqlite).await;
}
