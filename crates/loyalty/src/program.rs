//! The program a store sets up, and the arithmetic it implies.

use canopy_domain::CustomerType;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::LoyaltyError;

/// Which order amount earns points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarnBasis {
    /// The amount before discounts (list prices).
    BeforeDiscounts,
    /// What the customer actually pays, after discounts and points.
    AfterDiscounts,
}

/// How a fractional point is settled when earning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// $9.99 at $1 a point earns 9.
    Down,
    /// Half a point or more rounds up: $9.50 earns 10, $9.49 earns 9.
    Nearest,
}

/// The two amounts of an order that points can be earned on, in cents, excluding tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAmounts {
    /// The order at list prices.
    pub before_discounts_cents: i64,
    /// What the customer pays after every discount, including the value of points redeemed on the order.
    pub after_discounts_cents: i64,
}

/// A store's loyalty program. One per installation; changes apply to points earned afterwards (a lot keeps
/// the pending period and expiry it was earned under), while the value of a point is always the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// Off: nothing is earned and nothing can be redeemed; balances are kept.
    pub enabled: bool,
    /// Cents spent per point earned: 100 means $1 = 1 point.
    pub spend_cents_per_point: i64,
    /// With `value_cents`: `value_points` points are worth `value_cents` cents (100 points = $5 is 100 / 500).
    pub value_points: i64,
    /// See `value_points`.
    pub value_cents: i64,
    /// Which amount earns points.
    pub earn_basis: EarnBasis,
    /// How fractional points are settled when earning.
    pub rounding: Rounding,
    /// Days earned points stay locked before they can be redeemed: the return window, so a refund can take
    /// them back before they are spent.
    pub pending_days: u32,
    /// Points expire this many days after they were earned; `null` means never.
    pub expiry_days: Option<u32>,
    /// Customer types that earn and redeem points.
    pub customer_types: Vec<CustomerType>,
    /// Jurisdictions (e.g. `"NY"`) where sales neither earn nor redeem points.
    pub excluded_jurisdictions: Vec<String>,
}

impl Default for Program {
    fn default() -> Self {
        Program {
            enabled: true,
            spend_cents_per_point: 100,
            value_points: 100,
            value_cents: 500,
            earn_basis: EarnBasis::AfterDiscounts,
            rounding: Rounding::Down,
            pending_days: 0,
            expiry_days: None,
            customer_types: vec![
                CustomerType::AdultUse,
                CustomerType::Medical,
                CustomerType::Caregiver,
            ],
            excluded_jurisdictions: Vec::new(),
        }
    }
}

/// Upper bound on any single amount (a trillion cents): keeps every product well inside `i128` and every
/// result inside `i64`.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

fn in_range(field: &'static str, value: i64, min: i64) -> Result<(), LoyaltyError> {
    if value < min || value > MAX_AMOUNT {
        return Err(LoyaltyError::invalid(
            field,
            format!("must be between {min} and {MAX_AMOUNT}"),
        ));
    }
    Ok(())
}

impl Program {
    /// Checks every setting and normalises jurisdictions (trimmed, upper case, no duplicates). The only way
    /// settings from outside should become a `Program` the ledger uses.
    pub fn validated(mut self) -> Result<Program, LoyaltyError> {
        in_range("spend_cents_per_point", self.spend_cents_per_point, 1)?;
        in_range("value_points", self.value_points, 1)?;
        in_range("value_cents", self.value_cents, 0)?;
        if self.pending_days > 365 {
            return Err(LoyaltyError::invalid("pending_days", "must be at most 365"));
        }
        if let Some(days) = self.expiry_days {
            if !(1..=3650).contains(&days) {
                return Err(LoyaltyError::invalid(
                    "expiry_days",
                    "must be between 1 and 3650, or null for never",
                ));
            }
            if days <= self.pending_days {
                return Err(LoyaltyError::invalid(
                    "expiry_days",
                    "must be longer than pending_days, or points would expire before they can be used",
                ));
            }
        }
        if self.customer_types.is_empty() {
            return Err(LoyaltyError::invalid(
                "customer_types",
                "name at least one customer type (switch the program off with enabled = false)",
            ));
        }
        self.customer_types.sort_by_key(|t| t.as_str());
        self.customer_types.dedup();
        let mut jurisdictions = Vec::new();
        for raw in &self.excluded_jurisdictions {
            let j = raw.trim().to_ascii_uppercase();
            if j.is_empty()
                || j.len() > 10
                || !j.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(LoyaltyError::invalid(
                    "excluded_jurisdictions",
                    format!("{raw:?} is not a jurisdiction code"),
                ));
            }
            jurisdictions.push(j);
        }
        jurisdictions.sort();
        jurisdictions.dedup();
        self.excluded_jurisdictions = jurisdictions;
        Ok(self)
    }

    /// Whether a sale to this customer type in this jurisdiction earns and redeems points; `Err` says why not.
    pub fn check_eligible(
        &self,
        customer_type: CustomerType,
        jurisdiction: Option<&str>,
    ) -> Result<(), LoyaltyError> {
        if !self.enabled {
            return Err(LoyaltyError::NotEligible(
                "the loyalty program is switched off".into(),
            ));
        }
        if !self.customer_types.contains(&customer_type) {
            return Err(LoyaltyError::NotEligible(format!(
                "{} customers are not in the loyalty program",
                customer_type.as_str()
            )));
        }
        if let Some(j) = jurisdiction {
            let j = j.trim().to_ascii_uppercase();
            if self.excluded_jurisdictions.contains(&j) {
                return Err(LoyaltyError::NotEligible(format!(
                    "sales in {j} do not earn or redeem points"
                )));
            }
        }
        Ok(())
    }

    /// Points an order earns (before eligibility, which [`Program::check_eligible`] decides). Negative
    /// amounts earn nothing.
    pub fn points_for(&self, amounts: OrderAmounts) -> i64 {
        let basis = match self.earn_basis {
            EarnBasis::BeforeDiscounts => amounts.before_discounts_cents,
            EarnBasis::AfterDiscounts => amounts.after_discounts_cents,
        };
        if basis <= 0 {
            return 0;
        }
        let (basis, per) = (
            i128::from(basis),
            i128::from(self.spend_cents_per_point.max(1)),
        );
        let points = match self.rounding {
            Rounding::Down => basis / per,
            Rounding::Nearest => (2 * basis + per) / (2 * per),
        };
        clamp_i64(points)
    }

    /// What `points` are worth, in cents, rounded down (a customer never receives more than the points are
    /// worth).
    pub fn value_cents(&self, points: i64) -> i64 {
        if points <= 0 {
            return 0;
        }
        clamp_i64(
            i128::from(points) * i128::from(self.value_cents)
                / i128::from(self.value_points.max(1)),
        )
    }

    /// The most points a customer with `available` points may redeem on an order of `order_total_cents`:
    /// the smaller of what they have and the largest number of points whose value fits in the total.
    pub fn max_redeemable(&self, available: i64, order_total_cents: i64) -> i64 {
        if available <= 0 || order_total_cents <= 0 || self.value_cents <= 0 {
            return 0;
        }
        // value(p) = floor(p * vc / vp) <= total  <=>  p * vc < (total + 1) * vp
        //           <=>  p <= ceil((total + 1) * vp / vc) - 1
        let (vc, vp) = (
            i128::from(self.value_cents),
            i128::from(self.value_points.max(1)),
        );
        let bound = (i128::from(order_total_cents) + 1) * vp;
        let fit = (bound + vc - 1) / vc - 1;
        clamp_i64(fit).min(available)
    }

    /// What redeeming `points` on an order is worth, in cents, or why the customer may not: the program
    /// must cover them, they must have the points available, and the value may not exceed
    /// `order_total_cents` (the order after discounts, before points). The checkout asks this before it
    /// prices the cart; the ledger checks the same rules again under the customer's lock when it writes.
    pub fn redemption(
        &self,
        customer_type: CustomerType,
        jurisdiction: Option<&str>,
        points: i64,
        available: i64,
        order_total_cents: i64,
    ) -> Result<i64, LoyaltyError> {
        if points <= 0 {
            return Err(LoyaltyError::invalid("points", "must be greater than zero"));
        }
        self.check_eligible(customer_type, jurisdiction)?;
        if points > available {
            return Err(LoyaltyError::InsufficientPoints {
                requested: points,
                available: available.max(0),
            });
        }
        let max = self.max_redeemable(available, order_total_cents);
        if points > max {
            return Err(LoyaltyError::ExceedsOrderTotal {
                requested: points,
                max,
            });
        }
        Ok(self.value_cents(points))
    }

    /// When points earned at `earned_at` become redeemable and when they expire.
    pub fn lot_dates(&self, earned_at: Timestamp) -> (Timestamp, Option<Timestamp>) {
        let available_at = add_days(earned_at, self.pending_days);
        let expires_at = self.expiry_days.map(|d| add_days(earned_at, d));
        (available_at, expires_at)
    }
}

/// Days are whole 24-hour periods from the moment points were earned, so a lot's dates do not depend on
/// the store's time zone or daylight-saving changes.
fn add_days(at: Timestamp, days: u32) -> Timestamp {
    at.checked_add(SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(Timestamp::MAX)
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn program(spend: i64, vp: i64, vc: i64, rounding: Rounding) -> Program {
        Program {
            spend_cents_per_point: spend,
            value_points: vp,
            value_cents: vc,
            rounding,
            ..Program::default()
        }
    }

    fn amounts(before: i64, after: i64) -> OrderAmounts {
        OrderAmounts {
            before_discounts_cents: before,
            after_discounts_cents: after,
        }
    }

    #[test]
    fn a_dollar_a_point_rounds_down_or_to_nearest() {
        let down = program(100, 100, 500, Rounding::Down);
        let nearest = program(100, 100, 500, Rounding::Nearest);
        assert_eq!(down.points_for(amounts(0, 999)), 9);
        assert_eq!(nearest.points_for(amounts(0, 999)), 10);
        assert_eq!(nearest.points_for(amounts(0, 949)), 9);
        assert_eq!(nearest.points_for(amounts(0, 950)), 10);
        assert_eq!(down.points_for(amounts(0, -500)), 0);
    }

    #[test]
    fn the_earn_basis_picks_the_amount_before_or_after_discounts() {
        let mut p = Program {
            earn_basis: EarnBasis::BeforeDiscounts,
            ..Program::default()
        };
        assert_eq!(p.points_for(amounts(5000, 4000)), 50);
        p.earn_basis = EarnBasis::AfterDiscounts;
        assert_eq!(p.points_for(amounts(5000, 4000)), 40);
    }

    #[test]
    fn a_hundred_points_are_worth_five_dollars_and_fractions_round_down() {
        let p = program(100, 100, 500, Rounding::Down);
        assert_eq!(p.value_cents(100), 500);
        assert_eq!(p.value_cents(1), 5);
        let p = program(100, 300, 100, Rounding::Down);
        assert_eq!(p.value_cents(299), 99);
    }

    #[test]
    fn at_most_the_order_total_can_be_paid_with_points() {
        let p = program(100, 100, 500, Rounding::Down);
        assert_eq!(p.max_redeemable(1000, 703), 140);
        assert_eq!(p.max_redeemable(50, 703), 50);
        assert_eq!(p.max_redeemable(1000, 0), 0);
    }

    #[test]
    fn settings_out_of_range_name_their_field() {
        let bad = Program {
            spend_cents_per_point: 0,
            ..Program::default()
        };
        assert!(matches!(
            bad.validated(),
            Err(LoyaltyError::Invalid {
                field: "spend_cents_per_point",
                ..
            })
        ));
        let bad = Program {
            pending_days: 14,
            expiry_days: Some(10),
            ..Program::default()
        };
        assert!(matches!(
            bad.validated(),
            Err(LoyaltyError::Invalid {
                field: "expiry_days",
                ..
            })
        ));
        let bad = Program {
            customer_types: vec![],
            ..Program::default()
        };
        assert!(matches!(
            bad.validated(),
            Err(LoyaltyError::Invalid {
                field: "customer_types",
                ..
            })
        ));
    }

    #[test]
    fn a_redemption_is_worth_its_points_within_the_balance_and_the_order() {
        let p = Program {
            value_points: 100,
            value_cents: 500,
            ..Program::default()
        };
        let adult = CustomerType::AdultUse;
        assert_eq!(p.redemption(adult, Some("CO"), 200, 847, 8_600), Ok(1_000));
        assert_eq!(
            p.redemption(adult, Some("CO"), 900, 847, 8_600),
            Err(LoyaltyError::InsufficientPoints {
                requested: 900,
                available: 847
            })
        );
        // $5 of order: at most 100 points ($5.00) fit.
        assert_eq!(
            p.redemption(adult, Some("CO"), 120, 847, 500),
            Err(LoyaltyError::ExceedsOrderTotal {
                requested: 120,
                max: 100
            })
        );
        assert!(matches!(
            p.redemption(adult, Some("CO"), 0, 847, 500),
            Err(LoyaltyError::Invalid {
                field: "points",
                ..
            })
        ));
        let off = Program {
            enabled: false,
            ..p
        };
        assert!(matches!(
            off.redemption(adult, None, 10, 847, 500),
            Err(LoyaltyError::NotEligible(_))
        ));
    }

    #[test]
    fn excluded_jurisdictions_and_customer_types_decide_eligibility() {
        let p = Program {
            customer_types: vec![CustomerType::Medical],
            excluded_jurisdictions: vec![" ny ".into()],
            ..Program::default()
        }
        .validated()
        .unwrap();
        assert_eq!(p.excluded_jurisdictions, vec!["NY".to_string()]);
        assert!(p.check_eligible(CustomerType::Medical, Some("CO")).is_ok());
        assert!(p.check_eligible(CustomerType::Medical, Some("ny")).is_err());
        assert!(p.check_eligible(CustomerType::AdultUse, None).is_err());
        let off = Program {
            enabled: false,
            ..Program::default()
        };
        assert!(off.check_eligible(CustomerType::AdultUse, None).is_err());
    }

    #[test]
    fn lots_are_pending_then_expire_whole_days_after_earning() {
        let p = Program {
            pending_days: 14,
            expiry_days: Some(365),
            ..Program::default()
        };
        let t: Timestamp = "2026-03-08T09:00:00Z".parse().unwrap();
        let (available, expires) = p.lot_dates(t);
        assert_eq!(
            available,
            "2026-03-22T09:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(expires, Some("2027-03-08T09:00:00Z".parse().unwrap()));
    }

    fn any_program() -> impl Strategy<Value = Program> {
        (1i64..10_000, 1i64..10_000, 0i64..10_000, any::<bool>()).prop_map(|(s, vp, vc, n)| {
            program(
                s,
                vp,
                vc,
                if n { Rounding::Nearest } else { Rounding::Down },
            )
        })
    }

    proptest! {
        #[test]
        fn earning_is_monotone_and_never_beats_the_rate(p in any_program(), a in 0i64..100_000_000, b in 0i64..100_000_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(p.points_for(amounts(0, lo)) <= p.points_for(amounts(0, hi)));
            // Rounding to nearest gives at most half a point more than the exact rate.
            let pts = i128::from(p.points_for(amounts(0, hi)));
            prop_assert!(2 * pts * i128::from(p.spend_cents_per_point) <= 2 * i128::from(hi) + i128::from(p.spend_cents_per_point));
        }

        #[test]
        fn a_redemption_never_exceeds_the_order_or_the_balance(p in any_program(), available in 0i64..10_000_000, total in 0i64..10_000_000) {
            let max = p.max_redeemable(available, total);
            prop_assert!(max >= 0 && max <= available);
            prop_assert!(p.value_cents(max) <= total);
            // And it is the largest such number.
            if max < available && p.value_cents > 0 {
                prop_assert!(p.value_cents(max + 1) > total);
            }
        }

        #[test]
        fn value_is_additive_up_to_rounding_down(p in any_program(), a in 0i64..10_000_000, b in 0i64..10_000_000) {
            let split = p.value_cents(a) + p.value_cents(b);
            let whole = p.value_cents(a + b);
            prop_assert!(split <= whole && whole <= split + 1);
        }
    }
}
