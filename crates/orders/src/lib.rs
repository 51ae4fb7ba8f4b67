//! # canopy-orders — the arithmetic and rules of an order, without I/O
//!
//! Everything a checkout decides that does not need the database lives here, so it can be tested
//! exhaustively: the order lifecycle ([`status`]), prices, group discounts and refunds in integer
//! cents ([`pricing`]), who may buy at all ([`eligibility`]), the per-unit measures that the
//! limits engine reads ([`measures`]), and the whole compliance gate built from them ([`gate`]:
//! `evaluate` for a sale, `eligibility_at` for check-in, ID scans and the customer view). The store
//! crate loads the inputs, calls these functions and writes the result in one transaction.
//!
//! Invariants: no clock (callers pass `today`/`now`), no floats (money is `i64` cents, weights
//! integer milligrams), every function total (errors are values).

pub mod eligibility;
pub mod gate;
pub mod measures;
pub mod model;
pub mod pricing;
pub mod status;

pub use eligibility::{
    ComplianceFacts, LicenceType, Reason, Subject, check_eligibility, class_of, eligibility,
    min_age, purchase_class,
};
pub use gate::{
    Actions, AllotmentAuthority, Eligibility, Evaluation, GateError, GateInputs, LineInput,
    LoyaltyInputs, PatientLink, Place, PriceOverride, PriceOverrideLine, ResolvedLine,
    eligibility_at, evaluate, limits_subject, required_measures, resolve_line,
};
pub use measures::{MeasureError, Measures};
pub use model::{
    Discount, Group, Order, OrderEvent, OrderLine, PAYMENT_METHODS, Payment, Product, ProductDraft,
    RetailStore, StoreSettings,
};
pub use pricing::{
    AppliedDiscount, CartLine, DiscountKind, GroupDiscount, LinePrice, Priced, PricingError,
    allocate, best_discount, price, refund_for,
};
pub use status::{IllegalTransition, OrderStatus, SalesChannel, initial_status, transition};

/// Whose purchases count toward a store's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HistoryScope {
    /// Only this store's own sales.
    Store,
    /// Every store of the same licensee in the same jurisdiction (default: a customer cannot
    /// dodge a daily limit by crossing town to a sister store).
    #[default]
    Licensee,
    /// The state tracking system is authoritative: remaining allotments sent with the checkout
    /// replace local history rule by rule; local licensee history covers rules it does not report.
    State,
}

impl HistoryScope {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryScope::Store => "store",
            HistoryScope::Licensee => "licensee",
            HistoryScope::State => "state",
        }
    }

    pub fn parse(s: &str) -> Option<HistoryScope> {
        match s {
            "store" => Some(HistoryScope::Store),
            "licensee" => Some(HistoryScope::Licensee),
            "state" => Some(HistoryScope::State),
            _ => None,
        }
    }
}
