//! The loyalty ledger's invariants, on SQLite and PostgreSQL: no overdraft under concurrency, no points from
//! refund loops, one earning per order, oldest points first, pending points locked, reasons required, and
//! `verify_loyalty` agreeing with the ledger after all of it.

use canopy_domain::{Actor, CustomerId, CustomerPatch, Region};
use canopy_loyalty::{EntryKind, LoyaltyError, OrderAmounts, Program, ReturnShare};
use canopy_store::{Store, StoreError};
use canopy_testkit::{Engine, TestDb, both_stores};
use jiff::{SignedDuration, Timestamp};

fn t0() -> Timestamp {
    "2026-03-01T17:00:00Z".parse().unwrap()
}

fn days(n: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(24 * n)
}

fn clerk() -> Actor {
    Actor::system("register-1")
}

async fn customer(store: &Store, first: &str) -> CustomerId {
    let draft = CustomerPatch {
        first_name: Some(first.into()),
        last_name: Some("Tester".into()),
        ..CustomerPatch::default()
    }
    .validate(
        Region::US,
        t0().to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
    )
    .unwrap();
    store
        .create_customer(draft, &clerk(), t0())
        .await
        .unwrap()
        .id
}

async fn use_program(store: &Store, program: Program) {
    store
        .set_loyalty_program(program, &clerk(), t0())
        .await
        .unwrap();
}

fn spent(cents: i64) -> OrderAmounts {
    OrderAmounts {
        before_discounts_cents: cents,
        after_discounts_cents: cents,
    }
}

async fn available(store: &Store, c: CustomerId, now: Timestamp) -> i64 {
    store
        .loyalty_balance(c, SignedDuration::ZERO, now)
        .await
        .unwrap()
        .summary
        .available
}

async fn balance(store: &Store, c: CustomerId, now: Timestamp) -> i64 {
    store
        .loyalty_balance(c, SignedDuration::ZERO, now)
        .await
        .unwrap()
        .balance
}

async fn assert_books_balance(store: &Store) {
    let report = store.verify_loyalty().await.unwrap();
    assert!(
        report.differences.is_empty(),
        "ledger drift: {:#?}",
        report.differences
    );
}

both_stores!(
    async fn two_hundred_concurrent_redemptions_never_overdraw_one_balance(store) {
        let sarah = customer(&store, "Sarah").await;
        store.adjust_loyalty_points(&clerk(), sarah, 1000, "opening balance", t0()).await.unwrap();

        let mut tasks = Vec::new();
        for i in 0..200i64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let points = 1 + i % 13;
                let result = store
                    .redeem_for_order(&clerk(), sarah, &format!("order-{i}"), points, 100_000, None, days(1))
                    .await;
                (points, result)
            }));
        }
        let mut redeemed = 0;
        let mut refused = 0;
        for task in tasks {
            match task.await.unwrap() {
                (points, Ok(r)) => {
                    assert_eq!(r.points, points);
                    redeemed += points;
                }
                (_, Err(StoreError::Loyalty(LoyaltyError::InsufficientPoints { .. }))) => refused += 1,
                (_, Err(other)) => panic!("unexpected error: {other}"),
            }
        }

        assert!(refused > 0, "the test must ask for more than the balance");
        assert!(redeemed <= 1000);
        assert_eq!(balance(&store, sarah, days(1)).await, 1000 - redeemed);
        assert!(balance(&store, sarah, days(1)).await >= 0);
        // Whatever is left is less than the smallest refused request could have used... or exactly zero.
        assert!(available(&store, sarah, days(1)).await < 13);
        assert_books_balance(&store).await;
    }
);

both_stores!(
    async fn a_buy_refund_buy_loop_cannot_create_points(store) {
        use_program(&store, Program { pending_days: 0, ..Program::default() }).await;
        let sam = customer(&store, "Sam").await;
        store.adjust_loyalty_points(&clerk(), sam, 500, "welcome", t0()).await.unwrap();
        let start = balance(&store, sam, t0()).await;

        for round in 0..15i64 {
            let now = t0() + SignedDuration::from_mins(round);
            let order = format!("loop-{round}");
            // $37.33 order, paying 100 points ($5) of it, earning on the $32.33 paid.
            let redeemed = store.redeem_for_order(&clerk(), sam, &order, 100, 3733, None, now).await.unwrap();
            assert_eq!(redeemed.value_cents, 500);
            let earned = store.earn_for_order(&clerk(), sam, &order, spent(3233), None, now).await.unwrap();
            assert_eq!(earned.points, 32);
            // Returned in three uneven parts.
            let mut back = 0;
            for (i, part) in [1000i64, 1111, 1622].into_iter().enumerate() {
                let r = store
                    .reverse_for_order(&clerk(), sam, &order, &format!("ret-{i}"), ReturnShare { returned_cents: part, order_total_cents: 3733 }, now)
                    .await
                    .unwrap();
                back += r.given_back - r.taken_back;
                assert!(balance(&store, sam, now).await <= start, "round {round}: points appeared mid-return");
            }
            assert_eq!(back, 100 - 32);
            assert_eq!(balance(&store, sam, now).await, start, "round {round}");
        }
        assert_books_balance(&store).await;
    }
);

both_stores!(
    async fn a_refund_after_the_points_were_spent_leaves_them_owed_until_new_points_pay_it_off(store) {
        use_program(&store, Program { pending_days: 0, ..Program::default() }).await;
        let ana = customer(&store, "Ana").await;
        store.earn_for_order(&clerk(), ana, "o1", spent(10_000), None, t0()).await.unwrap();
        store.redeem_for_order(&clerk(), ana, "o2", 100, 10_000, None, t0()).await.unwrap();

        let r = store
            .reverse_for_order(&clerk(), ana, "o1", "r1", ReturnShare { returned_cents: 10_000, order_total_cents: 10_000 }, days(1))
            .await
            .unwrap();
        assert_eq!((r.taken_back, r.owed), (100, 100));
        let b = store.loyalty_balance(ana, SignedDuration::ZERO, days(1)).await.unwrap();
        assert_eq!((b.balance, b.summary.owed, b.summary.available), (-100, 100, 0));

        store.earn_for_order(&clerk(), ana, "o3", spent(15_000), None, days(2)).await.unwrap();
        let b = store.loyalty_balance(ana, SignedDuration::ZERO, days(2)).await.unwrap();
        assert_eq!((b.balance, b.summary.owed, b.summary.available), (50, 0, 50));
        assert_books_balance(&store).await;
    }
);

both_stores!(
    async fn a_replayed_order_earns_once_and_redeems_once(store) {
        use_program(&store, Program { pending_days: 0, ..Program::default() }).await;
        let lee = customer(&store, "Lee").await;

        let first = store.earn_for_order(&clerk(), lee, "offline-7", spent(4_250), None, t0()).await.unwrap();
        let again = store.earn_for_order(&clerk(), lee, "offline-7", spent(4_250), None, days(1)).await.unwrap();
        assert_eq!((first.points, first.replayed), (42, false));
        assert_eq!((again.points, again.replayed), (42, true));

        // The same order synced by several registers at once.
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.earn_for_order(&clerk(), lee, "offline-8", spent(1_000), None, t0()).await.unwrap()
            }));
        }
        let fresh = futures_count(tasks).await;
        assert_eq!(fresh, 1);
        assert_eq!(balance(&store, lee, days(1)).await, 52);

        let r1 = store.redeem_for_order(&clerk(), lee, "offline-9", 20, 5_000, None, days(1)).await.unwrap();
        let r2 = store.redeem_for_order(&clerk(), lee, "offline-9", 20, 5_000, None, days(1)).await.unwrap();
        assert!(!r1.replayed && r2.replayed);
        assert_eq!(balance(&store, lee, days(1)).await, 32);

        // A replayed return reverses once.
        let share = ReturnShare { returned_cents: 4_250, order_total_cents: 4_250 };
        let a = store.reverse_for_order(&clerk(), lee, "offline-7", "ret", share, days(2)).await.unwrap();
        let b = store.reverse_for_order(&clerk(), lee, "offline-7", "ret", share, days(2)).await.unwrap();
        assert_eq!((a.taken_back, a.replayed, b.taken_back, b.replayed), (42, false, 42, true));
        assert_eq!(balance(&store, lee, days(2)).await, -10);
        assert_books_balance(&store).await;
    }
);

async fn futures_count(tasks: Vec<tokio::task::JoinHandle<canopy_store::Earned>>) -> usize {
    let mut fresh = 0;
    for t in tasks {
        let e = t.await.unwrap();
        assert_eq!(e.points, 10);
        if !e.replayed {
            fresh += 1;
        }
    }
    fresh
}

both_stores!(
    async fn redemptions_spend_the_oldest_points_first_and_expiry_takes_only_lots_past_their_date(store) {
        use_program(&store, Program { pending_days: 0, expiry_days: Some(30), ..Program::default() }).await;
        let kim = customer(&store, "Kim").await;
        store.earn_for_order(&clerk(), kim, "old", spent(10_000), None, t0()).await.unwrap();
        store.earn_for_order(&clerk(), kim, "new", spent(5_000), None, days(10)).await.unwrap();

        // 120 points: all 100 of the old lot, 20 of the new one.
        store.redeem_for_order(&clerk(), kim, "spend", 120, 100_000, None, days(20)).await.unwrap();
        let expiring = store.loyalty_balance(kim, SignedDuration::from_hours(24 * 30), days(20)).await.unwrap();
        assert_eq!(expiring.summary.expiring.len(), 1);
        assert_eq!(expiring.summary.expiring[0].points, 30);
        assert_eq!(expiring.summary.expiring[0].at, days(40));

        // The old lot's date passes: nothing left in it, nothing expires.
        assert_eq!(store.expire_loyalty_points(days(31)).await.unwrap().points, 0);
        assert_eq!(balance(&store, kim, days(31)).await, 30);
        // The new lot's date passes: its 30 expire, once.
        let run = store.expire_loyalty_points(days(40)).await.unwrap();
        assert_eq!((run.customers, run.lots, run.points), (1, 1, 30));
        assert_eq!(store.expire_loyalty_points(days(41)).await.unwrap().points, 0);
        assert_eq!(balance(&store, kim, days(41)).await, 0);
        let history = store.loyalty_history(kim, None, 50).await.unwrap();
        assert_eq!(history[0].kind, EntryKind::Expire);
        assert_eq!(history[0].points, -30);
        assert_books_balance(&store).await;
    }
);

both_stores!(
    async fn expired_points_cannot_be_redeemed_even_before_the_expiry_run(store) {
        use_program(&store, Program { pending_days: 0, expiry_days: Some(30), ..Program::default() }).await;
        let jo = customer(&store, "Jo").await;
        store.earn_for_order(&clerk(), jo, "o1", spent(10_000), None, t0()).await.unwrap();
        let refused = store.redeem_for_order(&clerk(), jo, "o2", 10, 10_000, None, days(30)).await;
        assert!(matches!(refused, Err(StoreError::Loyalty(LoyaltyError::InsufficientPoints { available: 0, .. }))));
        // The refused attempt rolled back; the ledger still holds the expired points until the expiry run.
        let b = store.loyalty_balance(jo, SignedDuration::ZERO, days(30)).await.unwrap();
        assert_eq!((b.balance, b.summary.available, b.summary.pending), (100, 0, 0));
        assert_eq!(store.loyalty_liability(days(30)).await.unwrap().expired_unswept_points, 100);
        assert_eq!(store.expire_loyalty_points(days(30)).await.unwrap().points, 100);
        assert_eq!(balance(&store, jo, days(30)).await, 0);
        assert_books_balance(&store).await;
    }
);

both_stores!(
    async fn pending_points_are_not_redeemable_until_the_return_window_closes(store) {
        use_program(&store, Program { pending_days: 14, ..Program::default() }).await;
        let max = customer(&store, "Max").await;
        let earned = store.earn_for_order(&clerk(), max, "o1", spent(10_000), None, t0()).await.unwrap();
        assert_eq!(earned.available_at, Some(days(14)));

        let b = store.loyalty_balance(max, SignedDuration::ZERO, days(1)).await.unwrap();
        assert_eq!((b.summary.available, b.summary.pending), (0, 100));
        assert_eq!(b.summary.unlocking[0].at, days(14));
        let refused = store.redeem_for_order(&clerk(), max, "o2", 1, 10_000, None, days(1)).await;
        assert!(matches!(refused, Err(StoreError::Loyalty(LoyaltyError::InsufficientPoints { available: 0, .. }))));

        // A return inside the window takes the order's own pending points back.
        let r = store
            .reverse_for_order(&clerk(), max, "o1", "r1", ReturnShare { returned_cents: 5_000, order_total_cents: 10_000 }, days(2))
            .await
            .unwrap();
        assert_eq!((r.taken_back, r.owed), (50, 0));

        let ok = store.redeem_for_order(&clerk(), max, "o3", 50, 10_000, None, days(14)).await.unwrap();
        assert_eq!((ok.points, ok.value_cents), (50, 250));
        assert_books_balance(&store).await;
    }
);

both_stores!(
    async fn a_redemption_cannot_be_worth_more_than_the_order(store) {
        use_program(&store, Program { pending_days: 0, ..Program::default() }).await;
        let ed = customer(&store, "Ed").await;
        store.adjust_loyalty_points(&clerk(), ed, 1000, "goodwill", t0()).await.unwrap();
        let refused = store.redeem_for_order(&clerk(), ed, "o1", 200, 703, None, t0()).await;
        assert!(matches!(refused, Err(StoreError::Loyalty(LoyaltyError::ExceedsOrderTotal { max: 140, .. }))));
        assert_eq!(store.loyalty_max_redeemable(ed, 703, t0()).await.unwrap(), 140);
        assert_eq!(balance(&store, ed, t0()).await, 1000);
    }
);

both_stores!(
    async fn ineligible_customer_types_and_excluded_jurisdictions_earn_nothing(store) {
        use_program(&store, Program {
            customer_types: vec![canopy_domain::CustomerType::Medical],
            excluded_jurisdictions: vec!["NY".into()],
            ..Program::default()
        })
        .await;
        let ann = customer(&store, "Ann").await; // adult use
        let e = store.earn_for_order(&clerk(), ann, "o1", spent(10_000), Some("CO"), t0()).await.unwrap();
        assert_eq!(e.points, 0);
        assert!(store.loyalty_history(ann, None, 10).await.unwrap().is_empty());
    }
);

both_stores!(
    async fn an_adjustment_needs_a_reason_and_cannot_take_more_than_the_customer_has(store) {
        let bo = customer(&store, "Bo").await;
        let refused = store.adjust_loyalty_points(&clerk(), bo, 50, "   ", t0()).await;
        assert!(matches!(refused, Err(StoreError::Loyalty(LoyaltyError::ReasonRequired))));
        assert!(store.loyalty_history(bo, None, 10).await.unwrap().is_empty());

        let entry = store.adjust_loyalty_points(&clerk(), bo, 50, "birthday", t0()).await.unwrap();
        assert_eq!((entry.kind, entry.points, entry.balance_after), (EntryKind::Adjust, 50, 50));
        assert_eq!(entry.reason.as_deref(), Some("birthday"));
        let refused = store.adjust_loyalty_points(&clerk(), bo, -51, "typo", t0()).await;
        assert!(matches!(refused, Err(StoreError::Loyalty(LoyaltyError::InsufficientPoints { available: 50, .. }))));
        store.adjust_loyalty_points(&clerk(), bo, -20, "typo", t0()).await.unwrap();

        let audit = store
            .audit_entries(&canopy_store::AuditFilter { action: Some("loyalty.adjust".into()), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.len(), 2);
        assert_eq!(audit[0].changes["reason"], "typo");
        assert_eq!(balance(&store, bo, t0()).await, 30);
        assert_books_balance(&store).await;
    }
);

both_stores!(
    async fn the_liability_is_the_outstanding_points_at_their_current_value(store) {
        use_program(&store, Program { pending_days: 7, ..Program::default() }).await;
        let a = customer(&store, "Al").await;
        let b = customer(&store, "Bea").await;
        store.adjust_loyalty_points(&clerk(), a, 300, "import", t0()).await.unwrap();
        store.earn_for_order(&clerk(), b, "o1", spent(20_000), None, t0()).await.unwrap();
        let l = store.loyalty_liability(days(1)).await.unwrap();
        assert_eq!((l.customers, l.outstanding_points, l.available_points, l.pending_points), (2, 500, 300, 200));
        assert_eq!(l.value_cents, 2_500);
    }
);

/// Raw access to the database behind a test store, to tamper with it as a bug or an operator might.
async fn exec_raw(db: &TestDb, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Connection;
    if db.url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&db.url).await?;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .map(|r| r.rows_affected())
    } else {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await?;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .map(|r| r.rows_affected())
    }
}

async fn ledger_is_append_only_and_verify_reports_drift(engine: Engine) {
    let db = TestDb::create(engine).await;
    let store = db.open().await;
    let cy = customer(&store, "Cy").await;
    store
        .adjust_loyalty_points(&clerk(), cy, 40, "welcome", t0())
        .await
        .unwrap();
    assert_books_balance(&store).await;

    assert!(
        exec_raw(&db, "UPDATE loyalty_entries SET points = 4000")
            .await
            .is_err()
    );
    assert!(exec_raw(&db, "DELETE FROM loyalty_entries").await.is_err());
    assert_eq!(
        exec_raw(&db, "UPDATE loyalty_accounts SET balance = 4000")
            .await
            .unwrap(),
        1
    );

    let report = store.verify_loyalty().await.unwrap();
    let checks: Vec<&str> = report.differences.iter().map(|d| d.check).collect();
    assert!(checks.contains(&"balance"), "{checks:?}");
    let drift = report
        .differences
        .iter()
        .find(|d| d.check == "balance")
        .unwrap();
    assert_eq!((drift.stored, drift.expected), (4000, 40));
    assert_eq!(drift.customer_id, cy.to_string());
}

#[tokio::test]
async fn ledger_is_append_only_and_verify_reports_drift_sqlite() {
    ledger_is_append_only_and_verify_reports_drift(Engine::Sqlite).await;
}

#[tokio::test]
async fn ledger_is_append_only_and_verify_reports_drift_postgres() {
    ledger_is_append_only_and_verify_reports_drift(Engine::Postgres).await;
}
