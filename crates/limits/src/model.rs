//! Inputs to an evaluation: jurisdiction, customer, cart, history, external allotments.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::dec;
use crate::units::Unit;

/// A jurisdiction code: ISO 3166-1 alpha-2 country, `-`, subdivision (`US-CO`, `CA-ON`).
///
/// Parsing upper-cases the code, so `us-co` and `US-CO` are the same jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Jurisdiction(String);

impl Jurisdiction {
    /// The code, upper case (`US-CO`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Jurisdiction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        let ok = match up.split_once('-') {
            Some((country, region)) => {
                country.len() == 2
                    && country.bytes().all(|b| b.is_ascii_uppercase())
                    && (1..=3).contains(&region.len())
                    && region.bytes().all(|b| b.is_ascii_alphanumeric())
            }
            None => false,
        };
        if ok {
            Ok(Jurisdiction(up))
        } else {
            Err(format!(
                "{s:?} is not a jurisdiction code like \"US-CO\" or \"CA-ON\""
            ))
        }
    }
}

impl TryFrom<String> for Jurisdiction {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Jurisdiction> for String {
    fn from(j: Jurisdiction) -> String {
        j.0
    }
}

impl<'de> Deserialize<'de> for Jurisdiction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of product an item is, for limit purposes.
///
/// Rule files decide which categories count toward which limit and by which measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Dried flower / usable marijuana / leaf.
    Flower,
    /// Pre-roll of flower only.
    PreRoll,
    /// Pre-roll with added concentrate (kief, distillate, …).
    InfusedPreRoll,
    /// Concentrate / extract sold as such (wax, shatter, rosin…).
    Concentrate,
    /// Vape cartridge or disposable (concentrate for inhalation).
    Vape,
    /// Solid edible.
    Edible,
    /// Drinkable product.
    Beverage,
    /// Tincture, oil taken orally.
    Tincture,
    /// Capsule or tablet.
    Capsule,
    /// Topical (lotion, balm, patch).
    Topical,
    /// Immature plant / clone.
    ImmaturePlant,
    /// Seed.
    Seed,
    /// Anything else containing cannabis.
    Other,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 13] = [
        Category::Flower,
        Category::PreRoll,
        Category::InfusedPreRoll,
        Category::Concentrate,
        Category::Vape,
        Category::Edible,
        Category::Beverage,
        Category::Tincture,
        Category::Capsule,
        Category::Topical,
        Category::ImmaturePlant,
        Category::Seed,
        Category::Other,
    ];

    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The snake_case name used in files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Category::Flower => "flower",
            Category::PreRoll => "pre_roll",
            Category::InfusedPreRoll => "infused_pre_roll",
            Category::Concentrate => "concentrate",
            Category::Vape => "vape",
            Category::Edible => "edible",
            Category::Beverage => "beverage",
            Category::Tincture => "tincture",
            Category::Capsule => "capsule",
            Category::Topical => "topical",
            Category::ImmaturePlant => "immature_plant",
            Category::Seed => "seed",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One cart or history line. Measures are **per unit**; the line counts `quantity` units.
///
/// Which measure a rule reads depends on the rule: net weight, contained concentrate, THC,
/// volume or the unit count. A rule that needs a measure the item lacks is a data error
/// ([`crate::LimitsError::MissingMeasure`]), never a silent zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Limit category of the product.
    pub category: Category,
    /// Number of units on the line. History lines may be negative (a partial return recorded
    /// against the original sale); cart lines must be zero or more.
    #[serde(default = "one")]
    pub quantity: i32,
    /// Net weight of one unit, grams.
    #[serde(
        default,
        deserialize_with = "dec::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub net_weight_g: Option<Decimal>,
    /// Concentrate contained in one unit, grams.
    #[serde(
        default,
        deserialize_with = "dec::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub concentrate_g: Option<Decimal>,
    /// Total THC in one unit, milligrams.
    #[serde(
        default,
        deserialize_with = "dec::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub thc_mg: Option<Decimal>,
    /// Volume of one unit, millilitres.
    #[serde(
        default,
        deserialize_with = "dec::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_ml: Option<Decimal>,
}

fn one() -> i32 {
    1
}

impl Item {
    /// An item of `quantity` units with no measures; add them with the `with_*` methods.
    pub fn new(category: Category, quantity: i32) -> Self {
        Item {
            category,
            quantity,
            net_weight_g: None,
            concentrate_g: None,
            thc_mg: None,
            volume_ml: None,
        }
    }
    /// Set the per-unit net weight in grams.
    pub fn with_net_weight_g(mut self, g: Decimal) -> Self {
        self.net_weight_g = Some(g);
        self
    }
    /// Set the per-unit contained concentrate in grams.
    pub fn with_concentrate_g(mut self, g: Decimal) -> Self {
        self.concentrate_g = Some(g);
        self
    }
    /// Set the per-unit THC in milligrams.
    pub fn with_thc_mg(mut self, mg: Decimal) -> Self {
        self.thc_mg = Some(mg);
        self
    }
    /// Set the per-unit volume in millilitres.
    pub fn with_volume_ml(mut self, ml: Decimal) -> Self {
        self.volume_ml = Some(ml);
        self
    }
}

/// Who is buying, for the purpose of choosing limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CustomerClass {
    /// Adult-use (recreational) customer.
    AdultUse,
    /// Registered medical patient buying for themself.
    Medical,
    /// Registered caregiver buying for one patient: the patient's limits and history apply.
    Caregiver,
}

impl CustomerClass {
    /// The kebab-case name used in files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            CustomerClass::AdultUse => "adult-use",
            CustomerClass::Medical => "medical",
            CustomerClass::Caregiver => "caregiver",
        }
    }
}

impl fmt::Display for CustomerClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds of per-patient limit overrides that jurisdictions define. A rule file lists which
/// kinds each rule accepts; an override of a kind the rule does not accept is ignored (and
/// reported in [`crate::Decision::notices`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    /// Physician / practitioner recommendation of a different amount (CA §15409(c), MO, NY, WA).
    PhysicianRecommendation,
    /// State-approved waiver noted on the registry card (IL 77 Ill. Adm. Code 946.315).
    Waiver,
    /// Physician-affirmed hardship exemption (CO HB21-1317).
    HardshipExemption,
    /// Petition granted by the regulator (MT, up to 8 oz).
    Petition,
    /// Provider-documented larger supply (MA 60-day supply, MD).
    ProviderCertifiedSupply,
    /// Terminally ill / hospice patient (NJ: no limit).
    TerminalIllness,
}

/// A per-customer override on file (from a recommendation, waiver, petition …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerOverride {
    /// What kind of document grants it.
    pub kind: OverrideKind,
    /// The new limit. Absent means "no limit", honoured only by rules that allow that.
    #[serde(
        default,
        deserialize_with = "dec::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    /// Unit of `amount`. Required with `amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// Applies to the rules that count this category (or to every accepting rule if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Applies only to this rule id (narrower than `category`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// First day the override is valid (store-local date), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Date>,
    /// Last day the override is valid (store-local date), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Date>,
    /// Free-text provenance: document number, who entered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The customer as the limit engine sees them. No name, no ID number: only what limits need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Adult-use, medical, or caregiver for a patient.
    pub class: CustomerClass,
    /// Age in whole years of the person at the counter.
    pub age: u8,
    /// For a caregiver: the patient's age (age-banded medical limits use it). Defaults to `age`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_age: Option<u8>,
    /// Resident of the jurisdiction. Defaults to `false`: where residency matters (IL) the
    /// lower non-resident limits are the conservative choice.
    #[serde(default)]
    pub resident: bool,
    /// Overrides on file.
    #[serde(default)]
    pub overrides: Vec<CustomerOverride>,
}

/// A past purchase of this customer (for a caregiver: of the patient).
///
/// Returns: either mark the whole entry `returned` (it is then ignored), or record a partial
/// return as a line with a negative `quantity` **at the original sale's timestamp**, so the
/// allotment comes back in exactly the windows that counted the sale. Per rule and window the
/// history total never goes below zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// When the sale happened.
    pub at: Timestamp,
    /// The class the customer bought under. All history counts toward every rule regardless
    /// (CA §15409(d): adult-use and medical limits are not combined to exceed any limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<CustomerClass>,
    /// Lines sold.
    pub items: Vec<Item>,
    /// The whole sale was returned or voided.
    #[serde(default)]
    pub returned: bool,
}

/// How an external allotment combines with local history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllotmentMode {
    /// Use whichever of local history and the external figure leaves less (default).
    #[default]
    Tighten,
    /// Ignore local history for this rule; the external figure is authoritative.
    Replace,
}

/// "Remaining allotment" reported by a state system (Metrc patient status, MD data network …)
/// for one rule, before the current cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalAllotment {
    /// The rule id it stands for.
    pub rule: String,
    /// Remaining amount before this cart.
    #[serde(deserialize_with = "dec::required")]
    pub remaining: Decimal,
    /// Unit of `remaining`.
    pub unit: Unit,
    /// Replace or tighten local history.
    #[serde(default)]
    pub mode: AllotmentMode,
    /// Where it came from ("metrc"), for the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Store-chosen enforcement mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementMode {
    /// Over-limit carts are refused (default).
    #[default]
    Block,
    /// Over-limit carts need a manager override, recorded as a [`crate::ManagerOverride`].
    Warn,
}

/// Everything one evaluation needs. The engine reads nothing else: no clock, no files, no DB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRequest {
    /// Store's jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// Moment of the sale (or of the what-if).
    pub at: Timestamp,
    /// Store's IANA time zone; defaults to the rule set's zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Who is buying.
    pub customer: Customer,
    /// Proposed cart.
    pub cart: Vec<Item>,
    /// Past purchases; at least [`crate::RuleBook::lookback_start`] back.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Remaining allotments from a state system.
    #[serde(default)]
    pub external_allotments: Vec<ExternalAllotment>,
    /// Block (default) or warn.
    #[serde(default)]
    pub enforcement: EnforcementMode,
}
