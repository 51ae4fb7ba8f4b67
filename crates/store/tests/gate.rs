//! The gate against the calendar, on SQLite and PostgreSQL with an explicit clock: days are the
//! store's days (DST included, whatever the server's zone), and a customer whose type changes
//! during the day keeps the day's purchases.

use canopy_domain::{
    Actor, CustomerId, CustomerPatch, CustomerType, IdDocumentInput, MedicalCard, Region,
};
use canopy_limits::{EnforcementMode, RuleBook};
use canopy_orders::{
    HistoryScope, LicenceType, LineInput, Measures, ProductDraft, SalesChannel, StoreSettings,
};
use canopy_store::{CheckoutOutcome, CheckoutRequest, Store};
use canopy_testkit::both_stores;
use jiff::Timestamp;

fn clerk() -> Actor {
    Actor::system("register-1")
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

async fn shop(store: &Store, zone: &str, licence: LicenceType) -> canopy_domain::StoreId {
    let settings = StoreSettings {
        name: "Front Range".into(),
        licensee: "Green Co".into(),
        licence_type: licence,
        jurisdiction: "US-CO".parse().unwrap(),
        time_zone: zone.into(),
        enforcement: EnforcementMode::Block,
        history_scope: HistoryScope::Licensee,
    };
    let s = store
        .create_store(settings, &clerk(), at("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    let draft = ProductDraft::parse(
        "FLW-14",
        "Half ounce",
        "flower",
        Measures {
            net_weight_mg: Some(14_000),
            ..Measures::default()
        },
        9000,
    )
    .unwrap();
    store
        .save_product(draft, &clerk(), at("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    s.id
}

async fn adult(store: &Store) -> CustomerId {
    let draft = CustomerPatch {
        first_name: Some("Dana".into()),
        last_name: Some("Reyes".into()),
        date_of_birth: Some("1990-05-01".into()),
        id_document: Some(IdDocumentInput {
            kind: Some("drivers_license".into()),
            number: Some(format!("CO{}", uuid::Uuid::new_v4().simple())),
            jurisdiction: Some("CO".into()),
            expiry: Some("2099-01-01".into()),
        }),
        ..CustomerPatch::default()
    }
    .validate(Region::US, jiff::civil::date(2026, 1, 1))
    .unwrap();
    store
        .create_customer(draft, &clerk(), at("2026-01-01T00:00:00Z"))
        .await
        .unwrap()
        .id
}

/// Sells `quantity` half ounces at `now`; true when the order was placed.
async fn sell(
    store: &Store,
    shop: canopy_domain::StoreId,
    c: CustomerId,
    quantity: u32,
    now: &str,
) -> bool {
    let req = CheckoutRequest {
        customer_id: c,
        store_id: shop,
        channel: SalesChannel::InStore,
        lines: vec![LineInput {
            sku: Some("FLW-14".into()),
            quantity,
            ..LineInput::default()
        }],
        payments: vec![],
        loyalty_redeem_points: 0,
        limits_override: None,
        price_override: None,
        external_allotments: vec![],
        allotment_authority: canopy_orders::AllotmentAuthority::Local,
        external_ref: None,
        patient_id: None,
    };
    match store
        .checkout(&req, None, &clerk(), at(now), RuleBook::shared())
        .await
        .unwrap()
    {
        CheckoutOutcome::Placed { .. } => true,
        CheckoutOutcome::Refused(e) => {
            assert_eq!(
                e.reasons[0].code, "purchase_limit_exceeded",
                "{:?}",
                e.reasons
            );
            false
        }
        CheckoutOutcome::Replayed { .. } => panic!("no idempotency key was sent"),
    }
}

both_stores!(
    async fn the_spring_forward_day_is_one_store_day_of_23_hours(store) {
        let s = shop(&store, "America/Denver", LicenceType::AdultUse).await;
        let c = adult(&store).await;
        // 00:30 MST and 23:30 MDT on 8 March 2026 are 22 hours apart and the same store day.
        assert!(sell(&store, s, c, 2, "2026-03-08T00:30:00-07:00").await);
        assert!(!sell(&store, s, c, 1, "2026-03-08T23:30:00-06:00").await);
        // 00:10 on 9 March is a new day.
        assert!(sell(&store, s, c, 2, "2026-03-09T00:10:00-06:00").await);
    }
);

both_stores!(
    async fn the_fall_back_day_is_one_store_day_of_25_hours(store) {
        let s = shop(&store, "America/Denver", LicenceType::AdultUse).await;
        let c = adult(&store).await;
        assert!(sell(&store, s, c, 2, "2026-11-01T00:20:00-06:00").await);
        // 24 hours and 10 minutes later it is still 1 November in Denver.
        assert!(!sell(&store, s, c, 1, "2026-11-01T23:30:00-07:00").await);
    }
);

both_stores!(
    async fn days_are_the_stores_days_whatever_the_servers_zone(store) {
        // A Colorado licence, a store set to Honolulu (UTC−10): 10:00 and 23:00 on 14 March there
        // are two UTC days (20:00Z on the 14th, 09:00Z on the 15th) but one store day.
        let s = shop(&store, "Pacific/Honolulu", LicenceType::AdultUse).await;
        let c = adult(&store).await;
        assert!(sell(&store, s, c, 2, "2026-03-14T20:00:00Z").await);
        assert!(!sell(&store, s, c, 1, "2026-03-15T09:00:00Z").await);
        // 10:00 on the 15th in Honolulu is a new store day.
        assert!(sell(&store, s, c, 2, "2026-03-15T20:00:00Z").await);
    }
);

both_stores!(
    async fn a_customer_whose_type_changes_mid_day_keeps_the_days_purchases(store) {
        let s = shop(&store, "America/Denver", LicenceType::Both).await;
        let c = adult(&store).await;
        assert!(sell(&store, s, c, 2, "2026-03-14T10:00:00-06:00").await);
        // Registered as a patient at noon: medical buys 2 oz a day, and the morning's 28 g count.
        let mut draft = store.customer(c).await.unwrap().details;
        draft.customer_type = CustomerType::Medical;
        store
            .update_customer(c, draft, &clerk(), at("2026-03-14T12:00:00-06:00"))
            .await
            .unwrap();
        let card = MedicalCard {
            number: "MMJ-1".into(),
            issuing_state: "CO".into(),
            expiry: jiff::civil::date(2027, 1, 1),
            recommendation: None,
        };
        store
            .set_medical_card(c, card, &clerk(), at("2026-03-14T12:00:00-06:00"))
            .await
            .unwrap();
        assert!(sell(&store, s, c, 2, "2026-03-14T13:00:00-06:00").await);
        assert!(!sell(&store, s, c, 1, "2026-03-14T14:00:00-06:00").await);
    }
);
