//! The workers against real local HTTP servers: a Twilio-style SMS API and a partner's webhook receiver,
//! each started on 127.0.0.1:0 inside the test, recording what arrives and failing on purpose when told.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use canopy_domain::{Actor, CustomerId, CustomerPatch, EventKind, OutboundPolicy, Region};
use canopy_messaging::{
    Backoff, SmsProviderConfig, SmsWorker, TwilioConfig, WebhookWorker, WorkerConfig,
};
use canopy_store::{DeliveryFilter, DeliveryState, NewWebhookEndpoint, SmsFilter, SmsState, Store};
use canopy_testkit::both_stores;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::Sha256;

/// One request the fake provider received: its Authorization header and form fields.
type Received = (Option<String>, Vec<(String, String)>);

/// A fake SMS provider: answers 500 to the first `fail_first` requests, then 201 like Twilio.
#[derive(Clone, Default)]
struct FakeSms {
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
    /// Answer with a permanent refusal (Twilio 21211 invalid number) instead.
    refuse: bool,
}

async fn fake_messages(
    State(fake): State<FakeSms>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, Json<serde_json::Value>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let n = {
        let mut received = fake.received.lock().unwrap();
        received.push((auth, form));
        received.len()
    };
    if fake.refuse {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                serde_json::json!({"code": 21211, "message": "The 'To' number is not a valid phone number."}),
            ),
        );
    }
    if fake
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({"code": 20500, "message": "Internal Server Error"})),
        );
    }
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"sid": format!("SM{n:032}"), "status": "queued"})),
    )
}

async fn start(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

async fn start_fake_sms(fake: FakeSms) -> SocketAddr {
    start(
        Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(fake_messages),
            )
            .with_state(fake),
    )
    .await
}

fn fast(config: WorkerConfig) -> WorkerConfig {
    WorkerConfig {
        sms_backoff: Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_millis(100),
            max_attempts: 5,
        },
        webhook_backoff: Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_millis(100),
            max_attempts: 5,
        },
        // The fake receivers listen on loopback, which only an operator's allow-list opens.
        webhook_policy: Arc::new(OutboundPolicy::parse("127.0.0.1, ::1").unwrap()),
        ..config
    }
}

fn twilio(addr: SocketAddr) -> WorkerConfig {
    fast(WorkerConfig::new(SmsProviderConfig::Twilio(TwilioConfig {
        account_sid: "AC123".into(),
        auth_token: "token".into(),
        from: "+15005550006".into(),
        base_url: format!("http://{addr}"),
    })))
}

async fn customer(store: &Store, phone: &str) -> CustomerId {
    let draft = CustomerPatch {
        first_name: Some("Sarah".into()),
        last_name: Some("Miller".into()),
        phone: Some(phone.into()),
        ..Default::default()
    }
    .validate(Region::US, jiff::civil::date(2026, 11, 23))
    .unwrap();
    store
        .create_customer(draft, &Actor::system("test"), Timestamp::now())
        .await
        .unwrap()
        .id
}

/// Runs `step` until `done` holds, for at most 10 seconds.
async fn until<F, Fut, D, DFut>(step: F, done: D)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
    D: Fn() -> DFut,
    DFut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "timed out");
        step().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn messages(store: &Store) -> Vec<canopy_store::SmsMessage> {
    store
        .sms_messages(&SmsFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
}

both_stores!(
    async fn a_status_change_sends_exactly_one_sms_even_when_the_provider_fails_twice_first(store) {
        let fake = FakeSms { fail_first: Arc::new(AtomicUsize::new(2)), ..Default::default() };
        let addr = start_fake_sms(fake.clone()).await;
        let id = customer(&store, "(303) 555-0142").await;
        store.queue_order_status_sms("order-7", "A-1042", id, "ready_for_pickup", Timestamp::now()).await.unwrap();
        // Two workers, as two server processes sharing one database would run.
        let a = SmsWorker::new(store.clone(), twilio(addr)).unwrap();
        let b = SmsWorker::new(store.clone(), twilio(addr)).unwrap();

        until(
            || async {
                let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
                ra.unwrap();
                rb.unwrap();
            },
            || async { messages(&store).await[0].state == SmsState::Sent },
        )
        .await;
        for _ in 0..5 {
            a.run_once().await.unwrap();
            b.run_once().await.unwrap();
        }

        let received = fake.received.lock().unwrap().clone();
        assert_eq!(received.len(), 3, "two failures, then one success, then nothing");
        let (auth, form) = &received[2];
        assert_eq!(auth.as_deref(), Some("Basic QUMxMjM6dG9rZW4="), "HTTP basic auth with SID:token");
        let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(field("To"), Some("+13035550142"));
        assert_eq!(field("From"), Some("+15005550006"));
        assert!(field("Body").unwrap().contains("A-1042 is ready for pickup"));
        let sent = &messages(&store).await[0];
        assert_eq!(sent.attempts, 3);
        assert_eq!(sent.provider_message_id.as_deref(), Some("SM00000000000000000000000000000003"));
    }
);

both_stores!(
    async fn a_permanent_refusal_is_not_retried(store) {
        let fake = FakeSms { refuse: true, ..Default::default() };
        let addr = start_fake_sms(fake.clone()).await;
        let id = customer(&store, "303-555-0142").await;
        store.queue_order_status_sms("o1", "1", id, "received", Timestamp::now()).await.unwrap();
        let worker = SmsWorker::new(store.clone(), twilio(addr)).unwrap();

        for _ in 0..5 {
            worker.run_once().await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
        }

        assert_eq!(fake.received.lock().unwrap().len(), 1);
        let msg = &messages(&store).await[0];
        assert_eq!(msg.state, SmsState::Failed);
        assert!(msg.last_error.as_deref().unwrap().contains("21211"), "{:?}", msg.last_error);
    }
);

both_stores!(
    async fn stop_after_queueing_means_the_message_is_skipped_not_sent(store) {
        let fake = FakeSms::default();
        let addr = start_fake_sms(fake.clone()).await;
        let id = customer(&store, "303-555-0142").await;
        store.queue_order_status_sms("o1", "1", id, "received", Timestamp::now()).await.unwrap();
        let phone = canopy_domain::PhoneNumber::parse("3035550142", Region::US).unwrap();
        store.apply_sms_keyword(&phone, canopy_domain::SmsKeyword::OptOut, "STOP", Timestamp::now()).await.unwrap();

        SmsWorker::new(store.clone(), twilio(addr)).unwrap().run_once().await.unwrap();

        assert!(fake.received.lock().unwrap().is_empty());
        assert_eq!(messages(&store).await[0].state, SmsState::Skipped);
    }
);

both_stores!(
    async fn the_log_provider_appends_each_message_to_its_file(store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("canopy-sms.log");
        let id = customer(&store, "303-555-0142").await;
        store.queue_order_status_sms("o1", "A-1", id, "out_for_delivery", Timestamp::now()).await.unwrap();
        let config = WorkerConfig::new(SmsProviderConfig::Log { path: path.clone() });

        SmsWorker::new(store.clone(), config).unwrap().run_once().await.unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["to"], "+13035550142");
        assert!(line["body"].as_str().unwrap().contains("out for delivery"));
        assert_eq!(messages(&store).await[0].state, SmsState::Sent);
    }
);

/// A partner's receiver that checks the signature exactly as docs/webhooks.md tells partners to.
#[derive(Clone)]
struct Receiver {
    secret: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<(serde_json::Value, HeaderMap, bool)>>>,
    fail_first: Arc<AtomicUsize>,
}

fn verify_like_the_docs(secret: &str, header: &str, body: &[u8]) -> bool {
    // 1. Split "t=<unix>,v1=<hex>"; 2. HMAC-SHA256 with the secret over "<t>.<raw body>";
    // 3. compare in constant time; 4. reject timestamps more than 5 minutes away.
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_string()),
            Some(("v1", value)) => v1.push(value.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let fresh = (Timestamp::now().as_second() - t.parse::<i64>().unwrap_or(0)).abs() <= 300;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    fresh && v1.contains(&expected)
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = headers
        .get("canopy-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let secret = r.secret.lock().unwrap().clone();
    let valid = verify_like_the_docs(&secret, header, &body);
    let json = serde_json::from_slice(&body).unwrap_or_default();
    r.received.lock().unwrap().push((json, headers, valid));
    if r.fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if valid {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

both_stores!(
    async fn a_webhook_delivery_is_signed_retried_logged_and_replayable(store) {
        let receiver = Receiver {
            secret: Arc::new(Mutex::new(String::new())),
            received: Arc::default(),
            fail_first: Arc::new(AtomicUsize::new(1)),
        };
        let addr = start(Router::new().route("/hooks", post(receive)).with_state(receiver.clone())).await;
        let (endpoint, secret) = store
            .create_webhook_endpoint(
                NewWebhookEndpoint {
                    url: format!("http://{addr}/hooks"),
                    description: Some("CRM".into()),
                    events: BTreeSet::from([EventKind::CustomerCreated]),
                    secret: None,
                },
                &Actor::system("test"),
                Timestamp::now(),
            )
            .await
            .unwrap();
        *receiver.secret.lock().unwrap() = secret;
        let id = customer(&store, "303-555-0142").await;
        let config = fast(WorkerConfig::new(SmsProviderConfig::Log { path: "/dev/null".into() }));
        let worker = WebhookWorker::new(store.clone(), "test-worker".into(), config).unwrap();
        let deliveries = || async {
            store
                .webhook_deliveries(&DeliveryFilter { endpoint_id: Some(endpoint.id), limit: 10, ..Default::default() })
                .await
                .unwrap()
        };

        until(|| async { worker.run_once().await.unwrap(); }, || async { deliveries().await[0].state == DeliveryState::Delivered }).await;

        let received = receiver.received.lock().unwrap().clone();
        assert_eq!(received.len(), 2, "one 503, then delivered");
        assert!(received.iter().all(|(_, _, valid)| *valid), "every attempt carries a valid signature");
        let (body, headers, _) = &received[1];
        assert_eq!(body["type"], "customer.created");
        assert_eq!(body["data"]["customer"]["id"], id.to_string());
        assert_eq!(headers["canopy-event-type"], "customer.created");
        assert_eq!(headers["canopy-event-id"].to_str().unwrap(), body["id"].as_str().unwrap());
        let delivered = deliveries().await[0].clone();
        let (_, attempts) = store.webhook_delivery(delivered.id).await.unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].status_code, Some(503));
        assert_eq!(attempts[1].status_code, Some(204));

        let replay = store.replay_webhook_delivery(delivered.id, &Actor::system("admin"), Timestamp::now()).await.unwrap();
        until(|| async { worker.run_once().await.unwrap(); }, || async { receiver.received.lock().unwrap().len() == 3 }).await;

        let received = receiver.received.lock().unwrap().clone();
        assert_eq!(received[2].0["id"], received[1].0["id"], "a replay carries the same event id");
        assert!(received[2].2);
        assert_eq!(replay.replay_of, Some(delivered.id));
    }
);

async fn endpoint_for(store: &Store, url: String) -> canopy_domain::WebhookEndpointId {
    store
        .create_webhook_endpoint(
            NewWebhookEndpoint {
                url,
                description: None,
                events: BTreeSet::from([EventKind::CustomerCreated]),
                secret: None,
            },
            &Actor::system("test"),
            Timestamp::now(),
        )
        .await
        .unwrap()
        .0
        .id
}

both_stores!(
    async fn webhooks_never_reach_loopback_or_private_addresses_unless_allowed(store) {
        let receiver = Receiver {
            secret: Arc::new(Mutex::new(String::new())),
            received: Arc::default(),
            fail_first: Arc::new(AtomicUsize::new(0)),
        };
        let addr = start(Router::new().route("/hooks", post(receive)).with_state(receiver.clone())).await;
        // An IP literal (never looked up) and a name that resolves to loopback (checked after DNS).
        let literal = endpoint_for(&store, format!("http://{addr}/hooks")).await;
        let named = endpoint_for(&store, format!("http://localhost:{}/hooks", addr.port())).await;
        customer(&store, "303-555-0142").await;
        let config = WorkerConfig {
            webhook_policy: Arc::new(OutboundPolicy::public_only()),
            ..fast(WorkerConfig::new(SmsProviderConfig::Log { path: "/dev/null".into() }))
        };
        let worker = WebhookWorker::new(store.clone(), "test-worker".into(), config).unwrap();
        worker.run_once().await.unwrap();

        assert!(receiver.received.lock().unwrap().is_empty(), "nothing was sent to loopback");
        for endpoint in [literal, named] {
            let listed = store
                .webhook_deliveries(&DeliveryFilter { endpoint_id: Some(endpoint), limit: 10, ..Default::default() })
                .await
                .unwrap();
            let (_, attempts) = store.webhook_delivery(listed[0].id).await.unwrap();
            assert_eq!(attempts.len(), 1);
            assert_eq!(attempts[0].status_code, None);
            assert!(
                attempts[0].error.as_deref().unwrap().contains("not allowed"),
                "{:?}",
                attempts[0].error
            );
        }

        // The same endpoints with loopback on the operator's allow-list are delivered.
        let allowed = WebhookWorker::new(
            store.clone(),
            "test-worker-2".into(),
            fast(WorkerConfig::new(SmsProviderConfig::Log { path: "/dev/null".into() })),
        )
        .unwrap();
        until(|| async { allowed.run_once().await.unwrap(); }, || async { receiver.received.lock().unwrap().len() == 2 }).await;
    }
);

async fn leaky_error(body: axum::body::Bytes) -> (StatusCode, String) {
    let _ = body;
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "redis_version:7.2.4 secret-internal-banner".into(),
    )
}

both_stores!(
    async fn a_failed_delivery_records_the_status_but_never_the_response_body(store) {
        let addr = start(Router::new().route("/hooks", post(leaky_error))).await;
        let endpoint = endpoint_for(&store, format!("http://{addr}/hooks")).await;
        customer(&store, "303-555-0142").await;
        let config = fast(WorkerConfig::new(SmsProviderConfig::Log { path: "/dev/null".into() }));
        let worker = WebhookWorker::new(store.clone(), "test-worker".into(), config).unwrap();
        worker.run_once().await.unwrap();
        let listed = store
            .webhook_deliveries(&DeliveryFilter { endpoint_id: Some(endpoint), limit: 10, ..Default::default() })
            .await
            .unwrap();
        let (delivery, attempts) = store.webhook_delivery(listed[0].id).await.unwrap();
        assert_eq!(attempts[0].status_code, Some(500));
        let error = attempts[0].error.clone().unwrap();
        assert!(!error.contains("secret-internal-banner"), "{error}");
        assert!(!delivery.last_error.unwrap_or_default().contains("secret-internal-banner"));
    }
);
