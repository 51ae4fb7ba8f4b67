//! Prices, group discounts, loyalty allocation and refunds, in integer cents.
//!
//! **The group-discount rule** (one rule, documented because customers in several groups are where
//! other systems go wrong): every discount of every group the customer belongs to that is active
//! on the store-local date is priced against the cart, and the **single discount worth the most to
//! the customer** is applied. Discounts never stack. Ties go to the group whose name sorts first,
//! then to the discount id, so the same cart always gets the same receipt.
//!
//! Rounding: a percentage is rounded half up to the cent once, on the cart's eligible subtotal;
//! the resulting amount (and any loyalty redemption) is spread over the lines in proportion to
//! what each line still costs, by largest remainder, so line amounts always add up exactly and a
//! later return refunds what the customer actually paid for those units.

use canopy_limits::Category;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// One cart line as pricing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub category: Category,
    pub quantity: u32,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum DiscountKind {
    /// Percentage of the eligible subtotal, in basis points (1000 = 10 %).
    Percent { basis_points: u32 },
    /// A fixed amount off the eligible subtotal (never more than it).
    Amount { cents: i64 },
}

/// A discount attached to a customer group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDiscount {
    pub discount_id: String,
    pub group_id: String,
    pub group_name: String,
    pub label: String,
    pub kind: DiscountKind,
    /// Categories it applies to; `None` means every item.
    pub categories: Option<Vec<Category>>,
    /// First and last store-local day it applies (inclusive); open when absent.
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
}

impl GroupDiscount {
    pub fn active_on(&self, today: Date) -> bool {
        self.starts_on.is_none_or(|d| d <= today) && self.ends_on.is_none_or(|d| today <= d)
    }

    pub fn applies_to(&self, category: Category) -> bool {
        self.categories
            .as_ref()
            .is_none_or(|cats| cats.contains(&category))
    }

    /// What this discount takes off the cart (before loyalty), in cents.
    pub fn amount_for(&self, lines: &[CartLine]) -> Result<i64, PricingError> {
        let mut eligible: i64 = 0;
        for line in lines.iter().filter(|l| self.applies_to(l.category)) {
            eligible = eligible
                .checked_add(line_subtotal(line)?)
                .ok_or(PricingError::Overflow)?;
        }
        Ok(match self.kind {
            DiscountKind::Percent { basis_points } => {
                let bp = i128::from(basis_points.min(10_000));
                ((i128::from(eligible) * bp + 5_000) / 10_000) as i64
            }
            DiscountKind::Amount { cents } => cents.clamp(0, eligible),
        })
    }
}

/// The discount that was applied, as the receipt shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    pub source: String,
    pub discount_id: String,
    pub group_id: String,
    pub group_name: String,
    pub label: String,
    pub kind: DiscountKind,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinePrice {
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub loyalty_cents: i64,
    pub total_cents: i64,
}

/// A priced cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priced {
    pub lines: Vec<LinePrice>,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub loyalty_cents: i64,
    pub total_cents: i64,
    /// The group discount applied, if any (at most one: see the module docs).
    pub discounts: Vec<AppliedDiscount>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("amounts too large")]
    Overflow,
    #[error("lines[{0}]: price must not be negative")]
    NegativePrice(usize),
    #[error("lines[{0}]: quantity must be at least 1")]
    ZeroQuantity(usize),
    #[error("loyalty redemption of {requested} cents exceeds the {available} cents left to pay")]
    LoyaltyExceedsTotal { requested: i64, available: i64 },
    #[error("loyalty redemption must not be negative")]
    NegativeLoyalty,
}

fn line_subtotal(line: &CartLine) -> Result<i64, PricingError> {
    line.unit_price_cents
        .checked_mul(i64::from(line.quantity))
        .ok_or(PricingError::Overflow)
}

/// The single best active discount for this cart, with its amount (see the module docs).
pub fn best_discount<'a>(
    lines: &[CartLine],
    discounts: &'a [GroupDiscount],
    today: Date,
) -> Result<Option<(&'a GroupDiscount, i64)>, PricingError> {
    let mut best: Option<(&GroupDiscount, i64)> = None;
    for d in discounts.iter().filter(|d| d.active_on(today)) {
        let amount = d.amount_for(lines)?;
        if amount <= 0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((b, b_amount)) => {
                amount > b_amount
                    || (amount == b_amount
                        && (d.group_name.as_str(), d.discount_id.as_str())
                            < (b.group_name.as_str(), b.discount_id.as_str()))
            }
        };
        if better {
            best = Some((d, amount));
        }
    }
    Ok(best)
}

/// Prices a cart: line subtotals, the best group discount, then `loyalty_cents` of redemption.
pub fn price(
    lines: &[CartLine],
    discounts: &[GroupDiscount],
    today: Date,
    loyalty_cents: i64,
) -> Result<Priced, PricingError> {
    for (i, line) in lines.iter().enumerate() {
        if line.unit_price_cents < 0 {
            return Err(PricingError::NegativePrice(i));
        }
        if line.quantity == 0 {
            return Err(PricingError::ZeroQuantity(i));
        }
    }
    if loyalty_cents < 0 {
        return Err(PricingError::NegativeLoyalty);
    }
    let subtotals: Vec<i64> = lines.iter().map(line_subtotal).collect::<Result<_, _>>()?;
    let subtotal: i64 = subtotals
        .iter()
        .try_fold(0i64, |a, b| a.checked_add(*b))
        .ok_or(PricingError::Overflow)?;

    let mut line_discounts = vec![0i64; lines.len()];
    let mut applied = Vec::new();
    if let Some((d, amount)) = best_discount(lines, discounts, today)? {
        let weights: Vec<i64> = lines
            .iter()
            .zip(&subtotals)
            .map(|(l, s)| if d.applies_to(l.category) { *s } else { 0 })
            .collect();
        line_discounts = allocate(amount, &weights);
        applied.push(AppliedDiscount {
            source: "group".into(),
            discount_id: d.discount_id.clone(),
            group_id: d.group_id.clone(),
            group_name: d.group_name.clone(),
            label: d.label.clone(),
            kind: d.kind,
            amount_cents: amount,
        });
    }
    let discount: i64 = line_discounts.iter().sum();
    let after_discount: Vec<i64> = subtotals
        .iter()
        .zip(&line_discounts)
        .map(|(s, d)| s - d)
        .collect();
    let payable = subtotal - discount;
    if loyalty_cents > payable {
        return Err(PricingError::LoyaltyExceedsTotal {
            requested: loyalty_cents,
            available: payable,
        });
    }
    let line_loyalty = allocate(loyalty_cents, &after_discount);
    let priced_lines = subtotals
        .iter()
        .zip(&line_discounts)
        .zip(&line_loyalty)
        .map(|((s, d), l)| LinePrice {
            subtotal_cents: *s,
            discount_cents: *d,
            loyalty_cents: *l,
            total_cents: s - d - l,
        })
        .collect();
    Ok(Priced {
        lines: priced_lines,
        subtotal_cents: subtotal,
        discount_cents: discount,
        loyalty_cents,
        total_cents: payable - loyalty_cents,
        discounts: applied,
    })
}

/// Splits `total` over `weights` in proportion, by largest remainder (ties to the earlier index).
/// With `0 <= total <= sum(weights)` the shares add up to `total` and none exceeds its weight.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if sum == 0 || total == 0 {
        return vec![0; weights.len()];
    }
    let total = i128::from(total);
    let mut shares: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = total * i128::from((*w).max(0));
        shares.push((exact / sum) as i64);
        remainders.push((exact % sum, i));
    }
    let mut left = total - shares.iter().map(|s| i128::from(*s)).sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        if weights[i] > 0 {
            shares[i] += 1;
            left -= 1;
        }
    }
    shares
}

/// What returning `returning` more units of a line refunds, given what the line cost in total
/// (after discount and loyalty), its quantity and how many units came back before. Cumulative
/// refunds are `floor(total × returned / quantity)`, so returning every unit, in any number of
/// steps, refunds exactly the line total and never more.
pub fn refund_for(line_total: i64, quantity: u32, already_returned: u32, returning: u32) -> i64 {
    if quantity == 0 {
        return 0;
    }
    let q = i128::from(quantity);
    let upto = |n: u32| (i128::from(line_total) * i128::from(n.min(quantity)) / q) as i64;
    upto(already_returned.saturating_add(returning)) - upto(already_returned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn line(category: Category, quantity: u32, cents: i64) -> CartLine {
        CartLine {
            category,
            quantity,
            unit_price_cents: cents,
        }
    }

    fn percent(group: &str, bp: u32, categories: Option<Vec<Category>>) -> GroupDiscount {
        GroupDiscount {
            discount_id: format!("d-{group}"),
            group_id: format!("g-{group}"),
            group_name: group.into(),
            label: format!("{group} {}%", bp / 100),
            kind: DiscountKind::Percent { basis_points: bp },
            categories,
            starts_on: None,
            ends_on: None,
        }
    }

    const TODAY: Date = date(2026, 3, 14);

    #[test]
    fn a_vip_gets_ten_percent_off_and_the_receipt_names_the_group() {
        let cart = [
            line(Category::Flower, 2, 2500),
            line(Category::Edible, 1, 1999),
        ];
        let priced = price(&cart, &[percent("VIP", 1000, None)], TODAY, 0).unwrap();
        assert_eq!(priced.subtotal_cents, 6999);
        assert_eq!(priced.discount_cents, 700); // 699.9 rounds half up
        assert_eq!(priced.total_cents, 6299);
        assert_eq!(priced.discounts[0].group_name, "VIP");
        assert_eq!(
            priced.lines.iter().map(|l| l.discount_cents).sum::<i64>(),
            700
        );
    }

    #[test]
    fn a_customer_in_two_groups_gets_the_single_best_discount_not_both() {
        let cart = [line(Category::Flower, 1, 10_000)];
        let groups = [percent("VIP", 1000, None), percent("Veterans", 1500, None)];
        let priced = price(&cart, &groups, TODAY, 0).unwrap();
        assert_eq!(priced.discount_cents, 1500);
        assert_eq!(priced.discounts.len(), 1);
        assert_eq!(priced.discounts[0].group_name, "Veterans");
    }

    #[test]
    fn equal_discounts_go_to_the_group_whose_name_sorts_first() {
        let cart = [line(Category::Flower, 1, 10_000)];
        let groups = [percent("VIP", 1000, None), percent("Seniors", 1000, None)];
        let priced = price(&cart, &groups, TODAY, 0).unwrap();
        assert_eq!(priced.discounts[0].group_name, "Seniors");
    }

    #[test]
    fn a_category_discount_only_touches_its_categories_and_can_win_on_the_right_cart() {
        let cart = [
            line(Category::Flower, 1, 4000),
            line(Category::Edible, 1, 1000),
        ];
        let edibles = percent("Edible club", 5000, Some(vec![Category::Edible]));
        let priced = price(
            &cart,
            &[edibles.clone(), percent("VIP", 1000, None)],
            TODAY,
            0,
        )
        .unwrap();
        // Both take 500 cents off: the tie goes to the name that sorts first.
        assert_eq!(priced.discounts[0].group_name, "Edible club");
        assert_eq!(priced.lines[0].discount_cents, 0);
        assert_eq!(priced.lines[1].discount_cents, 500);
    }

    #[test]
    fn discounts_outside_their_dates_are_ignored() {
        let cart = [line(Category::Flower, 1, 1000)];
        let mut d = percent("Seniors", 1000, None);
        d.ends_on = Some(date(2026, 3, 13));
        assert!(
            price(&cart, &[d.clone()], TODAY, 0)
                .unwrap()
                .discounts
                .is_empty()
        );
        d.ends_on = Some(TODAY);
        assert_eq!(price(&cart, &[d], TODAY, 0).unwrap().discount_cents, 100);
    }

    #[test]
    fn a_fixed_amount_never_exceeds_what_it_applies_to() {
        let cart = [line(Category::Flower, 1, 300)];
        let d = GroupDiscount {
            kind: DiscountKind::Amount { cents: 500 },
            ..percent("Industry", 0, None)
        };
        let priced = price(&cart, &[d], TODAY, 0).unwrap();
        assert_eq!((priced.discount_cents, priced.total_cents), (300, 0));
    }

    #[test]
    fn loyalty_cannot_exceed_what_is_left_to_pay() {
        let cart = [line(Category::Flower, 1, 1000)];
        let err = price(&cart, &[percent("VIP", 1000, None)], TODAY, 901).unwrap_err();
        assert_eq!(
            err,
            PricingError::LoyaltyExceedsTotal {
                requested: 901,
                available: 900
            }
        );
    }

    #[test]
    fn returning_units_one_at_a_time_refunds_exactly_the_line_total() {
        let total = 1000; // 3 units
        let steps: Vec<i64> = (0..3).map(|k| refund_for(total, 3, k, 1)).collect();
        assert_eq!(steps, vec![333, 333, 334]);
        assert_eq!(refund_for(total, 3, 3, 1), 0);
    }

    proptest! {
        #[test]
        fn allocation_adds_up_and_respects_weights(total_frac in 0u32..=1000, weights in proptest::collection::vec(0i64..100_000, 1..8)) {
            let sum: i64 = weights.iter().sum();
            let total = sum * i64::from(total_frac) / 1000;
            let shares = allocate(total, &weights);
            prop_assert_eq!(shares.iter().sum::<i64>(), if sum == 0 { 0 } else { total });
            for (s, w) in shares.iter().zip(&weights) {
                prop_assert!(*s >= 0 && s <= w);
            }
        }

        #[test]
        fn a_priced_cart_balances(
            prices in proptest::collection::vec((0i64..50_000, 1u32..5), 1..6),
            bps in proptest::collection::vec(0u32..=10_000, 0..4),
            loyalty_frac in 0i64..=100,
        ) {
            let cart: Vec<CartLine> = prices.iter().enumerate()
                .map(|(i, (p, q))| line(Category::ALL[i % 13], *q, *p)).collect();
            let groups: Vec<GroupDiscount> = bps.iter().enumerate()
                .map(|(i, bp)| percent(&format!("g{i}"), *bp, None)).collect();
            let base = price(&cart, &groups, TODAY, 0).unwrap();
            let loyalty = base.total_cents * loyalty_frac / 100;
            let p = price(&cart, &groups, TODAY, loyalty).unwrap();
            prop_assert_eq!(p.subtotal_cents - p.discount_cents - p.loyalty_cents, p.total_cents);
            prop_assert!(p.total_cents >= 0);
            prop_assert_eq!(p.lines.iter().map(|l| l.total_cents).sum::<i64>(), p.total_cents);
            prop_assert_eq!(p.lines.iter().map(|l| l.discount_cents).sum::<i64>(), p.discount_cents);
            let best = groups.iter().map(|g| g.amount_for(&cart).unwrap()).max().unwrap_or(0);
            prop_assert_eq!(p.discount_cents, best);
        }

        #[test]
        fn refunds_in_any_steps_sum_to_at_most_the_line_total(total in 0i64..100_000, quantity in 1u32..10, steps in proptest::collection::vec(1u32..4, 1..10)) {
            let mut returned = 0;
            let mut refunded = 0;
            for s in steps {
                let s = s.min(quantity - returned);
                refunded += refund_for(total, quantity, returned, s);
                returned += s;
            }
            prop_assert!(refunded <= total);
            if returned == quantity { prop_assert_eq!(refunded, total); }
        }
    }
}
