//! Returns: taking back the points an order earned and giving back the points it redeemed, in proportion to
//! how much of the order came back.

use serde::{Deserialize, Serialize};

use crate::LoyaltyError;

/// How much of an order one return brings back, in the order's own terms: the returned lines' value and the
/// whole order's value, measured the same way (e.g. both as line totals after discounts, before tax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnShare {
    /// Value of what this return brings back.
    pub returned_cents: i64,
    /// Value of the whole order; the same for every return of the order.
    pub order_total_cents: i64,
}

/// What one return does to the customer's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reversal {
    /// Earned points taken back (≥ 0).
    pub take_back: i64,
    /// Redeemed points given back (≥ 0).
    pub give_back: i64,
}

/// The points one return reverses, given what the order `earned` and `redeemed` and the cents of it
/// returned before.
///
/// Both amounts are computed on the *cumulative* share returned and the earlier part subtracted, so any
/// sequence of partial returns adds up to exactly one full return: all earned points taken back and all
/// redeemed points given back. Taking back rounds up and giving back rounds down, so at no point does a
/// customer hold more than the unreturned share of the order entitles them to.
pub fn reversal(
    earned: i64,
    redeemed: i64,
    returned_before_cents: i64,
    share: ReturnShare,
) -> Result<Reversal, LoyaltyError> {
    let ReturnShare {
        returned_cents,
        order_total_cents,
    } = share;
    if order_total_cents <= 0 {
        return Err(LoyaltyError::invalid(
            "order_total_cents",
            "must be greater than zero",
        ));
    }
    if returned_cents <= 0 {
        return Err(LoyaltyError::invalid(
            "returned_cents",
            "must be greater than zero",
        ));
    }
    let remaining_cents = order_total_cents - returned_before_cents.max(0);
    if returned_cents > remaining_cents {
        return Err(LoyaltyError::ReturnExceedsOrder {
            returned_cents,
            remaining_cents: remaining_cents.max(0),
        });
    }
    let before = returned_before_cents.max(0);
    let after = before + returned_cents;
    let take_back = share_of(earned, after, order_total_cents, true)
        - share_of(earned, before, order_total_cents, true);
    let give_back = share_of(redeemed, after, order_total_cents, false)
        - share_of(redeemed, before, order_total_cents, false);
    Ok(Reversal {
        take_back,
        give_back,
    })
}

/// `points × part / whole`, rounded up or down, for `0 ≤ part ≤ whole`.
fn share_of(points: i64, part: i64, whole: i64, round_up: bool) -> i64 {
    let (p, n, d) = (
        i128::from(points.max(0)),
        i128::from(part),
        i128::from(whole),
    );
    let v = if round_up {
        (p * n + d - 1) / d
    } else {
        p * n / d
    };
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn share(returned: i64, total: i64) -> ReturnShare {
        ReturnShare {
            returned_cents: returned,
            order_total_cents: total,
        }
    }

    #[test]
    fn a_full_return_reverses_everything() {
        let r = reversal(45, 100, 0, share(6000, 6000)).unwrap();
        assert_eq!(
            r,
            Reversal {
                take_back: 45,
                give_back: 100
            }
        );
    }

    #[test]
    fn a_third_returned_takes_back_rounded_up_and_gives_back_rounded_down() {
        let r = reversal(10, 10, 0, share(1000, 3000)).unwrap();
        assert_eq!(
            r,
            Reversal {
                take_back: 4,
                give_back: 3
            }
        );
    }

    #[test]
    fn returning_more_than_is_left_of_the_order_is_refused() {
        assert_eq!(
            reversal(10, 0, 2500, share(1000, 3000)),
            Err(LoyaltyError::ReturnExceedsOrder {
                returned_cents: 1000,
                remaining_cents: 500
            })
        );
        assert!(reversal(10, 0, 0, share(0, 3000)).is_err());
        assert!(reversal(10, 0, 0, share(10, 0)).is_err());
    }

    proptest! {
        #[test]
        fn partial_returns_add_up_to_one_full_return(
            earned in 0i64..100_000, redeemed in 0i64..100_000, total in 1i64..1_000_000,
            cuts in proptest::collection::vec(1i64..1_000_000, 0..8),
        ) {
            // Split the order into returns at arbitrary points.
            let mut points: Vec<i64> = cuts.into_iter().map(|c| c % total).filter(|c| *c > 0).collect();
            points.push(total);
            points.sort();
            points.dedup();
            let (mut before, mut taken, mut given) = (0i64, 0i64, 0i64);
            for p in points {
                let r = reversal(earned, redeemed, before, share(p - before, total)).unwrap();
                prop_assert!(r.take_back >= 0 && r.give_back >= 0);
                taken += r.take_back;
                given += r.give_back;
                before = p;
                // Never holds more than the unreturned share entitles: kept earned ≤ earned × unreturned.
                let kept = i128::from(earned - taken);
                prop_assert!(kept * i128::from(total) <= i128::from(earned) * i128::from(total - before));
                prop_assert!(i128::from(given) * i128::from(total) <= i128::from(redeemed) * i128::from(before));
            }
            prop_assert_eq!(taken, earned);
            prop_assert_eq!(given, redeemed);
        }
    }
}
