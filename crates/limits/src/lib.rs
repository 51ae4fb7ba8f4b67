//! # canopy-limits — purchase-limit engine
//!
//! Decides whether a proposed cart keeps a customer within the purchase limits of the store's
//! jurisdiction, and explains every limit that binds.
//!
//! ## Architecture invariants
//!
//! * **No I/O.** The crate never reads the clock, files, the network or a database. The sale
//!   moment, the customer's history and any state-system allotment are arguments
//!   ([`EvaluationRequest`]). Rule files are compiled in with `include_str!`, so the binary is
//!   self-contained.
//! * **Rules are data.** One TOML file per jurisdiction under `rules/` (format in
//!   `docs/limits.md`), with effective-dated versions, citations and interpretation notes. The
//!   engine knows no state by name.
//! * **Exact arithmetic.** Amounts are [`rust_decimal::Decimal`]; conversions only multiply by
//!   exact constants (each regulator's grams per ounce), and weighted equivalencies are compared
//!   after scaling by the product of their denominators, so "exactly at the limit" is exact.
//! * **Day = store-local calendar day**, computed with jiff in the store's IANA zone, so DST
//!   days are 23 or 25 hours long.
//!
//! ## Entry points
//!
//! ```
//! use canopy_limits::{RuleBook, EvaluationRequest};
//! let book = RuleBook::shared();
//! let request: EvaluationRequest = serde_json::from_str(r#"{
//!   "jurisdiction": "US-CO", "at": "2026-03-14T15:30:00-07:00",
//!   "customer": {"class": "adult-use", "age": 25, "resident": true},
//!   "cart": [{"category": "concentrate", "quantity": 1, "net_weight_g": "6.5"}]
//! }"#).unwrap();
//! let decision = book.evaluate(&request).unwrap();
//! assert!(decision.allowed);
//! ```
//!
//! The server reads history from [`RuleBook::lookback_start`] on, calls
//! [`RuleBook::evaluate`], and in warn mode stores a [`ManagerOverride`] built from the
//! [`Decision`].
#![deny(missing_docs)]

mod dec;
mod decision;
mod engine;
mod error;
mod model;
mod rules;
mod units;
mod window;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use decision::{
    Decision, Ineligibility, LimitSource, ManagerOverride, OverriddenRule, RuleOutcome, Verdict,
};
pub use error::LimitsError;
pub use model::{
    AllotmentMode, Category, Customer, CustomerClass, CustomerOverride, EnforcementMode,
    EvaluationRequest, ExternalAllotment, HistoryEntry, Item, Jurisdiction, OverrideKind,
};
pub use rules::{Citation, Measure, OverridePolicy, Residency, Rule, RuleSet, RuleVersion};
pub use rust_decimal::Decimal;
pub use units::{Dimension, Quantity, Unit};
pub use window::{Span, Window, day_bounds};

/// The rule files compiled into the crate: (file name, contents).
pub const EMBEDDED_RULE_FILES: &[(&str, &str)] = &[
    ("us-ak.toml", include_str!("../../../rules/us-ak.toml")),
    ("us-az.toml", include_str!("../../../rules/us-az.toml")),
    ("us-ca.toml", include_str!("../../../rules/us-ca.toml")),
    ("us-co.toml", include_str!("../../../rules/us-co.toml")),
    ("us-ct.toml", include_str!("../../../rules/us-ct.toml")),
    ("us-de.toml", include_str!("../../../rules/us-de.toml")),
    ("us-il.toml", include_str!("../../../rules/us-il.toml")),
    ("us-ma.toml", include_str!("../../../rules/us-ma.toml")),
    ("us-md.toml", include_str!("../../../rules/us-md.toml")),
    ("us-me.toml", include_str!("../../../rules/us-me.toml")),
    ("us-mi.toml", include_str!("../../../rules/us-mi.toml")),
    ("us-mn.toml", include_str!("../../../rules/us-mn.toml")),
    ("us-mo.toml", include_str!("../../../rules/us-mo.toml")),
    ("us-mt.toml", include_str!("../../../rules/us-mt.toml")),
    ("us-nj.toml", include_str!("../../../rules/us-nj.toml")),
    ("us-nv.toml", include_str!("../../../rules/us-nv.toml")),
    ("us-ny.toml", include_str!("../../../rules/us-ny.toml")),
    ("us-oh.toml", include_str!("../../../rules/us-oh.toml")),
    ("us-or.toml", include_str!("../../../rules/us-or.toml")),
    ("us-vt.toml", include_str!("../../../rules/us-vt.toml")),
    ("us-wa.toml", include_str!("../../../rules/us-wa.toml")),
    ("ca-on.toml", include_str!("../../../rules/ca-on.toml")),
];

/// All rule sets, keyed by jurisdiction.
#[derive(Debug, Clone)]
pub struct RuleBook {
    sets: BTreeMap<Jurisdiction, RuleSet>,
}

impl RuleBook {
    /// Parse and validate the embedded rule files.
    pub fn embedded() -> Result<RuleBook, LimitsError> {
        RuleBook::from_sources(EMBEDDED_RULE_FILES.iter().copied())
    }

    /// The embedded rule book, parsed once per process.
    ///
    /// # Panics
    /// If an embedded rule file is invalid — impossible in a build whose tests passed
    /// (`all_embedded_rule_sets_load`).
    pub fn shared() -> &'static RuleBook {
        static BOOK: OnceLock<RuleBook> = OnceLock::new();
        BOOK.get_or_init(|| RuleBook::embedded().expect("embedded rule files are valid"))
    }

    /// Build a rule book from `(file name, TOML text)` pairs (for tests and tools).
    pub fn from_sources<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RuleBook, LimitsError> {
        let mut sets = BTreeMap::new();
        for (name, text) in files {
            let set = RuleSet::from_toml(name, text)?;
            let expected = name.trim_end_matches(".toml").to_ascii_uppercase();
            if name.ends_with(".toml") && set.jurisdiction.as_str() != expected {
                return Err(LimitsError::RuleFile {
                    file: name.into(),
                    message: format!("declares {} but is named for {expected}", set.jurisdiction),
                });
            }
            if let Some(prev) = sets.insert(set.jurisdiction.clone(), set) {
                return Err(LimitsError::RuleFile {
                    file: name.into(),
                    message: format!("second rule set for {}", prev.jurisdiction),
                });
            }
        }
        Ok(RuleBook { sets })
    }

    /// The rule set of a jurisdiction.
    pub fn rule_set(&self, jurisdiction: &Jurisdiction) -> Result<&RuleSet, LimitsError> {
        self.sets
            .get(jurisdiction)
            .ok_or_else(|| LimitsError::UnknownJurisdiction(jurisdiction.clone()))
    }

    /// All rule sets, by jurisdiction code.
    pub fn rule_sets(&self) -> impl Iterator<Item = &RuleSet> {
        self.sets.values()
    }
}
