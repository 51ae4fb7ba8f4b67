//! The loyalty ledger: every change to a customer's points is one append-only entry tied to its cause.
//!
//! # Invariant
//! A customer's balance is `SUM(loyalty_entries.points)`. The per-customer `loyalty_accounts` row (balance and
//! points owed) and the `loyalty_lots` (points by when they were earned, with what is left of each) are written
//! in the same transaction as the entry, and [`Store::verify_loyalty`] recomputes all of them from the ledger.
//!
//! # How the failure modes are closed
//! * **An order replayed (offline sync) earns or redeems once:** `UNIQUE (kind, cause_key)` with the order id
//!   as the cause; the insert is `ON CONFLICT DO NOTHING`, and a replay returns what the first call recorded.
//! * **Concurrent redemptions cannot spend the same points:** every write first locks the customer's
//!   `loyalty_accounts` row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite has one writer connection), then
//!   reads the lots and checks the balance under that lock.
//! * **Refunds do not keep points:** [`reverse_for_order`] takes back the earned points in proportion to
//!   what was returned (from the order's own, usually still pending, lot first); if they were already spent
//!   the customer owes them and the next points pay that off first. A replayed return reverses once
//!   (`UNIQUE (order_id, return_id)`).
//! * **Redeemed points are deducted once** (one redeem entry per order) and given back in proportion on a
//!   return, never more than were redeemed.
//!
//! # For the checkout
//! [`earn_for_order`], [`redeem_for_order`] and [`reverse_for_order`] run inside the caller's [`Tx`], so the
//! points move if and only if the order commits. Call them after the order's own rows are written. Each
//! begins by locking the customer's loyalty row, which serialises loyalty writes per customer until the
//! caller's transaction ends. The `Store` methods of the same names wrap each in its own transaction.

use std::collections::{HashMap, HashSet};

use canopy_domain::{Actor, CustomerId, CustomerType, EventKind};
use canopy_loyalty::{
    Allocation, BalanceSummary, EntryKind, Lot, LoyaltyError, OrderAmounts, Program, ReturnShare,
    Spend, SpendFrom, plan_expiry, plan_spend, summarize,
};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::backend::{Tx, on_read, on_tx};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

pub(crate) mod merge;

/// What [`earn_for_order`] recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Earned {
    /// Points the order earned (0 when the program does not cover the sale or the amount is too small).
    pub points: i64,
    /// When the points can be redeemed (after the pending period); `None` when nothing was earned.
    pub available_at: Option<Timestamp>,
    /// The order had already earned: nothing new was written and `points` is what it earned the first time.
    pub replayed: bool,
}

/// What [`redeem_for_order`] recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redeemed {
    /// Points spent.
    pub points: i64,
    /// Their value in cents: the discount the order should show.
    pub value_cents: i64,
    /// The order had already redeemed: nothing new was written and this is the first redemption.
    pub replayed: bool,
}

/// What [`reverse_for_order`] recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reversed {
    /// Earned points taken back.
    pub taken_back: i64,
    /// Of those, points the customer had already spent and now owes.
    pub owed: i64,
    /// Redeemed points given back.
    pub given_back: i64,
    /// This return had already been recorded: nothing new was written.
    pub replayed: bool,
}

/// A customer's points as staff and the customer see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoyaltyBalance {
    pub customer_id: CustomerId,
    /// The ledger sum: available + pending − owed (+ expired points the next expiry run removes).
    pub balance: i64,
    #[serde(flatten)]
    pub summary: BalanceSummary,
    /// What the available points are worth now, in cents.
    pub available_value_cents: i64,
}

/// One ledger entry as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoyaltyEntry {
    pub seq: i64,
    pub id: String,
    pub kind: EntryKind,
    pub points: i64,
    pub balance_after: i64,
    /// Points of a take-back that no lot covered (they became owed).
    pub owed: i64,
    pub order_id: Option<String>,
    pub return_id: Option<String>,
    pub lot_id: Option<String>,
    /// earn: cents the points were earned on; redeem: the discount given; reverse: cents returned.
    pub amount_cents: Option<i64>,
    /// The manager's reason, for adjustments.
    pub reason: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub at: Timestamp,
}

/// The store's outstanding points, for its accounts (points are a liability until redeemed or expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoyaltyLiability {
    /// Customers holding points.
    pub customers: i64,
    /// Points held (available + pending, after anything owed).
    pub outstanding_points: i64,
    pub available_points: i64,
    pub pending_points: i64,
    /// Points past expiry that the next expiry run removes (not counted as outstanding).
    pub expired_unswept_points: i64,
    /// Points customers owe after returns (not a liability; netted out of outstanding).
    pub owed_points: i64,
    /// Outstanding points at the program's current value.
    pub value_cents: i64,
    pub at: Timestamp,
}

/// One disagreement between stored balances or lots and the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoyaltyDrift {
    pub customer_id: String,
    /// Which check failed, e.g. `balance`, `lot_remaining`, `balance_after`.
    pub check: &'static str,
    /// The row at fault (a lot id or entry seq), when the check is per row.
    pub subject: Option<String>,
    pub stored: i64,
    pub expected: i64,
}

/// What `canopy loyalty verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoyaltyVerifyReport {
    pub customers: i64,
    pub entries: i64,
    pub lots: i64,
    pub differences: Vec<LoyaltyDrift>,
}

/// What an expiry run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ExpiryReport {
    pub customers: i64,
    pub lots: i64,
    pub points: i64,
}

// ---------------------------------------------------------------------------------------------------------
// Transaction-level operations (called by the checkout inside its own transaction).
// ---------------------------------------------------------------------------------------------------------

/// Credits the points `order_id` earns, inside the caller's transaction.
///
/// * `amounts`: the order before and after discounts, in cents, excluding tax; "after" is what the customer
///   pays, so it already nets out points redeemed on the order. The program's `earn_basis` picks one.
/// * `jurisdiction`: where the sale happens (e.g. `"CO"`), for the program's excluded jurisdictions; `None`
///   skips that check.
/// * Returns 0 points (and writes nothing) when the program is off, the customer type or jurisdiction is not
///   covered, or the amount earns less than a point.
/// * Idempotent per `order_id`: a second call for the same order (an offline order synced twice) writes
///   nothing and returns the first result with `replayed: true` — enforced by `UNIQUE (kind, cause_key)`.
/// * The points are pending until `available_at` (the program's return window).
///
/// Errors: `StoreError::NotFound` when the customer does not exist.
pub(crate) async fn earn_for_order(
    tx: &mut Tx,
    actor: &Actor,
    customer: CustomerId,
    order_id: &str,
    amounts: OrderAmounts,
    jurisdiction: Option<&str>,
    now: Timestamp,
) -> Result<Earned> {
    require_order_id(order_id)?;
    let wallet = Wallet::open(tx, customer, None, now).await?;
    if let Some(existing) = entry_for_order(tx, EntryKind::Earn, order_id).await? {
        return replayed_earn(tx, customer, existing).await;
    }
    match wallet
        .earn(tx, actor, order_id, amounts, jurisdiction, now)
        .await?
    {
        Some(earned) => Ok(earned),
        None => {
            let existing = entry_for_order(tx, EntryKind::Earn, order_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("earn entry vanished".into()))?;
            replayed_earn(tx, customer, existing).await
        }
    }
}

/// Spends `points` of the customer's available points on `order_id`, inside the caller's transaction, and
/// returns their value as the discount to apply.
///
/// * Only points past their pending period and not expired can be spent; the oldest go first.
/// * `order_total_cents`: what the order costs before points; the points' value may not exceed it.
/// * `jurisdiction`: as for [`earn_for_order`].
/// * Safe under concurrency: the customer's loyalty row is locked before the balance is read, so two
///   registers redeeming at once are serialised and the second sees what the first spent.
/// * Idempotent per `order_id`: a second call writes nothing and returns the first redemption with
///   `replayed: true` (whatever `points` it asks for).
///
/// Errors (as `StoreError::Loyalty`): `InsufficientPoints`, `ExceedsOrderTotal`, `NotEligible`, `Invalid`
/// (points ≤ 0); `StoreError::NotFound` when the customer does not exist. These refusals are decided in
/// Rust, not by a failed statement, so the caller's transaction stays usable (e.g. to complete the sale
/// without points); the only thing written by then is the sweep of already-expired points, which is valid
/// on its own.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn redeem_for_order(
    tx: &mut Tx,
    actor: &Actor,
    customer: CustomerId,
    order_id: &str,
    points: i64,
    order_total_cents: i64,
    jurisdiction: Option<&str>,
    now: Timestamp,
) -> Result<Redeemed> {
    require_order_id(order_id)?;
    let mut wallet = Wallet::open(tx, customer, None, now).await?;
    if let Some(existing) = entry_for_order(tx, EntryKind::Redeem, order_id).await? {
        return replayed_redeem(customer, existing);
    }
    match wallet
        .spend(
            tx,
            actor,
            order_id,
            points,
            order_total_cents,
            jurisdiction,
            now,
        )
        .await?
    {
        Some(redeemed) => {
            wallet.save(tx, now).await?;
            Ok(redeemed)
        }
        None => {
            let existing = entry_for_order(tx, EntryKind::Redeem, order_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("redeem entry vanished".into()))?;
            replayed_redeem(customer, existing)
        }
    }
}

/// One customer's points inside a write transaction: the account locked, and the lots, the program and
/// the customer type read once each, then kept in step with what this wallet writes. A checkout opens
/// one right after locking the buyer's row, prices the redemption with [`Wallet::program`] and
/// [`Wallet::available`], then spends and earns on the new order without reading any of it again.
pub(crate) struct Wallet {
    account: Account,
    /// The customer's lots with points left, after the sweep of expired points.
    lots: Vec<Lot>,
    program: Program,
    customer_type: CustomerType,
    /// Whether the account row must be written back.
    changed: bool,
}

impl Wallet {
    /// Locks the customer's loyalty row (creating it), reads their lots and the program, and sweeps
    /// expired points. `customer_type` saves a read when the caller has the customer's row already.
    pub(crate) async fn open(
        tx: &mut Tx,
        customer: CustomerId,
        customer_type: Option<CustomerType>,
        now: Timestamp,
    ) -> Result<Wallet> {
        let mut account = lock_account(tx, customer, now).await?;
        let mut lots = lots_of(tx, customer).await?;
        sweep_expired(tx, &mut account, &mut lots, now).await?;
        let program = program_in(tx).await?;
        let customer_type = match customer_type {
            Some(t) => t,
            None => self::customer_type(tx, customer).await?,
        };
        Ok(Wallet {
            account,
            lots,
            program,
            customer_type,
            changed: false,
        })
    }

    pub(crate) fn program(&self) -> &Program {
        &self.program
    }

    /// Points the customer can spend at `now`.
    pub(crate) fn available(&self, now: Timestamp) -> i64 {
        summarize(&self.lots, self.account.owed, now, now).available
    }

    /// Spends `points` on `order_id` and returns their value (see [`redeem_for_order`]). `None` when the
    /// order already redeemed (nothing written). The program's rule is checked here, under the lock,
    /// whatever the caller priced the order with.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn spend(
        &mut self,
        tx: &mut Tx,
        actor: &Actor,
        order_id: &str,
        points: i64,
        order_total_cents: i64,
        jurisdiction: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Redeemed>> {
        let value_cents = self.program.redemption(
            self.customer_type,
            jurisdiction,
            points,
            self.available(now),
            order_total_cents,
        )?;
        let spend = plan_spend(&self.lots, points, SpendFrom::Available, now);
        if spend.shortfall != 0 {
            return Err(StoreError::Corrupt(format!(
                "lots of customer {} do not cover their available balance",
                self.account.customer
            )));
        }
        let entry = NewEntry {
            kind: EntryKind::Redeem,
            cause_key: order_id.to_string(),
            points: -points,
            order_id: Some(order_id),
            amount_cents: Some(value_cents),
            ..NewEntry::new(actor, now)
        };
        if debit(tx, &mut self.account, entry, &spend).await?.is_none() {
            return Ok(None);
        }
        take_from_lots(&mut self.lots, &spend);
        self.changed = true;
        Ok(Some(Redeemed {
            points,
            value_cents,
            replayed: false,
        }))
    }

    /// Credits what `order_id` earns (see [`earn_for_order`]) and writes the account back: earning is
    /// the last thing a wallet does. `None` when the order already earned.
    pub(crate) async fn earn(
        mut self,
        tx: &mut Tx,
        actor: &Actor,
        order_id: &str,
        amounts: OrderAmounts,
        jurisdiction: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Earned>> {
        let points = self.program.points_for(amounts);
        if self
            .program
            .check_eligible(self.customer_type, jurisdiction)
            .is_err()
            || points <= 0
        {
            self.save(tx, now).await?;
            return Ok(Some(Earned {
                points: 0,
                available_at: None,
                replayed: false,
            }));
        }
        let (available_at, expires_at) = self.program.lot_dates(now);
        let basis = match self.program.earn_basis {
            canopy_loyalty::EarnBasis::BeforeDiscounts => amounts.before_discounts_cents,
            canopy_loyalty::EarnBasis::AfterDiscounts => amounts.after_discounts_cents,
        };
        let entry = NewEntry {
            kind: EntryKind::Earn,
            cause_key: order_id.to_string(),
            points,
            order_id: Some(order_id),
            amount_cents: Some(basis),
            ..NewEntry::new(actor, now)
        };
        let dates = LotDates {
            earned_at: now,
            available_at,
            expires_at,
        };
        if credit(tx, &mut self.account, entry, dates).await?.is_none() {
            self.save(tx, now).await?;
            return Ok(None);
        }
        self.changed = true;
        self.save(tx, now).await?;
        Ok(Some(Earned {
            points,
            available_at: Some(available_at),
            replayed: false,
        }))
    }

    /// Writes the account row back if anything changed it.
    pub(crate) async fn save(self, tx: &mut Tx, now: Timestamp) -> Result<()> {
        if self.changed {
            save_account(tx, &self.account, now).await?;
        }
        Ok(())
    }
}

/// Keeps lots read earlier in step with a spend just written.
fn take_from_lots(lots: &mut [Lot], spend: &Spend) {
    for a in &spend.allocations {
        if let Some(lot) = lots.iter_mut().find(|l| l.id == a.lot_id) {
            lot.remaining -= a.points;
        }
    }
}

/// Reverses the loyalty effect of a (partial) return of `order_id`, inside the caller's transaction.
///
/// * `return_id`: the return's own id, unique within the order; a second call with the same pair writes
///   nothing and returns `replayed: true`.
/// * `share`: the returned value and the whole order's value in cents, measured the same way (e.g. line
///   totals before tax). `order_total_cents` must be the same for every return of the order.
/// * Takes back the points the order earned and gives back the points it redeemed, in proportion to the
///   cumulative share returned (taking back rounds up, giving back rounds down; a full return reverses
///   everything exactly). Taken-back points come from the order's own lot first; points already spent
///   become owed and are paid off by the customer's next points. Given-back points are available at once
///   and expire no later than the earliest-expiring points the redemption spent.
/// * Works whether or not the order earned or redeemed anything (then it only records the return).
///
/// Errors (as `StoreError::Loyalty`): `ReturnExceedsOrder` when the returns add up to more than the order,
/// `Invalid` for non-positive amounts; `StoreError::Conflict` when the order's points belong to another
/// customer or earlier returns gave a different order total; `StoreError::NotFound` for an unknown customer.
pub(crate) async fn reverse_for_order(
    tx: &mut Tx,
    actor: &Actor,
    customer: CustomerId,
    order_id: &str,
    return_id: &str,
    share: ReturnShare,
    now: Timestamp,
) -> Result<Reversed> {
    require_order_id(order_id)?;
    if return_id.trim().is_empty() || return_id.len() > 200 {
        return Err(LoyaltyError::Invalid {
            field: "return_id",
            message: "must be 1 to 200 characters".into(),
        }
        .into());
    }
    let mut account = lock_account(tx, customer, now).await?;
    expire_due(tx, &mut account, now).await?;
    if let Some(done) = reversal_recorded(tx, order_id, return_id).await? {
        return Ok(done);
    }
    let (returned_before, totals): (i64, Vec<i64>) = {
        let rows: Vec<(i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT returned_cents, order_total_cents FROM loyalty_returns WHERE order_id = $1"
        )
        .bind(order_id)
        .fetch_all(&mut **c)
        .await)?;
        (
            rows.iter().map(|r| r.0).sum(),
            rows.iter().map(|r| r.1).collect(),
        )
    };
    if totals.iter().any(|t| *t != share.order_total_cents) {
        return Err(StoreError::Conflict(format!(
            "earlier returns of order {order_id} gave a different order total"
        )));
    }
    let earn = entry_for_order(tx, EntryKind::Earn, order_id).await?;
    let redeem = entry_for_order(tx, EntryKind::Redeem, order_id).await?;
    for e in earn.iter().chain(redeem.iter()) {
        if e.customer_id != customer.to_string()
            && !merge::merged_into(tx, &e.customer_id, customer).await?
        {
            return Err(StoreError::Conflict(format!(
                "the points of order {order_id} belong to another customer"
            )));
        }
    }
    let earned = earn.as_ref().map_or(0, |e| e.points);
    let redeemed = redeem.as_ref().map_or(0, |e| -e.points);
    let r = canopy_loyalty::reversal(earned, redeemed, returned_before, share)?;
    let record_id = uuid::Uuid::now_v7().to_string();
    let inserted = on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO loyalty_returns (id, order_id, return_id, customer_id, returned_cents, order_total_cents, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id, return_id) DO NOTHING"
    )
    .bind(&record_id)
    .bind(order_id)
    .bind(return_id)
    .bind(customer.to_string())
    .bind(share.returned_cents)
    .bind(share.order_total_cents)
    .bind(to_micros(now))
    .execute(&mut **c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if inserted == 0 {
        let done = reversal_recorded(tx, order_id, return_id).await?;
        return done.ok_or_else(|| StoreError::Corrupt("return record vanished".into()));
    }
    let mut owed = 0;
    if r.take_back > 0 {
        let own_lot = match &earn {
            Some(e) => lot_of_entry(tx, e.seq).await?,
            None => None,
        };
        let lots = lots_of(tx, customer).await?;
        let from = own_lot
            .as_deref()
            .map_or(SpendFrom::Unexpired, SpendFrom::LotFirst);
        let spend = plan_spend(&lots, r.take_back, from, now);
        owed = spend.shortfall;
        let entry = NewEntry {
            kind: EntryKind::Reverse,
            cause_key: format!("{record_id}:take_back"),
            points: -r.take_back,
            order_id: Some(order_id),
            return_id: Some(return_id),
            amount_cents: Some(share.returned_cents),
            ..NewEntry::new(actor, now)
        };
        debit(tx, &mut account, entry, &spend).await?;
    }
    if r.give_back > 0 {
        let redeem_seq = redeem.as_ref().map_or(0, |e| e.seq);
        let expires_at: Option<i64> = on_tx!(tx, |c| {
            sqlx::query_scalar(
            "SELECT MIN(l.expires_at) FROM loyalty_allocations a JOIN loyalty_lots l ON l.id = a.lot_id \
             WHERE a.entry_seq = $1"
        )
        .bind(redeem_seq)
        .fetch_one(&mut **c)
        .await
        })?;
        let entry = NewEntry {
            kind: EntryKind::Reverse,
            cause_key: format!("{record_id}:give_back"),
            points: r.give_back,
            order_id: Some(order_id),
            return_id: Some(return_id),
            amount_cents: Some(share.returned_cents),
            ..NewEntry::new(actor, now)
        };
        let dates = LotDates {
            earned_at: now,
            available_at: now,
            expires_at: expires_at.map(from_micros),
        };
        credit(tx, &mut account, entry, dates).await?;
    }
    save_account(tx, &account, now).await?;
    Ok(Reversed {
        taken_back: r.take_back,
        owed,
        given_back: r.give_back,
        replayed: false,
    })
}

/// A manager's adjustment, with its audit row, inside `tx`. Positive points are available at once and
/// expire as the program says; a reduction takes the oldest unexpired points, pending ones included, and
/// may not exceed them.
pub(crate) async fn adjust_points(
    tx: &mut Tx,
    actor: &Actor,
    customer: CustomerId,
    points: i64,
    reason: &str,
    now: Timestamp,
) -> Result<LoyaltyEntry> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(LoyaltyError::ReasonRequired.into());
    }
    if reason.chars().count() > 500 {
        return Err(LoyaltyError::Invalid {
            field: "reason",
            message: "must be at most 500 characters".into(),
        }
        .into());
    }
    // `unsigned_abs`: `i64::MIN.abs()` overflows (and in a release build wraps to a negative that
    // passed this check).
    if points == 0 || points.unsigned_abs() > canopy_domain::bounds::MAX_POINTS.unsigned_abs() {
        return Err(LoyaltyError::Invalid {
            field: "points",
            message: "must be a non-zero number of points, at most a billion either way".into(),
        }
        .into());
    }
    let mut account = lock_account(tx, customer, now).await?;
    expire_due(tx, &mut account, now).await?;
    let entry_id = uuid::Uuid::now_v7().to_string();
    let entry = NewEntry {
        id: entry_id.clone(),
        kind: EntryKind::Adjust,
        cause_key: entry_id,
        points,
        reason: Some(reason),
        ..NewEntry::new(actor, now)
    };
    let seq = if points > 0 {
        let program = program_in(tx).await?;
        let (_, expires_at) = program.lot_dates(now);
        let dates = LotDates {
            earned_at: now,
            available_at: now,
            expires_at,
        };
        credit(tx, &mut account, entry, dates).await?
    } else {
        let lots = lots_of(tx, customer).await?;
        let spend = plan_spend(&lots, -points, SpendFrom::Unexpired, now);
        if spend.shortfall > 0 {
            return Err(LoyaltyError::InsufficientPoints {
                requested: -points,
                available: spend.covered(),
            }
            .into());
        }
        debit(tx, &mut account, entry, &spend).await?
    }
    .ok_or_else(|| StoreError::Corrupt("adjustment id collided".into()))?;
    save_account(tx, &account, now).await?;
    audit::record(
        tx,
        actor,
        now,
        "loyalty.adjust",
        "customer",
        Some(&customer.to_string()),
        &serde_json::json!({ "points": points, "reason": reason, "balance_after": account.balance }),
    )
    .await?;
    entry_by_seq(tx, seq).await
}

/// Customers per statement when writing opening balances: 12 parameters an entry keeps a chunk well under
/// both engines' parameter limits.
const OPENINGS_PER_STATEMENT: usize = 400;

/// The cause of a customer's opening balance. One per customer, ever: `UNIQUE (kind, cause_key)` makes a
/// second import of the same (or another) file skip customers who already have one.
pub(crate) fn opening_cause_key(customer: CustomerId) -> String {
    format!("import-opening:{customer}")
}

/// Writes the points customers bring from their previous system, inside the caller's transaction (an
/// import's), as one `adjust` entry per customer with the reason "Opening balance imported from `source`".
///
/// * Idempotent per customer: the cause key is [`opening_cause_key`] and the insert is `ON CONFLICT DO
///   NOTHING`, so a customer who already has an opening balance is skipped by the database, not by a check
///   that could race. Returns how many entries were written.
/// * The points are available at once and expire as the program says, like a manager's adjustment; they
///   first pay off points the customer owes.
/// * Many customers per statement (an import brings tens of thousands): accounts are created and locked in
///   chunks, entries and lots inserted in chunks, balances saved in one upsert per chunk. Expired points are
///   not swept here: a credit spends nothing, and the next ledger operation on the customer sweeps them.
///
/// Errors: `LoyaltyError::Invalid` for points ≤ 0 or above a billion (nothing is written for any of them;
/// the caller's transaction is still usable); a customer that does not exist fails the statement.
pub(crate) async fn opening_balances(
    tx: &mut Tx,
    actor: &Actor,
    openings: &[(CustomerId, i64)],
    source: &str,
    now: Timestamp,
) -> Result<usize> {
    if let Some((_, points)) = openings.iter().find(|(_, p)| *p <= 0 || *p > 1_000_000_000) {
        return Err(LoyaltyError::Invalid {
            field: "points",
            message: format!("an opening balance must be 1 to a billion points, not {points}"),
        }
        .into());
    }
    let reason = format!("Opening balance imported from {source}");
    let program = program_in(tx).await?;
    let (_, expires_at) = program.lot_dates(now);
    let dates = LotDates {
        earned_at: now,
        available_at: now,
        expires_at,
    };
    let mut written = 0;
    for chunk in openings.chunks(OPENINGS_PER_STATEMENT) {
        let mut accounts = lock_accounts(tx, chunk, now).await?;
        let credited = insert_openings(tx, actor, chunk, &accounts, &reason, now).await?;
        insert_opening_lots(tx, &mut accounts, &credited, &dates).await?;
        let touched: Vec<&Account> = credited
            .iter()
            .filter_map(|(_, customer, _)| accounts.get(customer))
            .collect();
        save_accounts(tx, &touched, now).await?;
        written += credited.len();
    }
    Ok(written)
}

/// [`lock_account`] for many customers at once, keyed by customer id.
async fn lock_accounts(
    tx: &mut Tx,
    openings: &[(CustomerId, i64)],
    now: Timestamp,
) -> Result<HashMap<String, Account>> {
    let ids: Vec<String> = openings.iter().map(|(c, _)| c.to_string()).collect();
    let sql = tx.bulk_sql(format!(
        "INSERT INTO loyalty_accounts (customer_id, balance, owed, updated_at) VALUES {} \
         ON CONFLICT (customer_id) DO NOTHING",
        crate::events::rows_sql(ids.len(), 2, |p| format!("({}, 0, 0, {})", p[0], p[1]))
    ));
    on_tx!(tx, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for id in &ids {
            q = q.bind(id.as_str()).bind(to_micros(now));
        }
        q.execute(&mut **c).await.map(|_| ())
    })?;
    let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let select = tx.bulk_sql(format!(
        "SELECT customer_id, balance, owed FROM loyalty_accounts WHERE customer_id IN ({}) ORDER BY customer_id",
        list.join(", ")
    ));
    let rows: Vec<(String, i64, i64)> = match tx {
        Tx::Sqlite(c) => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(select));
            for id in &ids {
                q = q.bind(id.as_str());
            }
            q.fetch_all(&mut **c).await?
        }
        Tx::Postgres(c) => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(format!("{select} FOR UPDATE")));
            for id in &ids {
                q = q.bind(id.as_str());
            }
            q.fetch_all(&mut **c).await?
        }
    };
    let by_id: HashMap<&str, CustomerId> = ids
        .iter()
        .zip(openings)
        .map(|(id, (customer, _))| (id.as_str(), *customer))
        .collect();
    rows.into_iter()
        .map(|(id, balance, owed)| {
            let customer = *by_id
                .get(id.as_str())
                .ok_or_else(|| StoreError::Corrupt(format!("loyalty account {id:?}")))?;
            Ok((
                id,
                Account {
                    customer,
                    balance,
                    owed,
                },
            ))
        })
        .collect()
}

/// The opening entries of one chunk; returns (seq, customer id, points) of those written (customers who
/// already had an opening balance are left out by `ON CONFLICT DO NOTHING`).
async fn insert_openings(
    tx: &mut Tx,
    actor: &Actor,
    openings: &[(CustomerId, i64)],
    accounts: &HashMap<String, Account>,
    reason: &str,
    now: Timestamp,
) -> Result<Vec<(i64, String, i64)>> {
    let sql = tx.bulk_sql(format!(
        "INSERT INTO loyalty_entries (id, customer_id, kind, cause_key, points, balance_after, unallocated, \
         reason, actor_kind, actor_id, actor_label, at) VALUES {} \
         ON CONFLICT (kind, cause_key) DO NOTHING RETURNING seq, customer_id, points",
        crate::events::placeholders(openings.len(), 12)
    ));
    let rows: Vec<(i64, String, i64)> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
        for (customer, points) in openings {
            let id = customer.to_string();
            let balance = accounts.get(&id).map_or(0, |a| a.balance);
            q = q
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(id)
                .bind(EntryKind::Adjust.as_str())
                .bind(opening_cause_key(*customer))
                .bind(*points)
                .bind(balance + points)
                .bind(0_i64)
                .bind(reason)
                .bind(actor.kind.as_str())
                .bind(actor.id.as_deref())
                .bind(actor.label.as_str())
                .bind(to_micros(now));
        }
        q.fetch_all(&mut **c).await
    })?;
    Ok(rows)
}

/// One lot per written opening entry; like [`credit`], a lot first pays off what the customer owes.
async fn insert_opening_lots(
    tx: &mut Tx,
    accounts: &mut HashMap<String, Account>,
    credited: &[(i64, String, i64)],
    dates: &LotDates,
) -> Result<()> {
    if credited.is_empty() {
        return Ok(());
    }
    let sql = tx.bulk_sql(format!(
        "INSERT INTO loyalty_lots (id, customer_id, entry_seq, points, repaid, remaining, earned_at, available_at, \
         expires_at) VALUES {}",
        crate::events::placeholders(credited.len(), 9)
    ));
    let mut lots = Vec::with_capacity(credited.len());
    for (seq, customer, points) in credited {
        let account = accounts
            .get_mut(customer)
            .ok_or_else(|| StoreError::Corrupt(format!("no loyalty account for {customer}")))?;
        let repaid = account.owed.min(*points);
        account.balance += points;
        account.owed -= repaid;
        lots.push((*seq, customer.as_str(), *points, repaid));
    }
    on_tx!(tx, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for (seq, customer, points, repaid) in &lots {
            q = q
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(*customer)
                .bind(*seq)
                .bind(*points)
                .bind(*repaid)
                .bind(points - repaid)
                .bind(to_micros(dates.earned_at))
                .bind(to_micros(dates.available_at))
                .bind(dates.expires_at.map(to_micros));
        }
        q.execute(&mut **c).await.map(|_| ())
    })?;
    Ok(())
}

/// [`save_account`] for many accounts in one statement (an upsert: every row already exists and is locked).
async fn save_accounts(tx: &mut Tx, accounts: &[&Account], now: Timestamp) -> Result<()> {
    if accounts.is_empty() {
        return Ok(());
    }
    let sql = tx.bulk_sql(format!(
        "INSERT INTO loyalty_accounts (customer_id, balance, owed, updated_at) VALUES {} \
         ON CONFLICT (customer_id) DO UPDATE SET balance = excluded.balance, owed = excluded.owed, \
         updated_at = excluded.updated_at",
        crate::events::placeholders(accounts.len(), 4)
    ));
    on_tx!(tx, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for account in accounts {
            q = q
                .bind(account.customer.to_string())
                .bind(account.balance)
                .bind(account.owed)
                .bind(to_micros(now));
        }
        q.execute(&mut **c).await.map(|_| ())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Ledger plumbing.
// ---------------------------------------------------------------------------------------------------------

/// The customer's loyalty row, locked for the rest of the transaction.
struct Account {
    customer: CustomerId,
    balance: i64,
    owed: i64,
}

struct LotDates {
    earned_at: Timestamp,
    available_at: Timestamp,
    expires_at: Option<Timestamp>,
}

struct NewEntry<'a> {
    id: String,
    kind: EntryKind,
    cause_key: String,
    points: i64,
    order_id: Option<&'a str>,
    return_id: Option<&'a str>,
    lot_id: Option<String>,
    amount_cents: Option<i64>,
    reason: Option<&'a str>,
    actor: &'a Actor,
    at: Timestamp,
}

impl<'a> NewEntry<'a> {
    fn new(actor: &'a Actor, at: Timestamp) -> Self {
        NewEntry {
            id: uuid::Uuid::now_v7().to_string(),
            kind: EntryKind::Adjust,
            cause_key: String::new(),
            points: 0,
            order_id: None,
            return_id: None,
            lot_id: None,
            amount_cents: None,
            reason: None,
            actor,
            at,
        }
    }
}

fn require_order_id(order_id: &str) -> Result<()> {
    if order_id.trim().is_empty() || order_id.len() > 200 {
        return Err(LoyaltyError::Invalid {
            field: "order_id",
            message: "must be 1 to 200 characters".into(),
        }
        .into());
    }
    Ok(())
}

/// Creates the customer's loyalty row if needed and locks it. SQLite needs no row lock: all writes share one
/// connection, so the transaction already excludes every other writer.
async fn lock_account(tx: &mut Tx, customer: CustomerId, now: Timestamp) -> Result<Account> {
    // One statement: an existing row is "updated" to itself, which on PostgreSQL takes its row lock
    // as `SELECT … FOR UPDATE` would, and returns the balance either way.
    let row = on_tx!(tx, |c| {
        sqlx::query_as::<_, (i64, i64)>(
            "INSERT INTO loyalty_accounts (customer_id, balance, owed, updated_at) VALUES ($1, 0, 0, $2) \
             ON CONFLICT (customer_id) DO UPDATE SET balance = loyalty_accounts.balance RETURNING balance, owed",
        )
        .bind(customer.to_string())
        .bind(to_micros(now))
        .fetch_one(&mut **c)
        .await
    });
    let (balance, owed) = match row {
        Ok(row) => row,
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(StoreError::NotFound { entity: "customer" });
        }
        Err(err) => return Err(err.into()),
    };
    Ok(Account {
        customer,
        balance,
        owed,
    })
}

async fn save_account(tx: &mut Tx, account: &Account, now: Timestamp) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE loyalty_accounts SET balance = $2, owed = $3, updated_at = $4 WHERE customer_id = $1"
    )
    .bind(account.customer.to_string())
    .bind(account.balance)
    .bind(account.owed)
    .bind(to_micros(now))
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

async fn customer_type(tx: &mut Tx, customer: CustomerId) -> Result<CustomerType> {
    let raw: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT customer_type FROM customers WHERE id = $1"
    )
    .bind(customer.to_string())
    .fetch_optional(&mut **c)
    .await)?;
    let raw = raw.ok_or(StoreError::NotFound { entity: "customer" })?;
    CustomerType::parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("customer_type {raw:?}")))
}

fn parse_program(raw: Option<String>) -> Result<Program> {
    match raw {
        None => Ok(Program::default()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("loyalty program settings: {e}"))),
    }
}

async fn program_in(tx: &mut Tx) -> Result<Program> {
    let raw: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT settings FROM loyalty_program WHERE id = 1"
    )
    .fetch_optional(&mut **c)
    .await)?;
    parse_program(raw)
}

#[derive(sqlx::FromRow)]
struct LotRow {
    id: String,
    remaining: i64,
    earned_at: i64,
    available_at: i64,
    expires_at: Option<i64>,
}

impl From<LotRow> for Lot {
    fn from(r: LotRow) -> Lot {
        Lot {
            id: r.id,
            remaining: r.remaining,
            earned_at: from_micros(r.earned_at),
            available_at: from_micros(r.available_at),
            expires_at: r.expires_at.map(from_micros),
        }
    }
}

const LOT_COLUMNS: &str = "id, remaining, earned_at, available_at, expires_at";

async fn lots_of(tx: &mut Tx, customer: CustomerId) -> Result<Vec<Lot>> {
    let sql =
        format!("SELECT {LOT_COLUMNS} FROM loyalty_lots WHERE customer_id = $1 AND remaining > 0");
    let rows: Vec<LotRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(customer.to_string())
        .fetch_all(&mut **c)
        .await)?;
    Ok(rows.into_iter().map(Lot::from).collect())
}

async fn lot_of_entry(tx: &mut Tx, seq: i64) -> Result<Option<String>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT id FROM loyalty_lots WHERE entry_seq = $1"
    )
    .bind(seq)
    .fetch_optional(&mut **c)
    .await)?)
}

/// Appends an entry; `None` when an entry with the same kind and cause already exists (nothing written).
async fn insert_entry(
    tx: &mut Tx,
    e: &NewEntry<'_>,
    balance_after: i64,
    unallocated: i64,
    customer: CustomerId,
) -> Result<Option<i64>> {
    let seq: Option<i64> = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO loyalty_entries (id, customer_id, kind, cause_key, points, balance_after, unallocated, \
         order_id, return_id, lot_id, amount_cents, reason, actor_kind, actor_id, actor_label, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (kind, cause_key) DO NOTHING RETURNING seq"
    )
    .bind(&e.id)
    .bind(customer.to_string())
    .bind(e.kind.as_str())
    .bind(&e.cause_key)
    .bind(e.points)
    .bind(balance_after)
    .bind(unallocated)
    .bind(e.order_id)
    .bind(e.return_id)
    .bind(e.lot_id.as_deref())
    .bind(e.amount_cents)
    .bind(e.reason)
    .bind(e.actor.kind.as_str())
    .bind(e.actor.id.as_deref())
    .bind(&e.actor.label)
    .bind(to_micros(e.at))
    .fetch_optional(&mut **c)
    .await
    })?;
    if let Some(seq) = seq {
        // Partners (marketing tools showing a points balance) hear of every entry, in the same
        // transaction, so a rolled-back sale never announces points it did not earn.
        let data = serde_json::json!({
            "customer_id": customer,
            "entry": {
                "seq": seq, "id": e.id, "kind": e.kind, "points": e.points, "balance_after": balance_after,
                "order_id": e.order_id, "return_id": e.return_id, "reason": e.reason, "at": e.at,
            },
            "balance": balance_after,
        });
        crate::events::emit(
            tx,
            EventKind::LoyaltyChanged,
            &customer.to_string(),
            data,
            e.at,
        )
        .await?;
    }
    Ok(seq)
}

/// Appends a positive entry and its lot; the lot first pays off points the customer owes.
async fn credit(
    tx: &mut Tx,
    account: &mut Account,
    entry: NewEntry<'_>,
    dates: LotDates,
) -> Result<Option<i64>> {
    let balance_after = account.balance + entry.points;
    let Some(seq) = insert_entry(tx, &entry, balance_after, 0, account.customer).await? else {
        return Ok(None);
    };
    let repaid = account.owed.min(entry.points);
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO loyalty_lots (id, customer_id, entry_seq, points, repaid, remaining, earned_at, available_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(account.customer.to_string())
    .bind(seq)
    .bind(entry.points)
    .bind(repaid)
    .bind(entry.points - repaid)
    .bind(to_micros(dates.earned_at))
    .bind(to_micros(dates.available_at))
    .bind(dates.expires_at.map(to_micros))
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    account.balance = balance_after;
    account.owed -= repaid;
    Ok(Some(seq))
}

/// Appends a negative entry covered by `spend`; whatever no lot covers becomes owed.
async fn debit(
    tx: &mut Tx,
    account: &mut Account,
    entry: NewEntry<'_>,
    spend: &Spend,
) -> Result<Option<i64>> {
    let balance_after = account.balance + entry.points;
    if spend.covered() + spend.shortfall != -entry.points {
        return Err(StoreError::Corrupt(
            "a spend does not match its entry".into(),
        ));
    }
    let Some(seq) =
        insert_entry(tx, &entry, balance_after, spend.shortfall, account.customer).await?
    else {
        return Ok(None);
    };
    for Allocation { lot_id, points } in &spend.allocations {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO loyalty_allocations (entry_seq, lot_id, points) VALUES ($1, $2, $3)"
        )
        .bind(seq)
        .bind(lot_id)
        .bind(points)
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
        let updated = on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE loyalty_lots SET remaining = remaining - $1 WHERE id = $2 AND remaining >= $1"
        )
        .bind(points)
        .bind(lot_id)
        .execute(&mut **c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if updated != 1 {
            return Err(StoreError::Corrupt(format!(
                "lot {lot_id} has fewer points than were allocated"
            )));
        }
    }
    account.balance = balance_after;
    account.owed += spend.shortfall;
    Ok(Some(seq))
}

/// Writes an expire entry for every lot of the customer past its expiry (one per lot, so it is idempotent).
/// Every ledger operation runs this first, under the customer's lock, so expired points are never spent.
async fn expire_due(tx: &mut Tx, account: &mut Account, now: Timestamp) -> Result<ExpiryReport> {
    let mut lots = lots_of(tx, account.customer).await?;
    sweep_expired(tx, account, &mut lots, now).await
}

/// [`expire_due`] over lots already read, which are then kept in step.
async fn sweep_expired(
    tx: &mut Tx,
    account: &mut Account,
    lots: &mut [Lot],
    now: Timestamp,
) -> Result<ExpiryReport> {
    let system = Actor::system("loyalty-expiry");
    let mut report = ExpiryReport::default();
    for allocation in plan_expiry(lots, now) {
        let points = allocation.points;
        let entry = NewEntry {
            kind: EntryKind::Expire,
            cause_key: allocation.lot_id.clone(),
            points: -points,
            lot_id: Some(allocation.lot_id.clone()),
            ..NewEntry::new(&system, now)
        };
        let spend = Spend {
            allocations: vec![allocation],
            shortfall: 0,
        };
        if debit(tx, account, entry, &spend).await?.is_some() {
            take_from_lots(lots, &spend);
            report.lots += 1;
            report.points += points;
        }
    }
    if report.lots > 0 {
        report.customers = 1;
        // Saved at once: the expiry stands even if the operation that triggered it is refused.
        save_account(tx, account, now).await?;
    }
    Ok(report)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    id: String,
    customer_id: String,
    kind: String,
    points: i64,
    balance_after: i64,
    unallocated: i64,
    order_id: Option<String>,
    return_id: Option<String>,
    lot_id: Option<String>,
    amount_cents: Option<i64>,
    reason: Option<String>,
    actor_kind: String,
    actor_id: Option<String>,
    actor_label: String,
    at: i64,
}

const ENTRY_COLUMNS: &str = "seq, id, customer_id, kind, points, balance_after, unallocated, order_id, \
     return_id, lot_id, amount_cents, reason, actor_kind, actor_id, actor_label, at";

impl TryFrom<EntryRow> for LoyaltyEntry {
    type Error = StoreError;

    fn try_from(r: EntryRow) -> Result<LoyaltyEntry> {
        Ok(LoyaltyEntry {
            seq: r.seq,
            id: r.id,
            kind: EntryKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("loyalty entry kind {:?}", r.kind)))?,
            points: r.points,
            balance_after: r.balance_after,
            owed: r.unallocated,
            order_id: r.order_id,
            return_id: r.return_id,
            lot_id: r.lot_id,
            amount_cents: r.amount_cents,
            reason: r.reason,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            at: from_micros(r.at),
        })
    }
}

async fn entry_for_order(tx: &mut Tx, kind: EntryKind, order_id: &str) -> Result<Option<EntryRow>> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM loyalty_entries WHERE kind = $1 AND cause_key = $2");
    Ok(on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(kind.as_str())
    .bind(order_id)
    .fetch_optional(&mut **c)
    .await)?)
}

async fn entry_by_seq(tx: &mut Tx, seq: i64) -> Result<LoyaltyEntry> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM loyalty_entries WHERE seq = $1");
    let row: EntryRow = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(seq)
        .fetch_one(&mut **c)
        .await)?;
    row.try_into()
}

async fn replayed_earn(tx: &mut Tx, customer: CustomerId, existing: EntryRow) -> Result<Earned> {
    if existing.customer_id != customer.to_string() {
        return Err(StoreError::Conflict(
            "this order already earned points for another customer".into(),
        ));
    }
    let available_at: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT available_at FROM loyalty_lots WHERE entry_seq = $1"
    )
    .bind(existing.seq)
    .fetch_optional(&mut **c)
    .await)?;
    Ok(Earned {
        points: existing.points,
        available_at: available_at.map(from_micros),
        replayed: true,
    })
}

fn replayed_redeem(customer: CustomerId, existing: EntryRow) -> Result<Redeemed> {
    if existing.customer_id != customer.to_string() {
        return Err(StoreError::Conflict(
            "this order already redeemed points of another customer".into(),
        ));
    }
    Ok(Redeemed {
        points: -existing.points,
        value_cents: existing.amount_cents.unwrap_or(0),
        replayed: true,
    })
}

/// What an already recorded return did, or `None` if it is new.
async fn reversal_recorded(
    tx: &mut Tx,
    order_id: &str,
    return_id: &str,
) -> Result<Option<Reversed>> {
    let record: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT id FROM loyalty_returns WHERE order_id = $1 AND return_id = $2"
    )
    .bind(order_id)
    .bind(return_id)
    .fetch_optional(&mut **c)
    .await)?;
    let Some(record) = record else {
        return Ok(None);
    };
    let rows: Vec<(String, i64, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT cause_key, points, unallocated FROM loyalty_entries WHERE kind = 'reverse' AND cause_key IN ($1, $2)"
    )
    .bind(format!("{record}:take_back"))
    .bind(format!("{record}:give_back"))
    .fetch_all(&mut **c)
    .await
    })?;
    let mut done = Reversed {
        taken_back: 0,
        owed: 0,
        given_back: 0,
        replayed: true,
    };
    for (_, points, unallocated) in rows {
        if points < 0 {
            done.taken_back = -points;
            done.owed = unallocated;
        } else {
            done.given_back = points;
        }
    }
    Ok(Some(done))
}

/// Cents of `order_id` that earlier returns reversed (measured as each return gave them).
pub(crate) async fn returned_cents(tx: &mut Tx, order_id: &str) -> Result<i64> {
    let sum: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT CAST(SUM(returned_cents) AS BIGINT) FROM loyalty_returns WHERE order_id = $1"
    )
    .bind(order_id)
    .fetch_one(&mut **c)
    .await)?;
    Ok(sum.unwrap_or(0))
}

/// What the checkout reads before it prices a redemption: the program and the points available now.
/// The ledger checks again under the customer's lock when it writes, so a redemption racing another
/// register is refused there, not double-spent.
#[derive(Debug, Clone)]
pub(crate) struct RedemptionContext {
    pub program: Program,
    pub available: i64,
}

// ---------------------------------------------------------------------------------------------------------
// Store methods: standalone transactions, reads, reports.
// ---------------------------------------------------------------------------------------------------------

impl Store {
    /// Which of these customers already have an opening balance from an import, so a planner can tell
    /// whether a row's points would be written. Chunked like the import's other lookups.
    pub async fn customers_with_opening_balance(
        &self,
        customers: &[CustomerId],
    ) -> Result<HashSet<CustomerId>> {
        let mut found = HashSet::new();
        for chunk in customers.chunks(500) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT customer_id FROM loyalty_entries WHERE kind = 'adjust' AND cause_key IN ({})",
                list.join(", ")
            );
            let rows: Vec<String> = on_read!(self, |p| {
                let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()));
                for customer in chunk {
                    q = q.bind(opening_cause_key(*customer));
                }
                q.fetch_all(p).await
            })?;
            for id in rows {
                found.insert(
                    id.parse()
                        .map_err(|_| StoreError::Corrupt(format!("loyalty customer id {id:?}")))?,
                );
            }
        }
        Ok(found)
    }

    /// [`earn_for_order`] in its own transaction.
    pub async fn earn_for_order(
        &self,
        actor: &Actor,
        customer: CustomerId,
        order_id: &str,
        amounts: OrderAmounts,
        jurisdiction: Option<&str>,
        now: Timestamp,
    ) -> Result<Earned> {
        let mut tx = self.begin().await?;
        let earned = earn_for_order(
            &mut tx,
            actor,
            customer,
            order_id,
            amounts,
            jurisdiction,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(earned)
    }

    /// [`redeem_for_order`] in its own transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn redeem_for_order(
        &self,
        actor: &Actor,
        customer: CustomerId,
        order_id: &str,
        points: i64,
        order_total_cents: i64,
        jurisdiction: Option<&str>,
        now: Timestamp,
    ) -> Result<Redeemed> {
        let mut tx = self.begin().await?;
        let redeemed = redeem_for_order(
            &mut tx,
            actor,
            customer,
            order_id,
            points,
            order_total_cents,
            jurisdiction,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(redeemed)
    }

    /// [`reverse_for_order`] in its own transaction.
    pub async fn reverse_for_order(
        &self,
        actor: &Actor,
        customer: CustomerId,
        order_id: &str,
        return_id: &str,
        share: ReturnShare,
        now: Timestamp,
    ) -> Result<Reversed> {
        let mut tx = self.begin().await?;
        let reversed =
            reverse_for_order(&mut tx, actor, customer, order_id, return_id, share, now).await?;
        tx.commit().await?;
        Ok(reversed)
    }

    /// A manager's adjustment of a customer's points (either sign), with a required reason; the entry and
    /// its audit row are written together. The caller checks the `loyalty:adjust` permission.
    pub async fn adjust_loyalty_points(
        &self,
        actor: &Actor,
        customer: CustomerId,
        points: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<LoyaltyEntry> {
        let mut tx = self.begin().await?;
        let entry = adjust_points(&mut tx, actor, customer, points, reason, now).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// The loyalty program in force (the defaults until an admin saves one).
    pub async fn loyalty_program(&self) -> Result<Program> {
        let raw: Option<String> = on_read!(self, |p| sqlx::query_scalar(
            "SELECT settings FROM loyalty_program WHERE id = 1"
        )
        .fetch_optional(p)
        .await)?;
        parse_program(raw)
    }

    /// Replaces the program (validated first), auditing what changed. Applies to points earned from now on;
    /// lots already earned keep their pending period and expiry.
    pub async fn set_loyalty_program(
        &self,
        program: Program,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Program> {
        let program = program.validated()?;
        let mut tx = self.begin().await?;
        let before = program_in(&mut tx).await?;
        let json = serde_json::to_string(&program)
            .map_err(|e| StoreError::Corrupt(format!("loyalty program: {e}")))?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO loyalty_program (id, settings, updated_at, updated_by) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by"
        )
        .bind(&json)
        .bind(to_micros(now))
        .bind(&actor.label)
        .execute(&mut **c)
        .await
        .map(|_| ())
        })?;
        let changes = audit::diff_of(&before, &program);
        audit::record(
            &mut tx,
            actor,
            now,
            "loyalty.program",
            "loyalty_program",
            None,
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(program)
    }

    /// A customer's points now: available, pending (with unlock dates), owed, and what expires by
    /// `now + expiring_within`.
    pub async fn loyalty_balance(
        &self,
        customer: CustomerId,
        expiring_within: SignedDuration,
        now: Timestamp,
    ) -> Result<LoyaltyBalance> {
        let id = customer.to_string();
        let exists: i64 = on_read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM customers WHERE id = $1"
        )
        .bind(&id)
        .fetch_one(p)
        .await)?;
        if exists == 0 {
            return Err(StoreError::NotFound { entity: "customer" });
        }
        let account: Option<(i64, i64)> = on_read!(self, |p| sqlx::query_as(
            "SELECT balance, owed FROM loyalty_accounts WHERE customer_id = $1"
        )
        .bind(&id)
        .fetch_optional(p)
        .await)?;
        let (balance, owed) = account.unwrap_or((0, 0));
        let sql = format!(
            "SELECT {LOT_COLUMNS} FROM loyalty_lots WHERE customer_id = $1 AND remaining > 0"
        );
        let rows: Vec<LotRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&id)
                .fetch_all(p)
                .await)?;
        let lots: Vec<Lot> = rows.into_iter().map(Lot::from).collect();
        let horizon = now.checked_add(expiring_within).unwrap_or(Timestamp::MAX);
        let summary = summarize(&lots, owed, now, horizon);
        let program = self.loyalty_program().await?;
        Ok(LoyaltyBalance {
            customer_id: customer,
            balance,
            available_value_cents: program.value_cents(summary.available),
            summary,
        })
    }

    /// The program and the customer's available points, for pricing a redemption.
    pub(crate) async fn redemption_context(
        &self,
        customer: CustomerId,
        now: Timestamp,
    ) -> Result<RedemptionContext> {
        let balance = self
            .loyalty_balance(customer, SignedDuration::ZERO, now)
            .await?;
        Ok(RedemptionContext {
            program: self.loyalty_program().await?,
            available: balance.summary.available,
        })
    }

    /// The most points the customer can redeem on an order of `order_total_cents` now (0 when the program
    /// does not cover them), for the register to offer.
    pub async fn loyalty_max_redeemable(
        &self,
        customer: CustomerId,
        order_total_cents: i64,
        now: Timestamp,
    ) -> Result<i64> {
        let balance = self
            .loyalty_balance(customer, SignedDuration::ZERO, now)
            .await?;
        Ok(self
            .loyalty_program()
            .await?
            .max_redeemable(balance.summary.available, order_total_cents))
    }

    /// A customer's ledger, newest first, `limit` entries before `before` (a `seq`).
    pub async fn loyalty_history(
        &self,
        customer: CustomerId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LoyaltyEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM loyalty_entries WHERE customer_id = $1 AND ($2 IS NULL OR seq < $2) \
             ORDER BY seq DESC LIMIT $3"
        );
        let rows: Vec<EntryRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(customer.to_string())
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(LoyaltyEntry::try_from).collect()
    }

    /// Outstanding points across all customers and their value at the current program.
    pub async fn loyalty_liability(&self, now: Timestamp) -> Result<LoyaltyLiability> {
        let n = to_micros(now);
        let (customers, balance, owed): (i64, i64, i64) = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN balance > 0 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(balance), 0) AS BIGINT), CAST(COALESCE(SUM(owed), 0) AS BIGINT) FROM loyalty_accounts"
        )
        .fetch_one(p)
        .await
        })?;
        let (available, pending, expired): (i64, i64, i64) = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN available_at <= $1 AND (expires_at IS NULL OR expires_at > $1) THEN remaining ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN available_at > $1 AND (expires_at IS NULL OR expires_at > $1) THEN remaining ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN expires_at <= $1 THEN remaining ELSE 0 END), 0) AS BIGINT) \
             FROM loyalty_lots WHERE remaining > 0"
        )
        .bind(n)
        .fetch_one(p)
        .await
        })?;
        let outstanding = (balance - expired).max(0);
        let program = self.loyalty_program().await?;
        Ok(LoyaltyLiability {
            customers,
            outstanding_points: outstanding,
            available_points: available,
            pending_points: pending,
            expired_unswept_points: expired,
            owed_points: owed,
            value_cents: program.value_cents(outstanding),
            at: now,
        })
    }

    /// Writes expire entries for every lot past its expiry, one transaction per customer. Running it again
    /// (or concurrently) expires nothing twice: each lot's expiry is keyed by the lot.
    pub async fn expire_loyalty_points(&self, now: Timestamp) -> Result<ExpiryReport> {
        let customers: Vec<String> = on_read!(self, |p| {
            sqlx::query_scalar(
            "SELECT DISTINCT customer_id FROM loyalty_lots WHERE expires_at <= $1 AND remaining > 0"
        )
        .bind(to_micros(now))
        .fetch_all(p)
        .await
        })?;
        let mut total = ExpiryReport::default();
        for raw in customers {
            let customer: CustomerId = raw
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("customer id {raw:?}")))?;
            let mut tx = self.begin().await?;
            let mut account = lock_account(&mut tx, customer, now).await?;
            let report = expire_due(&mut tx, &mut account, now).await?;
            save_account(&mut tx, &account, now).await?;
            tx.commit().await?;
            total.customers += report.customers;
            total.lots += report.lots;
            total.points += report.points;
        }
        Ok(total)
    }

    /// Recomputes every customer's balance, points owed, lots and running balances from the ledger and
    /// lists every stored value that differs. An empty `differences` means the books balance.
    pub async fn verify_loyalty(&self) -> Result<LoyaltyVerifyReport> {
        let (customers, entries, lots): (i64, i64, i64) = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM loyalty_accounts), (SELECT COUNT(*) FROM loyalty_entries), \
             (SELECT COUNT(*) FROM loyalty_lots)"
        )
        .fetch_one(p)
        .await
        })?;
        let mut differences = Vec::new();
        for (check, sql) in VERIFY_CHECKS {
            let rows: Vec<(String, Option<String>, i64, i64)> =
                on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(*sql))
                    .fetch_all(p)
                    .await)?;
            differences.extend(
                rows.into_iter()
                    .map(|(customer_id, subject, stored, expected)| LoyaltyDrift {
                        customer_id,
                        check,
                        subject,
                        stored,
                        expected,
                    }),
            );
        }
        Ok(LoyaltyVerifyReport {
            customers,
            entries,
            lots,
            differences,
        })
    }
}

/// Each check lists its mismatches as (customer, subject, stored, expected). Sums are cast to BIGINT because
/// PostgreSQL sums BIGINTs as NUMERIC.
const VERIFY_CHECKS: &[(&str, &str)] = &[
    // The stored balance is the sum of the ledger (customers with entries but no account row count too).
    (
        "balance",
        "SELECT c.customer_id, NULL, CAST(COALESCE(a.balance, 0) AS BIGINT), \
            CAST(COALESCE((SELECT SUM(e.points) FROM loyalty_entries e WHERE e.customer_id = c.customer_id), 0) AS BIGINT) \
         FROM (SELECT customer_id FROM loyalty_accounts UNION SELECT customer_id FROM loyalty_entries) c \
         LEFT JOIN loyalty_accounts a ON a.customer_id = c.customer_id \
         WHERE COALESCE(a.balance, 0) <> COALESCE((SELECT SUM(e.points) FROM loyalty_entries e WHERE e.customer_id = c.customer_id), 0)",
    ),
    // Points owed are the shortfalls of take-backs minus what later lots paid off.
    (
        "owed",
        "SELECT a.customer_id, NULL, a.owed, \
            CAST(COALESCE((SELECT SUM(e.unallocated) FROM loyalty_entries e WHERE e.customer_id = a.customer_id), 0) \
               - COALESCE((SELECT SUM(l.repaid) FROM loyalty_lots l WHERE l.customer_id = a.customer_id), 0) AS BIGINT) \
         FROM loyalty_accounts a \
         WHERE a.owed <> COALESCE((SELECT SUM(e.unallocated) FROM loyalty_entries e WHERE e.customer_id = a.customer_id), 0) \
               - COALESCE((SELECT SUM(l.repaid) FROM loyalty_lots l WHERE l.customer_id = a.customer_id), 0)",
    ),
    // The lots hold the balance: what remains in them, less what is owed, is the ledger sum.
    (
        "lots_total",
        "SELECT a.customer_id, NULL, \
            CAST(COALESCE((SELECT SUM(l.remaining) FROM loyalty_lots l WHERE l.customer_id = a.customer_id), 0) - a.owed AS BIGINT), \
            CAST(COALESCE((SELECT SUM(e.points) FROM loyalty_entries e WHERE e.customer_id = a.customer_id), 0) AS BIGINT) \
         FROM loyalty_accounts a \
         WHERE COALESCE((SELECT SUM(l.remaining) FROM loyalty_lots l WHERE l.customer_id = a.customer_id), 0) - a.owed \
               <> COALESCE((SELECT SUM(e.points) FROM loyalty_entries e WHERE e.customer_id = a.customer_id), 0)",
    ),
    // Each lot's remainder is its points less what paid off debt and what debits took from it.
    (
        "lot_remaining",
        "SELECT l.customer_id, l.id, l.remaining, \
            CAST(l.points - l.repaid - COALESCE((SELECT SUM(x.points) FROM loyalty_allocations x WHERE x.lot_id = l.id), 0) AS BIGINT) \
         FROM loyalty_lots l \
         WHERE l.remaining <> l.points - l.repaid - COALESCE((SELECT SUM(x.points) FROM loyalty_allocations x WHERE x.lot_id = l.id), 0)",
    ),
    // Every credit entry has exactly one lot of the same size.
    (
        "credit_lot",
        "SELECT e.customer_id, CAST(e.seq AS TEXT), e.points, \
            CAST(COALESCE((SELECT SUM(l.points) FROM loyalty_lots l WHERE l.entry_seq = e.seq), 0) AS BIGINT) \
         FROM loyalty_entries e \
         WHERE e.points > 0 AND e.points <> COALESCE((SELECT SUM(l.points) FROM loyalty_lots l WHERE l.entry_seq = e.seq), 0)",
    ),
    // Every debit entry is covered by its allocations plus what became owed.
    (
        "debit_allocations",
        "SELECT e.customer_id, CAST(e.seq AS TEXT), -e.points, \
            CAST(e.unallocated + COALESCE((SELECT SUM(x.points) FROM loyalty_allocations x WHERE x.entry_seq = e.seq), 0) AS BIGINT) \
         FROM loyalty_entries e \
         WHERE e.points < 0 AND -e.points <> e.unallocated + COALESCE((SELECT SUM(x.points) FROM loyalty_allocations x WHERE x.entry_seq = e.seq), 0)",
    ),
    // Each entry's recorded balance is the running sum of the ledger up to it.
    (
        "balance_after",
        "SELECT customer_id, CAST(seq AS TEXT), balance_after, CAST(running AS BIGINT) FROM ( \
            SELECT customer_id, seq, balance_after, \
                   SUM(points) OVER (PARTITION BY customer_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS running \
            FROM loyalty_entries) r \
         WHERE balance_after <> running",
    ),
];
