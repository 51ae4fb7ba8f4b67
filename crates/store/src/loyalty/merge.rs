//! Points when two profiles are merged, and when the merge is undone.
//!
//! The ledger is append-only, so points never change owner in place: the merged profile gets one debit
//! that empties its lots ("Moved to … by merge M") and the survivor one credit per lot ("Moved from merge
//! M") with that lot's earn, availability and expiry dates, so pending points stay pending and expiring
//! points expire when they would have. Points the merged profile owed become the survivor's debt. Undo
//! writes the mirror image, and refuses when the survivor has already spent merged points that its own
//! balance cannot pay back. `canopy loyalty verify` holds throughout: these are ordinary entries, lots
//! and allocations.

use canopy_domain::{Actor, CustomerId};
use canopy_loyalty::{Allocation, EntryKind, Spend, SpendFrom, plan_spend};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{
    LotDates, NewEntry, credit, debit, expire_due, lock_account, lot_of_entry, lots_of,
    save_account,
};
use crate::backend::{Tx, on_tx};
use crate::time::from_micros;
use crate::{Result, StoreError};

/// What a merge moved of the merged profile's points (kept on the merge so undo can move it back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedPoints {
    pub lots: Vec<MovedLot>,
    /// Points the merged profile owed, now owed by (taken from) the survivor.
    pub owed: i64,
}

impl MovedPoints {
    pub fn points(&self) -> i64 {
        self.lots.iter().map(|l| l.points).sum::<i64>() - self.owed
    }
}

/// One lot of the merged profile and the survivor's lot it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedLot {
    pub from_lot: String,
    pub to_lot: String,
    pub points: i64,
    /// Points of it that paid off what the survivor owed on arrival.
    pub repaid: i64,
    pub earned_at: Timestamp,
    pub available_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct FullLot {
    id: String,
    remaining: i64,
    earned_at: i64,
    available_at: i64,
    expires_at: Option<i64>,
}

async fn full_lots(tx: &mut Tx, customer: CustomerId) -> Result<Vec<FullLot>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, remaining, earned_at, available_at, expires_at FROM loyalty_lots \
         WHERE customer_id = $1 AND remaining > 0 ORDER BY earned_at, id"
    )
    .bind(customer.to_string())
    .fetch_all(&mut **c)
    .await)?)
}

/// Locks both accounts in id order (two merges of the same pair in opposite directions cannot deadlock)
/// and sweeps expired points on both.
async fn lock_pair(
    tx: &mut Tx,
    a: CustomerId,
    b: CustomerId,
    now: Timestamp,
) -> Result<(super::Account, super::Account)> {
    let (first, second) = if a.to_string() < b.to_string() {
        (a, b)
    } else {
        (b, a)
    };
    let mut x = lock_account(tx, first, now).await?;
    let mut y = lock_account(tx, second, now).await?;
    expire_due(tx, &mut x, now).await?;
    expire_due(tx, &mut y, now).await?;
    Ok(if first == a { (x, y) } else { (y, x) })
}

/// Moves every point of `from` to `to`, inside the merge's transaction.
pub(crate) async fn move_for_merge(
    tx: &mut Tx,
    actor: &Actor,
    from: CustomerId,
    to: CustomerId,
    merge_id: &str,
    now: Timestamp,
) -> Result<MovedPoints> {
    let (mut source, mut target) = lock_pair(tx, from, to, now).await?;
    let mut moved = MovedPoints::default();
    // The debt first, taken from the survivor's own points (or owed by it), so the lots that arrive next
    // keep their full size and undo can give them back whole.
    if source.owed > 0 {
        let owed = source.owed;
        let reason_out = format!("Points owed moved to {to} by merge {merge_id}");
        let entry = NewEntry {
            kind: EntryKind::Adjust,
            cause_key: format!("merge:{merge_id}:owed-out"),
            points: owed,
            reason: Some(&reason_out),
            ..NewEntry::new(actor, now)
        };
        let dates = LotDates {
            earned_at: now,
            available_at: now,
            expires_at: None,
        };
        credit(tx, &mut source, entry, dates).await?;
        let lots = lots_of(tx, to).await?;
        let spend = plan_spend(&lots, owed, SpendFrom::Unexpired, now);
        let reason_in = format!("Points owed moved from merge {merge_id}");
        let entry = NewEntry {
            kind: EntryKind::Adjust,
            cause_key: format!("merge:{merge_id}:owed-in"),
            points: -owed,
            reason: Some(&reason_in),
            ..NewEntry::new(actor, now)
        };
        debit(tx, &mut target, entry, &spend).await?;
        moved.owed = owed;
    }
    let lots = full_lots(tx, from).await?;
    let total: i64 = lots.iter().map(|l| l.remaining).sum();
    if total > 0 {
        let reason_out = format!("Moved to {to} by merge {merge_id}");
        let spend = Spend {
            allocations: lots
                .iter()
                .map(|l| Allocation {
                    lot_id: l.id.clone(),
                    points: l.remaining,
                })
                .collect(),
            shortfall: 0,
        };
        let entry = NewEntry {
            kind: EntryKind::Adjust,
            cause_key: format!("merge:{merge_id}:out"),
            points: -total,
            reason: Some(&reason_out),
            ..NewEntry::new(actor, now)
        };
        debit(tx, &mut source, entry, &spend).await?;
        let reason_in = format!("Moved from merge {merge_id}");
        for lot in &lots {
            let owed_before = target.owed;
            let entry = NewEntry {
                kind: EntryKind::Adjust,
                cause_key: format!("merge:{merge_id}:in:{}", lot.id),
                points: lot.remaining,
                reason: Some(&reason_in),
                ..NewEntry::new(actor, now)
            };
            let dates = LotDates {
                earned_at: from_micros(lot.earned_at),
                available_at: from_micros(lot.available_at),
                expires_at: lot.expires_at.map(from_micros),
            };
            let seq = credit(tx, &mut target, entry, dates)
                .await?
                .ok_or_else(|| StoreError::Corrupt("merge moved a lot twice".into()))?;
            let to_lot = lot_of_entry(tx, seq)
                .await?
                .ok_or_else(|| StoreError::Corrupt("a merged lot has no lot".into()))?;
            moved.lots.push(MovedLot {
                from_lot: lot.id.clone(),
                to_lot,
                points: lot.remaining,
                repaid: owed_before - target.owed,
                earned_at: from_micros(lot.earned_at),
                available_at: from_micros(lot.available_at),
                expires_at: lot.expires_at.map(from_micros),
            });
        }
    }
    save_account(tx, &source, now).await?;
    save_account(tx, &target, now).await?;
    Ok(moved)
}

/// Why an undo cannot give the points back.
pub(crate) struct PointsShort {
    pub needed: i64,
    pub available: i64,
}

/// Moves back what [`move_for_merge`] moved, inside the undo's transaction: each moved lot (less what of
/// it expired on the survivor, which would have expired on the merged profile too) returns with its own
/// dates. Merged points the survivor has spent are paid back from its own points; `Err(PointsShort)`
/// (nothing written that matters: the caller rolls back) when those do not reach.
pub(crate) async fn return_for_undo(
    tx: &mut Tx,
    actor: &Actor,
    moved: &MovedPoints,
    survivor: CustomerId,
    merged: CustomerId,
    merge_id: &str,
    now: Timestamp,
) -> Result<std::result::Result<(), PointsShort>> {
    let (mut target, mut source) = lock_pair(tx, survivor, merged, now).await?;
    let mut give_back: Vec<(&MovedLot, i64)> = Vec::new();
    let mut allocations: Vec<Allocation> = Vec::new();
    for lot in &moved.lots {
        let (remaining, expired): (i64, i64) = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT l.remaining, CAST(COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a \
               JOIN loyalty_entries e ON e.seq = a.entry_seq WHERE a.lot_id = l.id AND e.kind = 'expire'), 0) AS BIGINT) \
             FROM loyalty_lots l WHERE l.id = $1"
        )
        .bind(&lot.to_lot)
        .fetch_one(&mut **c)
        .await
        })?;
        let owed_back = lot.points - expired;
        if owed_back > 0 {
            give_back.push((lot, owed_back));
        }
        if remaining > 0 {
            allocations.push(Allocation {
                lot_id: lot.to_lot.clone(),
                points: remaining.min(owed_back.max(0)),
            });
        }
    }
    allocations.retain(|a| a.points > 0);
    let needed: i64 = give_back.iter().map(|(_, p)| p).sum();
    let from_moved: i64 = allocations.iter().map(|a| a.points).sum();
    if needed > 0 {
        let moved_ids: Vec<&str> = moved.lots.iter().map(|l| l.to_lot.as_str()).collect();
        let own: Vec<canopy_loyalty::Lot> = lots_of(tx, survivor)
            .await?
            .into_iter()
            .filter(|l| !moved_ids.contains(&l.id.as_str()))
            .collect();
        let rest = plan_spend(&own, needed - from_moved, SpendFrom::Unexpired, now);
        // What the moved lots paid off of the survivor's debt becomes owed again; anything beyond that
        // is merged points the survivor spent and cannot pay back.
        let repaid: i64 = moved.lots.iter().map(|l| l.repaid).sum();
        if rest.shortfall > repaid {
            return Ok(Err(PointsShort {
                needed: needed - from_moved - repaid,
                available: rest.covered(),
            }));
        }
        allocations.extend(rest.allocations);
        let spend = Spend {
            allocations,
            shortfall: rest.shortfall,
        };
        let reason = format!("Moved back to {merged} by undoing merge {merge_id}");
        let entry = NewEntry {
            kind: EntryKind::Adjust,
            cause_key: format!("merge:{merge_id}:undo-out"),
            points: -needed,
            reason: Some(&reason),
            ..NewEntry::new(actor, now)
        };
        debit(tx, &mut target, entry, &spend).await?;
        let reason = format!("Moved back by undoing merge {merge_id}");
        for (lot, points) in give_back {
            let entry = NewEntry {
                kind: EntryKind::Adjust,
                cause_key: format!("merge:{merge_id}:undo-in:{}", lot.from_lot),
                points,
                reason: Some(&reason),
                ..NewEntry::new(actor, now)
            };
            let dates = LotDates {
                earned_at: lot.earned_at,
                available_at: lot.available_at,
                expires_at: lot.expires_at,
            };
            credit(tx, &mut source, entry, dates).await?;
        }
    }
    if moved.owed > 0 {
        let reason = format!("Points owed moved back by undoing merge {merge_id}");
        let entry = NewEntry {
            kind: EntryKind::Adjust,
            cause_key: format!("merge:{merge_id}:undo-owed-in"),
            points: moved.owed,
            reason: Some(&reason),
            ..NewEntry::new(actor, now)
        };
        let dates = LotDates {
            earned_at: now,
            available_at: now,
            expires_at: None,
        };
        credit(tx, &mut target, entry, dates).await?;
        let lots = lots_of(tx, merged).await?;
        let spend = plan_spend(&lots, moved.owed, SpendFrom::Unexpired, now);
        let entry = NewEntry {
            kind: EntryKind::Adjust,
            cause_key: format!("merge:{merge_id}:undo-owed-out"),
            points: -moved.owed,
            reason: Some(&reason),
            ..NewEntry::new(actor, now)
        };
        debit(tx, &mut source, entry, &spend).await?;
    }
    save_account(tx, &target, now).await?;
    save_account(tx, &source, now).await?;
    Ok(Ok(()))
}

/// Whether ledger entries of `entry_customer` now belong to `customer` because that profile was merged
/// into it (directly or along a chain): a return of an order that moved in a merge reverses the points
/// the order earned before the merge.
pub(crate) async fn merged_into(
    tx: &mut Tx,
    entry_customer: &str,
    customer: CustomerId,
) -> Result<bool> {
    let target = customer.to_string();
    let mut current = entry_customer.to_string();
    for _ in 0..16 {
        let next: Option<Option<String>> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT merged_into FROM customers WHERE id = $1"
        )
        .bind(&current)
        .fetch_optional(&mut **c)
        .await)?;
        match next.flatten() {
            Some(n) if n == target => return Ok(true),
            Some(n) => current = n,
            None => return Ok(false),
        }
    }
    Ok(false)
}
