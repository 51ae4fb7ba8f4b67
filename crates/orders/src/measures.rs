//! Per-unit product measures, stored as integers and handed to the limits engine as decimals.
//!
//! Storage units are fine enough that every realistic label value is exact: weights in
//! milligrams, THC in micrograms, volume in microlitres. The API speaks the limits engine's
//! units (`net_weight_g`, `concentrate_g`, `thc_mg`, `volume_ml`) and refuses values more precise
//! than storage can hold instead of rounding them.

use canopy_limits::{Category, Item};
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measures {
    pub net_weight_mg: Option<i64>,
    pub concentrate_mg: Option<i64>,
    pub thc_ug: Option<i64>,
    pub volume_ul: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct MeasureError {
    pub field: &'static str,
    pub message: String,
}

/// Serialised in the API's units (decimal strings), never in storage units.
impl Serialize for Measures {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            net_weight_g: Option<Decimal>,
            concentrate_g: Option<Decimal>,
            thc_mg: Option<Decimal>,
            volume_ml: Option<Decimal>,
        }
        View {
            net_weight_g: self.net_weight_g(),
            concentrate_g: self.concentrate_g(),
            thc_mg: self.thc_mg(),
            volume_ml: self.volume_ml(),
        }
        .serialize(s)
    }
}

/// Largest per-unit measure accepted (1,000 kg in mg): far above any product, far below overflow.
const MAX_STORED: i64 = 1_000_000_000;

fn to_thousandths(
    field: &'static str,
    value: Option<Decimal>,
) -> Result<Option<i64>, MeasureError> {
    let Some(v) = value else { return Ok(None) };
    let err = |message: &str| MeasureError {
        field,
        message: message.to_string(),
    };
    if v.is_sign_negative() && !v.is_zero() {
        return Err(err("must not be negative"));
    }
    let scaled = v
        .checked_mul(Decimal::from(1000))
        .ok_or_else(|| err("too large"))?;
    if !scaled.fract().is_zero() {
        return Err(err("at most 3 decimal places"));
    }
    let n: i64 = scaled.trunc().try_into().map_err(|_| err("too large"))?;
    if n > MAX_STORED {
        return Err(err("too large"));
    }
    Ok(Some(n))
}

fn from_thousandths(n: Option<i64>) -> Option<Decimal> {
    n.map(|n| Decimal::new(n, 3).normalize())
}

impl Measures {
    /// From the API's units; each at most 3 decimal places.
    pub fn from_decimals(
        net_weight_g: Option<Decimal>,
        concentrate_g: Option<Decimal>,
        thc_mg: Option<Decimal>,
        volume_ml: Option<Decimal>,
    ) -> Result<Measures, MeasureError> {
        Ok(Measures {
            net_weight_mg: to_thousandths("net_weight_g", net_weight_g)?,
            concentrate_mg: to_thousandths("concentrate_g", concentrate_g)?,
            thc_ug: to_thousandths("thc_mg", thc_mg)?,
            volume_ul: to_thousandths("volume_ml", volume_ml)?,
        })
    }

    pub fn net_weight_g(&self) -> Option<Decimal> {
        from_thousandths(self.net_weight_mg)
    }
    pub fn concentrate_g(&self) -> Option<Decimal> {
        from_thousandths(self.concentrate_mg)
    }
    pub fn thc_mg(&self) -> Option<Decimal> {
        from_thousandths(self.thc_ug)
    }
    pub fn volume_ml(&self) -> Option<Decimal> {
        from_thousandths(self.volume_ul)
    }

    /// The limits engine's view of `quantity` units (negative for returns recorded in history).
    pub fn to_item(&self, category: Category, quantity: i32) -> Item {
        Item {
            category,
            quantity,
            net_weight_g: self.net_weight_g(),
            concentrate_g: self.concentrate_g(),
            thc_mg: self.thc_mg(),
            volume_ml: self.volume_ml(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Option<Decimal> {
        Some(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn label_values_are_stored_exactly_and_read_back_unchanged() {
        let m = Measures::from_decimals(d("3.5"), d("0.5"), d("2.5"), d("355")).unwrap();
        assert_eq!(m.net_weight_mg, Some(3500));
        assert_eq!(m.thc_ug, Some(2500));
        assert_eq!(m.volume_ul, Some(355_000));
        assert_eq!(m.net_weight_g(), d("3.5"));
        let item = m.to_item(Category::Flower, 2);
        assert_eq!(item.thc_mg, d("2.5"));
        assert_eq!(item.quantity, 2);
    }

    #[test]
    fn values_more_precise_than_storage_are_refused_not_rounded() {
        let err = Measures::from_decimals(d("3.5001"), None, None, None).unwrap_err();
        assert_eq!(err.field, "net_weight_g");
        assert!(Measures::from_decimals(None, d("-1"), None, None).is_err());
    }
}
