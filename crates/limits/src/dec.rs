//! Serde helpers: decimals accepted as JSON strings or numbers, always exact.
//!
//! A JSON number such as `3.5` reaches us as an `f64`; we go through its shortest round-trip
//! text (`"3.5"`) so `0.1` becomes exactly `0.1`, never `0.1000000000000000055…`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

struct DecVisitor;

impl Visitor<'_> for DecVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number, as a string (\"3.5\") or a JSON number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        let v = v.trim();
        Decimal::from_str(v)
            .or_else(|_| Decimal::from_scientific(v))
            .map_err(|_| E::custom(format!("{v:?} is not a decimal number")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("decimal must be finite"));
        }
        self.visit_str(&v.to_string())
    }
}

/// Deserialize a required decimal from a string or a number.
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecVisitor)
}

/// Deserialize an optional decimal (`null` or absent gives `None`).
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    struct OptVisitor;
    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            required(d).map(Some)
        }
    }
    d.deserialize_option(OptVisitor)
}
