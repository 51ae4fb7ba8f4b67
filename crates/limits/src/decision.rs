//! Outputs: the decision, one outcome per binding rule, and the manager-override record.

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{CustomerClass, EnforcementMode, Jurisdiction, OverrideKind};
use crate::rules::Citation;
use crate::units::Unit;
use crate::window::{Span, Window};

/// What the checkout should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within every limit.
    Allowed,
    /// Over a limit, store runs in warn mode: a manager may override (record a
    /// [`ManagerOverride`]).
    OverrideRequired,
    /// Over a limit in block mode, or the customer is not eligible (never overridable).
    Blocked,
}

/// Where the limit of an outcome came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LimitSource {
    /// The rule file.
    Rule,
    /// A per-patient override on file.
    CustomerOverride {
        /// Which kind of document.
        override_kind: OverrideKind,
    },
}

/// How far one binding rule is used, for the budtender screen and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// Rule id from the rule file.
    pub rule: String,
    /// Human label ("Concentrate").
    pub label: String,
    /// Window of the rule.
    pub window: Window,
    /// The instants of history that counted (absent for per-transaction rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_span: Option<Span>,
    /// History + cart, in `unit`. Rounded to 4 decimal places for display; the decision itself
    /// is made on exact values.
    pub used: Decimal,
    /// History part of `used` (after returns and external allotments).
    pub from_history: Decimal,
    /// Cart part of `used`.
    pub from_cart: Decimal,
    /// The limit in `unit`; `None` when an override removed it.
    pub limit: Option<Decimal>,
    /// What is left after this cart (zero when over).
    pub remaining: Decimal,
    /// Unit of `used`, `limit`, `remaining`.
    pub unit: Unit,
    /// The cart takes this rule over its limit.
    pub exceeded: bool,
    /// Where the limit came from.
    pub limit_source: LimitSource,
    /// An external allotment was applied.
    pub external_allotment: bool,
    /// Regulation it comes from.
    pub citation: Citation,
    /// "Concentrate: 6.5 g of 8 g today, 1.5 g left".
    pub message: String,
}

/// A reason the customer cannot buy at all, whatever the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ineligibility {
    /// Stable code (`under_minimum_age`).
    pub code: String,
    /// Human message.
    pub message: String,
}

/// The answer to an [`crate::EvaluationRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// `true` iff every limit holds and the customer is eligible (independent of enforcement
    /// mode: in warn mode an over-limit cart is `allowed: false`, `verdict: override_required`).
    pub allowed: bool,
    /// What the checkout should do.
    pub verdict: Verdict,
    /// Rules the cart exceeds.
    pub violations: Vec<RuleOutcome>,
    /// Every rule that applies to this customer, exceeded or not.
    pub outcomes: Vec<RuleOutcome>,
    /// Eligibility problems (not overridable).
    pub ineligible: Vec<Ineligibility>,
    /// Jurisdiction evaluated.
    pub jurisdiction: Jurisdiction,
    /// Rule version in force at `at`.
    pub rule_version: String,
    /// Its effective date.
    pub rule_version_effective: Date,
    /// Time zone used for day boundaries.
    pub time_zone: String,
    /// Class evaluated.
    pub class: CustomerClass,
    /// Enforcement mode used.
    pub enforcement: EnforcementMode,
    /// Things the caller should know (ignored overrides, …).
    pub notices: Vec<String>,
}

impl Decision {
    /// The human messages of the violated rules, one per line.
    pub fn explain(&self) -> String {
        self.ineligible
            .iter()
            .map(|i| i.message.as_str())
            .chain(self.violations.iter().map(|v| v.message.as_str()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A manager's approval of an over-limit sale in warn mode. The server stores it with the
/// sale; the engine only defines its shape. Build it with [`ManagerOverride::for_decision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerOverride {
    /// Jurisdiction of the sale.
    pub jurisdiction: Jurisdiction,
    /// Rule version the decision used.
    pub rule_version: String,
    /// Rules overridden, with the amounts at the time.
    pub rules: Vec<OverriddenRule>,
    /// Staff member who approved (an opaque id from the server).
    pub approved_by: String,
    /// Why.
    pub reason: String,
    /// When (from the server's clock, not the engine's).
    pub at: Timestamp,
}

/// One overridden rule in a [`ManagerOverride`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverriddenRule {
    /// Rule id.
    pub rule: String,
    /// Window.
    pub window: Window,
    /// Used amount including the cart.
    pub used: Decimal,
    /// Limit.
    pub limit: Option<Decimal>,
    /// Unit.
    pub unit: Unit,
}

impl ManagerOverride {
    /// Build the record for a decision whose verdict is [`Verdict::OverrideRequired`].
    /// Returns `None` for any other verdict: allowed carts need no override and blocked ones
    /// cannot have one.
    pub fn for_decision(
        decision: &Decision,
        approved_by: impl Into<String>,
        reason: impl Into<String>,
        at: Timestamp,
    ) -> Option<ManagerOverride> {
        if decision.verdict != Verdict::OverrideRequired {
            return None;
        }
        Some(ManagerOverride {
            jurisdiction: decision.jurisdiction.clone(),
            rule_version: decision.rule_version.clone(),
            rules: decision
                .violations
                .iter()
                .map(|v| OverriddenRule {
                    rule: v.rule.clone(),
                    window: v.window,
                    used: v.used,
                    limit: v.limit,
                    unit: v.unit,
                })
                .collect(),
            approved_by: approved_by.into(),
            reason: reason.into(),
            at,
        })
    }
}
