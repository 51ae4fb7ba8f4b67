//! The one error type of the crate. Every variant is a caller or data problem that the engine
//! refuses to guess about; an over-limit cart is *not* an error but a [`crate::Decision`].

use jiff::civil::Date;

use crate::model::{Category, CustomerClass, Jurisdiction};

/// Why an evaluation (or loading rules) could not produce a decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitsError {
    /// No rule set for the jurisdiction.
    #[error("no purchase-limit rules for jurisdiction {0}")]
    UnknownJurisdiction(Jurisdiction),
    /// The sale predates every version of the rule set.
    #[error("no {jurisdiction} rule version in force on {date}")]
    NoVersionInForce {
        /// Jurisdiction.
        jurisdiction: Jurisdiction,
        /// Store-local date of the sale.
        date: Date,
    },
    /// The rule version has no rules for this customer class (e.g. no medical programme).
    #[error("{jurisdiction} rule version {version} has no limits for {class} customers")]
    ClassNotServed {
        /// Jurisdiction.
        jurisdiction: Jurisdiction,
        /// Version id.
        version: String,
        /// Class asked for.
        class: CustomerClass,
    },
    /// A time zone name jiff does not know.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// An item needs a measure a rule reads but it has none of them.
    #[error("{location}: {category} item lacks {needed} (required by rule {rule})")]
    MissingMeasure {
        /// `cart[2]` or `history[5].items[0]`.
        location: String,
        /// Its category.
        category: Category,
        /// Rule id.
        rule: String,
        /// Field names, any of which would do.
        needed: String,
    },
    /// An item with impossible values.
    #[error("{location}: {reason}")]
    InvalidItem {
        /// Where.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// An override or external allotment that cannot be applied.
    #[error("{0}")]
    InvalidInput(String),
    /// A rule file failed to parse or validate.
    #[error("rule file {file}: {message}")]
    RuleFile {
        /// File name.
        file: String,
        /// Problem.
        message: String,
    },
    /// Amounts too large for exact decimal arithmetic.
    #[error("amounts too large to evaluate exactly")]
    Overflow,
    /// Date/time arithmetic failed (out of range).
    #[error("time arithmetic: {0}")]
    Time(String),
}
