//! The consent ledger, the SMS outbox and the webhook outbox at the storage level, on both engines.

use std::collections::BTreeSet;

use canopy_domain::{
    Actor, ConsentChange, ConsentChannel, ConsentPurpose, ConsentSource, ConsentStatus, CustomerId,
    CustomerPatch, EventKind, PhoneNumber, Region, SmsKeyword,
};
use canopy_store::{DeliveryFilter, NewWebhookEndpoint, SmsFilter, SmsOutcome, SmsState, Store};
use canopy_testkit::both_stores;
use jiff::{SignedDuration, Timestamp};

fn now() -> Timestamp {
    "2026-11-23T17:00:00Z".parse().unwrap()
}

fn staff() -> Actor {
    Actor::system("test")
}

async fn customer(store: &Store, phone: Option<&str>) -> CustomerId {
    let draft = CustomerPatch {
        first_name: Some("Sarah".into()),
        last_name: Some("Miller".into()),
        phone: phone.map(str::to_string),
        ..Default::default()
    }
    .validate(Region::US, jiff::civil::date(2026, 11, 23))
    .unwrap();
    store
        .create_customer(draft, &staff(), now())
        .await
        .unwrap()
        .id
}

fn change(purpose: ConsentPurpose, status: ConsentStatus) -> ConsentChange {
    ConsentChange::new(
        ConsentChannel::Sms,
        purpose,
        status,
        ConsentSource::Pos,
        Some("sms-v1".into()),
    )
    .unwrap()
}

both_stores!(
    async fn stop_revokes_sms_marketing_and_transactional_for_the_phone_at_once(store) {
        let id = customer(&store, Some("303-555-0142")).await;
        store
            .record_consent(id, &[change(ConsentPurpose::Marketing, ConsentStatus::Granted)], &staff(), now())
            .await
            .unwrap();
        let phone = PhoneNumber::parse("+13035550142", Region::US).unwrap();

        let outcome = store.apply_sms_keyword(&phone, SmsKeyword::OptOut, "Stop", now()).await.unwrap();

        assert_eq!(outcome.customers, vec![id]);
        let states = canopy_domain::consent::current(&store.consent_entries(id).await.unwrap());
        for s in states.iter().filter(|s| s.channel == ConsentChannel::Sms) {
            assert_eq!(s.status, Some(ConsentStatus::Revoked), "{:?}", s.purpose);
            assert!(!s.allowed);
            let latest = s.latest.as_ref().unwrap();
            assert_eq!(latest.change.source, ConsentSource::SmsKeyword);
            assert_eq!(latest.change.evidence.as_deref(), Some("Stop"));
        }
        assert!(!store.transactional_sms_allowed(id).await.unwrap());
    }
);

both_stores!(
    async fn start_restores_transactional_but_not_marketing(store) {
        let id = customer(&store, Some("303-555-0142")).await;
        let phone = PhoneNumber::parse("3035550142", Region::US).unwrap();
        store.apply_sms_keyword(&phone, SmsKeyword::OptOut, "STOP", now()).await.unwrap();

        store.apply_sms_keyword(&phone, SmsKeyword::OptIn, "START", now()).await.unwrap();

        let states = canopy_domain::consent::current(&store.consent_entries(id).await.unwrap());
        let sms = |p| states.iter().find(|s| s.channel == ConsentChannel::Sms && s.purpose == p).unwrap();
        assert!(sms(ConsentPurpose::Transactional).allowed);
        assert!(!sms(ConsentPurpose::Marketing).allowed);
    }
);

both_stores!(
    async fn a_status_change_queues_one_message_however_often_it_is_repeated(store) {
        let id = customer(&store, Some("303-555-0142")).await;

        let first = store.queue_order_status_sms("order-1", "A-1042", id, "ready_for_pickup", now()).await.unwrap();
        let again = store.queue_order_status_sms("order-1", "A-1042", id, "ready_for_pickup", now()).await.unwrap();
        let silent = store.queue_order_status_sms("order-1", "A-1042", id, "completed", now()).await.unwrap();

        assert!(first.is_some());
        assert_eq!((again, silent), (None, None));
        let queued = store.sms_messages(&SmsFilter { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].to, "+13035550142");
        assert!(queued[0].body.contains("Sarah") && queued[0].body.contains("A-1042"), "{}", queued[0].body);
    }
);

both_stores!(
    async fn no_message_is_queued_without_a_phone_or_after_transactional_consent_is_revoked(store) {
        let no_phone = customer(&store, None).await;
        let revoked = customer(&store, Some("303-555-0199")).await;
        store
            .record_consent(revoked, &[change(ConsentPurpose::Transactional, ConsentStatus::Revoked)], &staff(), now())
            .await
            .unwrap();

        assert_eq!(store.queue_order_status_sms("o1", "1", no_phone, "received", now()).await.unwrap(), None);
        assert_eq!(store.queue_order_status_sms("o2", "2", revoked, "received", now()).await.unwrap(), None);
    }
);

both_stores!(
    async fn a_leased_message_is_not_claimed_by_a_second_worker_until_the_lease_expires(store) {
        let id = customer(&store, Some("303-555-0142")).await;
        let msg = store.queue_order_status_sms("o1", "1", id, "received", now()).await.unwrap().unwrap();
        let lease = SignedDuration::from_secs(60);

        let a = store.claim_due_sms("worker-a", now(), lease, 10).await.unwrap();
        let b = store.claim_due_sms("worker-b", now(), lease, 10).await.unwrap();
        let late = now() + SignedDuration::from_secs(61);
        let b_later = store.claim_due_sms("worker-b", late, lease, 10).await.unwrap();

        assert_eq!(a.len(), 1);
        assert!(b.is_empty());
        assert_eq!(b_later.len(), 1, "an expired lease is claimable again");
        assert_eq!(b_later[0].attempts, 2);
        let sent = SmsOutcome::Sent { provider_message_id: Some("SM1".into()) };
        assert!(!store.finish_sms(msg, "worker-a", &sent, late).await.unwrap(), "worker-a lost its lease");
        assert!(store.finish_sms(msg, "worker-b", &sent, late).await.unwrap());
        let done = store.sms_messages(&SmsFilter { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(done[0].state, SmsState::Sent);
        assert!(store.claim_due_sms("worker-c", late + SignedDuration::from_hours(1), lease, 10).await.unwrap().is_empty());
    }
);

both_stores!(
    async fn customer_changes_reach_the_outbox_only_for_subscribed_endpoints(store) {
        let (endpoint, secret) = store
            .create_webhook_endpoint(
                NewWebhookEndpoint {
                    url: "http://127.0.0.1:9/hook".into(),
                    description: None,
                    events: BTreeSet::from([EventKind::CustomerBanned, EventKind::CustomerCreated]),
                    secret: None,
                },
                &staff(),
                now(),
            )
            .await
            .unwrap();
        assert!(secret.starts_with("whsec_"));

        let id = customer(&store, Some("303-555-0142")).await;
        let draft = store.customer(id).await.unwrap().details;
        store.update_customer(id, draft, &staff(), now()).await.unwrap();

        let deliveries = store
            .webhook_deliveries(&DeliveryFilter { endpoint_id: Some(endpoint.id), limit: 10, ..Default::default() })
            .await
            .unwrap();
        let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
        assert_eq!(types, vec!["customer.created"], "customer.updated is not subscribed");
        let due = store.claim_due_webhook_deliveries("w", now(), SignedDuration::from_secs(60), 10).await.unwrap();
        let payload: serde_json::Value = serde_json::from_str(&due[0].payload).unwrap();
        assert_eq!(payload["type"], "customer.created");
        assert_eq!(payload["data"]["customer"]["id"], id.to_string());
        assert_eq!(due[0].secret, secret);
    }
);
