//! Lots: points grouped by when they were earned, so pending periods and expiry apply to the right points
//! and spending takes the oldest first.

use jiff::Timestamp;
use serde::Serialize;

/// Points that arrived together (one order's earnings, one adjustment, one give-back) and share dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// The storage layer's id for the lot.
    pub id: String,
    /// Points of this lot not yet spent, expired or reversed.
    pub remaining: i64,
    /// When the points were earned (orders spending from several lots take the oldest first).
    pub earned_at: Timestamp,
    /// From this instant the points can be redeemed (the end of the pending period).
    pub available_at: Timestamp,
    /// From this instant the points are gone; `None` never expires.
    pub expires_at: Option<Timestamp>,
}

impl Lot {
    /// Past its expiry instant.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Redeemable now: past its pending period and not expired.
    pub fn is_available(&self, now: Timestamp) -> bool {
        self.available_at <= now && !self.is_expired(now)
    }

    /// Spending order: soonest to expire first, then oldest, then by id so the order is total.
    fn spend_key(&self) -> (Timestamp, Timestamp, &str) {
        (
            self.expires_at.unwrap_or(Timestamp::MAX),
            self.earned_at,
            &self.id,
        )
    }
}

/// Which lots a spend may draw on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendFrom<'a> {
    /// Redemptions: only points past their pending period and not expired.
    Available,
    /// Manager reductions: every unexpired point, pending ones included.
    Unexpired,
    /// Reversals after a return: the order's own lot first (usually still pending), then every unexpired
    /// point; what cannot be covered is a shortfall the customer owes.
    LotFirst(&'a str),
}

/// Points taken from one lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The lot's id.
    pub lot_id: String,
    /// Points taken (positive).
    pub points: i64,
}

/// How a spend is covered: allocations from lots, and what no lot could cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    /// Points per lot, in the order they were taken.
    pub allocations: Vec<Allocation>,
    /// Points not covered by any lot.
    pub shortfall: i64,
}

impl Spend {
    /// Points covered by lots.
    pub fn covered(&self) -> i64 {
        self.allocations.iter().map(|a| a.points).sum()
    }
}

/// Chooses the lots that pay for `points`, oldest first. Never takes more than a lot has; whatever the
/// eligible lots cannot cover is returned as `shortfall` (callers refuse a redemption with a shortfall).
pub fn plan_spend(lots: &[Lot], points: i64, from: SpendFrom<'_>, now: Timestamp) -> Spend {
    let mut order: Vec<&Lot> = lots
        .iter()
        .filter(|l| l.remaining > 0 && !l.is_expired(now))
        .filter(|l| match from {
            SpendFrom::Available => l.is_available(now),
            SpendFrom::Unexpired | SpendFrom::LotFirst(_) => true,
        })
        .collect();
    order.sort_by(|a, b| {
        let first = |l: &Lot| !matches!(from, SpendFrom::LotFirst(id) if id == l.id);
        (first(a), a.spend_key()).cmp(&(first(b), b.spend_key()))
    });
    let mut left = points.max(0);
    let mut allocations = Vec::new();
    for lot in order {
        if left == 0 {
            break;
        }
        let take = lot.remaining.min(left);
        allocations.push(Allocation {
            lot_id: lot.id.clone(),
            points: take,
        });
        left -= take;
    }
    Spend {
        allocations,
        shortfall: left,
    }
}

/// The points that have expired by `now`: every lot past its expiry with points remaining, all of them.
pub fn plan_expiry(lots: &[Lot], now: Timestamp) -> Vec<Allocation> {
    let mut expired: Vec<&Lot> = lots
        .iter()
        .filter(|l| l.remaining > 0 && l.is_expired(now))
        .collect();
    expired.sort_by(|a, b| a.spend_key().cmp(&b.spend_key()));
    expired
        .into_iter()
        .map(|l| Allocation {
            lot_id: l.id.clone(),
            points: l.remaining,
        })
        .collect()
}

/// Points with a date: when pending points unlock, or when points expire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dated {
    /// How many points.
    pub points: i64,
    /// The instant.
    pub at: Timestamp,
}

/// A customer's points as the register and the customer see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceSummary {
    /// Redeemable now.
    pub available: i64,
    /// Earned but still in the pending period.
    pub pending: i64,
    /// Points taken back by returns after they had been spent; paid off first by future points.
    pub owed: i64,
    /// Pending points and when they unlock, soonest first.
    pub unlocking: Vec<Dated>,
    /// Unexpired points that expire by the horizon given to [`summarize`], soonest first.
    pub expiring: Vec<Dated>,
}

/// Sums a customer's lots at `now`; `expiring` lists lots expiring no later than `horizon`.
pub fn summarize(lots: &[Lot], owed: i64, now: Timestamp, horizon: Timestamp) -> BalanceSummary {
    let live: Vec<&Lot> = lots
        .iter()
        .filter(|l| l.remaining > 0 && !l.is_expired(now))
        .collect();
    let available = live
        .iter()
        .filter(|l| l.is_available(now))
        .map(|l| l.remaining)
        .sum();
    let mut unlocking: Vec<Dated> = live
        .iter()
        .filter(|l| !l.is_available(now))
        .map(|l| Dated {
            points: l.remaining,
            at: l.available_at,
        })
        .collect();
    unlocking.sort_by_key(|d| d.at);
    let pending = unlocking.iter().map(|d| d.points).sum();
    let mut expiring: Vec<Dated> = live
        .iter()
        .filter_map(|l| {
            l.expires_at.filter(|e| *e <= horizon).map(|at| Dated {
                points: l.remaining,
                at,
            })
        })
        .collect();
    expiring.sort_by_key(|d| d.at);
    BalanceSummary {
        available,
        pending,
        owed,
        unlocking,
        expiring,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;
    use proptest::prelude::*;

    fn t(day: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_hours(24 * day)
    }

    fn lot(id: &str, remaining: i64, earned: i64, available: i64, expires: Option<i64>) -> Lot {
        Lot {
            id: id.into(),
            remaining,
            earned_at: t(earned),
            available_at: t(available),
            expires_at: expires.map(t),
        }
    }

    #[test]
    fn redemptions_take_the_oldest_available_points_and_skip_pending_ones() {
        let lots = [
            lot("new", 50, 20, 20, Some(385)),
            lot("old", 30, 10, 10, Some(375)),
            lot("pending", 100, 29, 43, Some(394)),
        ];
        let spend = plan_spend(&lots, 60, SpendFrom::Available, t(30));
        assert_eq!(
            spend.allocations,
            vec![
                Allocation {
                    lot_id: "old".into(),
                    points: 30
                },
                Allocation {
                    lot_id: "new".into(),
                    points: 30
                },
            ]
        );
        assert_eq!(spend.shortfall, 0);
        assert_eq!(
            plan_spend(&lots, 100, SpendFrom::Available, t(30)).shortfall,
            20
        );
    }

    #[test]
    fn a_reversal_takes_the_orders_own_lot_first_and_reports_what_it_cannot_cover() {
        let lots = [lot("a", 10, 1, 1, None), lot("order", 5, 2, 16, None)];
        let spend = plan_spend(&lots, 20, SpendFrom::LotFirst("order"), t(3));
        assert_eq!(spend.allocations[0].lot_id, "order");
        assert_eq!(spend.covered(), 15);
        assert_eq!(spend.shortfall, 5);
    }

    #[test]
    fn expired_lots_expire_whole_and_are_never_spent() {
        let lots = [
            lot("gone", 10, 0, 0, Some(5)),
            lot("kept", 7, 1, 1, Some(400)),
        ];
        assert_eq!(
            plan_expiry(&lots, t(5)),
            vec![Allocation {
                lot_id: "gone".into(),
                points: 10
            }]
        );
        assert!(plan_expiry(&lots, t(4)).is_empty());
        assert_eq!(
            plan_spend(&lots, 17, SpendFrom::Unexpired, t(6)).shortfall,
            10
        );
    }

    #[test]
    fn the_summary_splits_available_pending_and_expiring() {
        let lots = [
            lot("a", 10, 0, 0, Some(40)),
            lot("b", 20, 25, 39, Some(365)),
            lot("c", 5, 0, 0, Some(20)),
        ];
        let s = summarize(&lots, 0, t(30), t(60));
        assert_eq!((s.available, s.pending), (10, 20));
        assert_eq!(
            s.unlocking,
            vec![Dated {
                points: 20,
                at: t(39)
            }]
        );
        assert_eq!(
            s.expiring,
            vec![Dated {
                points: 10,
                at: t(40)
            }]
        );
    }

    fn any_lots() -> impl Strategy<Value = Vec<Lot>> {
        proptest::collection::vec(
            (
                0i64..500,
                0i64..100,
                0i64..30,
                proptest::option::of(1i64..400),
            ),
            0..12,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (rem, earned, pend, exp))| {
                    lot(
                        &format!("l{i:02}"),
                        rem,
                        earned,
                        earned + pend,
                        exp.map(|e| earned + pend + e),
                    )
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn a_spend_covers_exactly_what_was_asked_without_overdrawing_any_lot(
            lots in any_lots(), points in 0i64..5000, now in 0i64..600, mode in 0u8..3,
        ) {
            let from = match mode { 0 => SpendFrom::Available, 1 => SpendFrom::Unexpired, _ => SpendFrom::LotFirst("l03") };
            let spend = plan_spend(&lots, points, from, t(now));
            prop_assert_eq!(spend.covered() + spend.shortfall, points);
            prop_assert!(spend.shortfall >= 0);
            for a in &spend.allocations {
                let l = lots.iter().find(|l| l.id == a.lot_id).unwrap();
                prop_assert!(a.points > 0 && a.points <= l.remaining);
                prop_assert!(!l.is_expired(t(now)));
                if from == SpendFrom::Available {
                    prop_assert!(l.is_available(t(now)), "pending points were redeemed");
                }
            }
            // A shortfall only when every eligible lot was used up.
            if spend.shortfall > 0 {
                let eligible: i64 = lots.iter()
                    .filter(|l| !l.is_expired(t(now)) && (from != SpendFrom::Available || l.is_available(t(now))))
                    .map(|l| l.remaining.max(0)).sum();
                prop_assert_eq!(spend.covered(), eligible);
            }
        }

        #[test]
        fn spending_is_oldest_first(lots in any_lots(), points in 0i64..5000, now in 0i64..600) {
            let spend = plan_spend(&lots, points, SpendFrom::Unexpired, t(now));
            // Every lot that sorts before the last lot touched was emptied.
            if let Some(last) = spend.allocations.last() {
                let last = lots.iter().find(|l| l.id == last.lot_id).unwrap();
                for l in lots.iter().filter(|l| l.remaining > 0 && !l.is_expired(t(now)) && l.spend_key() < last.spend_key()) {
                    let taken: i64 = spend.allocations.iter().filter(|a| a.lot_id == l.id).map(|a| a.points).sum();
                    prop_assert_eq!(taken, l.remaining);
                }
            }
        }

        #[test]
        fn available_plus_pending_is_every_unexpired_point(lots in any_lots(), now in 0i64..600) {
            let s = summarize(&lots, 0, t(now), t(now + 30));
            let unexpired: i64 = lots.iter().filter(|l| !l.is_expired(t(now))).map(|l| l.remaining).sum();
            prop_assert_eq!(s.available + s.pending, unexpired);
            let expired: i64 = plan_expiry(&lots, t(now)).iter().map(|a| a.points).sum();
            let all: i64 = lots.iter().map(|l| l.remaining).sum();
            prop_assert_eq!(unexpired + expired, all);
        }
    }
}
