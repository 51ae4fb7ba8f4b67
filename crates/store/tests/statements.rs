//! What one checkout costs the database, counted from sqlx's statement log on both engines: a sale that
//! redeems points and earns points (in store, so complete at once) reads the customer once, the loyalty
//! program once, the customer's points lots once, and never reads back the order it has just written.
//!
//! sqlx logs every statement it executes (target `sqlx::query`); a global subscriber counts them. The
//! engines run one after the other in this one test so no other test's statements are counted.

use std::sync::{Arc, Mutex};

use canopy_domain::{Actor, CustomerId, CustomerPatch, IdDocumentInput, Region};
use canopy_limits::{EnforcementMode, RuleBook};
use canopy_orders::{
    HistoryScope, LicenceType, LineInput, Measures, ProductDraft, SalesChannel, StoreSettings,
};
use canopy_store::{CheckoutOutcome, CheckoutRequest, Store};
use canopy_testkit::{Engine, TestDb};
use jiff::Timestamp;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

/// Every statement sqlx logged while recording was on.
#[derive(Clone, Default)]
struct Statements {
    recording: Arc<Mutex<Option<Vec<String>>>>,
}

impl Statements {
    fn start(&self) {
        *self.recording.lock().unwrap() = Some(Vec::new());
    }

    fn stop(&self) -> Vec<String> {
        self.recording.lock().unwrap().take().unwrap_or_default()
    }
}

/// The statement's text: sqlx puts the whole SQL in `db.statement` when it shortens the `summary`.
#[derive(Default)]
struct Text {
    summary: String,
    statement: String,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.statement = value.trim().to_string(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" && self.summary.is_empty() {
            self.summary = format!("{value:?}").trim_matches('"').to_string();
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        let sql = if text.statement.is_empty() {
            text.summary
        } else {
            text.statement
        };
        if let Some(list) = self.recording.lock().unwrap().as_mut() {
            list.push(sql.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
}

fn clerk() -> Actor {
    Actor::system("register-1")
}

fn now() -> Timestamp {
    "2026-03-02T18:00:00Z".parse().unwrap()
}

async fn shop(store: &Store) -> canopy_domain::StoreId {
    let settings = StoreSettings {
        name: "Front Range".into(),
        licensee: "Green Co".into(),
        licence_type: LicenceType::AdultUse,
        jurisdiction: "US-CO".parse().unwrap(),
        time_zone: "America/Denver".into(),
        enforcement: EnforcementMode::Block,
        history_scope: HistoryScope::Licensee,
    };
    let s = store.create_store(settings, &clerk(), now()).await.unwrap();
    let draft = ProductDraft::parse(
        "FLW-3",
        "Eighth",
        "flower",
        Measures {
            net_weight_mg: Some(3_500),
            ..Measures::default()
        },
        4000,
    )
    .unwrap();
    store.save_product(draft, &clerk(), now()).await.unwrap();
    s.id
}

async fn member(store: &Store, n: u32) -> CustomerId {
    let draft = CustomerPatch {
        first_name: Some("Dana".into()),
        last_name: Some("Reyes".into()),
        phone: Some(format!("+1303555{n:04}")),
        date_of_birth: Some("1990-05-01".into()),
        id_document: Some(IdDocumentInput {
            kind: Some("drivers_license".into()),
            number: Some(format!("CO12345{n:04}")),
            jurisdiction: Some("CO".into()),
            expiry: Some("2099-01-01".into()),
        }),
        ..CustomerPatch::default()
    }
    .validate(Region::US, jiff::civil::date(2026, 1, 1))
    .unwrap();
    let c = store
        .create_customer(draft, &clerk(), now())
        .await
        .unwrap()
        .id;
    store
        .adjust_loyalty_points(&clerk(), c, 500, "welcome", now())
        .await
        .unwrap();
    c
}

/// A checkout that redeems 100 points and, being in store, completes and earns at once.
fn redeeming_sale(customer: CustomerId, shop: canopy_domain::StoreId) -> CheckoutRequest {
    CheckoutRequest {
        customer_id: customer,
        store_id: shop,
        channel: SalesChannel::InStore,
        lines: vec![LineInput {
            sku: Some("FLW-3".into()),
            quantity: 1,
            ..LineInput::default()
        }],
        payments: vec![],
        loyalty_redeem_points: 100,
        limits_override: None,
        price_override: None,
        external_allotments: vec![],
        allotment_authority: canopy_orders::AllotmentAuthority::Local,
        external_ref: None,
        patient_id: None,
    }
}

fn count(statements: &[String], pattern: &str) -> usize {
    statements.iter().filter(|s| s.contains(pattern)).count()
}

/// The statements of one redeeming, earning checkout on `engine`.
async fn one_checkout(engine: Engine, log: &Statements) -> Vec<String> {
    let db = TestDb::create(engine).await;
    let store = db.open().await;
    let s = shop(&store).await;
    let c = member(&store, 1).await;
    // A first sale warms what is cached per process, as on a register that has been open a while.
    let warm = member(&store, 2).await;
    store
        .checkout(
            &redeeming_sale(warm, s),
            None,
            &clerk(),
            now(),
            RuleBook::shared(),
        )
        .await
        .unwrap();
    log.start();
    let outcome = store
        .checkout(
            &redeeming_sale(c, s),
            None,
            &clerk(),
            now(),
            RuleBook::shared(),
        )
        .await
        .unwrap();
    let statements = log.stop();
    let CheckoutOutcome::Placed { response, .. } = outcome else {
        panic!("the sale was not placed: {outcome:?}");
    };
    let receipt: serde_json::Value = serde_json::from_str(&response).unwrap();
    assert_eq!(receipt["loyalty"]["redeemed_points"], 100);
    assert!(receipt["loyalty"]["earned_points"].as_i64().unwrap() > 0);
    store.close().await;
    statements
}

#[tokio::test]
async fn a_redeeming_earning_checkout_reads_each_thing_once_on_both_engines() {
    let log = Statements::default();
    tracing::subscriber::set_global_default(
        Registry::default().with(log.clone()).with(
            tracing_subscriber::filter::Targets::new()
                .with_target("sqlx::query", tracing::Level::TRACE),
        ),
    )
    .unwrap();
    let mut runs = Vec::new();
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let statements = one_checkout(engine, &log).await;
        println!(
            "{engine:?}: {} statements per checkout\n  {}",
            statements.len(),
            statements.join("\n  ")
        );
        runs.push((engine, statements));
    }
    for (engine, statements) in runs {
        let listing = statements.join("\n  ");
        assert_eq!(
            count(&statements, "FROM customers WHERE id"),
            1,
            "{engine:?} reads the customer once:\n  {listing}"
        );
        assert_eq!(
            count(&statements, "FROM loyalty_program"),
            1,
            "{engine:?} reads the loyalty program once:\n  {listing}"
        );
        assert_eq!(
            count(&statements, "FROM loyalty_lots WHERE customer_id"),
            1,
            "{engine:?} reads the points lots once:\n  {listing}"
        );
        assert_eq!(
            count(&statements, "FROM orders o JOIN stores")
                + count(&statements, "FROM orders WHERE id"),
            0,
            "{engine:?} does not read back the order it wrote:\n  {listing}"
        );
    }
}
