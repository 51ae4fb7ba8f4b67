//! The largest values Canopy accepts anywhere, in one place (listed in `docs/security.md`).
//!
//! Far above anything a shop sells or counts, and far below where arithmetic could overflow: with these
//! caps every sum of money, points or weights Canopy computes fits in an `i64` with room to spare (200
//! lines × 10,000 units × $100 million is 2 × 10^17 cents, under the 9.2 × 10^18 an `i64` holds), so a
//! hostile number is a 422 naming its field, never a wrap-around, a panic or a false "corrupt" log.

use crate::FieldError;

/// Any amount of money, in cents: $100 million.
pub const MAX_MONEY_CENTS: i64 = 10_000_000_000;
/// Loyalty points in one entry or redemption, either way.
pub const MAX_POINTS: i64 = 1_000_000_000;
/// Units of one order line or one return line.
pub const MAX_QUANTITY: u32 = 10_000;
/// Lines in one order.
pub const MAX_ORDER_LINES: usize = 200;
/// Payments in one order.
pub const MAX_PAYMENTS: usize = 20;
/// Addresses on one customer.
pub const MAX_ADDRESSES: usize = 10;
/// Every other list in a request (allotments, discounts, categories, stores, events, scopes).
pub const MAX_LIST: usize = 100;
/// The magnitude of a decimal input (grams, milligrams, millilitres, percent): larger decimals are
/// refused before any unit conversion multiplies them.
pub const MAX_DECIMAL: i64 = 1_000_000_000;

/// Refuses a list longer than `max`.
pub fn list(field: &str, len: usize, max: usize) -> Result<(), FieldError> {
    if len > max {
        return Err(FieldError::new(
            field,
            "too_many",
            format!("{field} takes at most {max} items"),
        ));
    }
    Ok(())
}

/// An amount of money from 0 to [`MAX_MONEY_CENTS`].
pub fn money(field: &str, cents: i64) -> Result<i64, FieldError> {
    if !(0..=MAX_MONEY_CENTS).contains(&cents) {
        return Err(FieldError::new(
            field,
            "invalid_amount",
            format!("{field} must be between 0 and {MAX_MONEY_CENTS} cents"),
        ));
    }
    Ok(cents)
}

/// A sum of amounts that were each checked; `None` would mean a cap is missing upstream.
pub fn checked_sum(amounts: impl IntoIterator<Item = i64>) -> Option<i64> {
    amounts.into_iter().try_fold(0i64, i64::checked_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_leave_room_for_every_sum() {
        let line = i128::from(MAX_MONEY_CENTS) * i128::from(MAX_QUANTITY);
        assert!(line * MAX_ORDER_LINES as i128 * 2 < i128::from(i64::MAX));
        assert_eq!(checked_sum([i64::MAX, i64::MAX]), None);
        assert_eq!(checked_sum([1, 2, 3]), Some(6));
        assert!(money("amount", -1).is_err());
        assert!(money("amount", i64::MAX).is_err());
        assert!(list("lines", 201, MAX_ORDER_LINES).is_err());
    }
}
