//! Units of measure and exact conversions.
//!
//! Every amount is a [`Decimal`]; nothing here uses floating point. Conversions only ever
//! *multiply* by exact constants (grams per ounce is a per-jurisdiction constant, the US fluid
//! ounce is exactly 29.5735295625 mL), so an amount converted to its base unit is exact.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a unit measures. Amounts can only be compared or converted within one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Base unit: gram.
    Mass,
    /// Base unit: millilitre.
    Volume,
    /// Base unit: one item (a plant, a seed, a package, a day of supply).
    Count,
}

/// A unit that a limit, a measure or an override can be expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milligram.
    Mg,
    /// Gram.
    G,
    /// Avoirdupois ounce, converted with the jurisdiction's own grams-per-ounce constant.
    Oz,
    /// Millilitre.
    Ml,
    /// US fluid ounce (29.5735295625 mL, exact).
    FlOz,
    /// Countable items: plants, seeds, packages.
    Units,
    /// Days of supply (Ohio-style fraction-of-supply limits).
    Days,
}

/// Millilitres in one US fluid ounce (exact by definition: 231 in³ / 128).
pub fn ml_per_fl_oz() -> Decimal {
    Decimal::new(295_735_295_625, 10)
}

impl Unit {
    /// The dimension this unit measures.
    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Mg | Unit::G | Unit::Oz => Dimension::Mass,
            Unit::Ml | Unit::FlOz => Dimension::Volume,
            Unit::Units | Unit::Days => Dimension::Count,
        }
    }

    /// How many base units (g, mL, count) one of this unit is.
    pub fn base_factor(self, grams_per_ounce: Decimal) -> Decimal {
        match self {
            Unit::Mg => Decimal::new(1, 3),
            Unit::G | Unit::Ml | Unit::Units | Unit::Days => Decimal::ONE,
            Unit::Oz => grams_per_ounce,
            Unit::FlOz => ml_per_fl_oz(),
        }
    }

    /// The short symbol used in files, JSON and messages.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Mg => "mg",
            Unit::G => "g",
            Unit::Oz => "oz",
            Unit::Ml => "ml",
            Unit::FlOz => "fl_oz",
            Unit::Units => "units",
            Unit::Days => "days",
        }
    }

    fn display_symbol(self) -> &'static str {
        match self {
            Unit::FlOz => "fl oz",
            Unit::Ml => "mL",
            Unit::Days => "days' supply",
            other => other.symbol(),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_symbol())
    }
}

impl FromStr for Unit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "mg" => Unit::Mg,
            "g" => Unit::G,
            "oz" => Unit::Oz,
            "ml" => Unit::Ml,
            "fl_oz" | "fl oz" | "floz" => Unit::FlOz,
            "unit" | "units" | "each" => Unit::Units,
            "day" | "days" => Unit::Days,
            other => return Err(format!("unknown unit {other:?}")),
        })
    }
}

/// An amount with its unit, written `"8 g"`, `"1 oz"`, `"72 fl_oz"` or `"10 units"` in rule files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    /// The number, exact.
    pub amount: Decimal,
    /// Its unit.
    pub unit: Unit,
}

impl Quantity {
    /// The amount in the base unit of its dimension (g, mL or count).
    pub fn to_base(self, grams_per_ounce: Decimal) -> Option<Decimal> {
        self.amount
            .checked_mul(self.unit.base_factor(grams_per_ounce))
    }
}

impl FromStr for Quantity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s
            .find(|c: char| c.is_whitespace())
            .ok_or_else(|| format!("quantity {s:?} must be written as \"<number> <unit>\""))?;
        let (num, unit) = s.split_at(split);
        let amount = Decimal::from_str(num.trim())
            .map_err(|e| format!("quantity {s:?}: bad number {num:?}: {e}"))?;
        if amount.is_sign_negative() {
            return Err(format!("quantity {s:?} must not be negative"));
        }
        Ok(Quantity {
            amount,
            unit: unit.parse()?,
        })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount.normalize(), self.unit)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!(
            "{} {}",
            self.amount.normalize(),
            self.unit.symbol()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_with_units() {
        let q: Quantity = "28.5 g".parse().unwrap();
        assert_eq!(q.amount, Decimal::new(285, 1));
        assert_eq!(q.unit, Unit::G);
        assert_eq!("72 fl_oz".parse::<Quantity>().unwrap().unit, Unit::FlOz);
        assert!("8g".parse::<Quantity>().is_err());
        assert!("-1 g".parse::<Quantity>().is_err());
        assert!("1 furlong".parse::<Quantity>().is_err());
    }

    #[test]
    fn ounces_convert_with_the_regulators_constant() {
        let oz: Quantity = "1 oz".parse().unwrap();
        assert_eq!(
            oz.to_base(Decimal::new(2835, 2)),
            Some(Decimal::new(2835, 2))
        );
        let floz: Quantity = "72 fl_oz".parse().unwrap();
        assert_eq!(
            floz.to_base(Decimal::ONE).unwrap(),
            Decimal::from(72) * ml_per_fl_oz()
        );
    }
}
