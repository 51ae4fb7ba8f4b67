//! Rule files: the TOML format (raw, as written by people) and the validated, pre-computed
//! form the engine evaluates. See `docs/limits.md` for the format with examples.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::LimitsError;
use crate::model::{Category, CustomerClass, Jurisdiction, OverrideKind};
use crate::units::{Dimension, Quantity, Unit};
use crate::window::Window;

// ---------------------------------------------------------------------------------------------
// Raw file format
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    jurisdiction: String,
    name: String,
    time_zone: String,
    grams_per_ounce: String,
    #[serde(default)]
    notes: Option<String>,
    versions: Vec<RawVersion>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    id: String,
    effective: Date,
    #[serde(default)]
    summary: Option<String>,
    /// Start from the previous version's rules and min ages (default true).
    #[serde(default = "yes")]
    inherit: bool,
    #[serde(default)]
    remove_rules: Vec<String>,
    #[serde(default)]
    min_age: BTreeMap<CustomerClass, u8>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    label: String,
    classes: Vec<CustomerClass>,
    window: Window,
    #[serde(default)]
    limit: Option<Quantity>,
    /// Used when `limit` is absent (limit comes only from an override).
    #[serde(default)]
    unit: Option<Unit>,
    #[serde(default)]
    min_age: Option<u8>,
    #[serde(default)]
    max_age: Option<u8>,
    #[serde(default)]
    residency: Residency,
    counts: Vec<RawCount>,
    #[serde(default)]
    overrides: Vec<RawOverridePolicy>,
    citation: Citation,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCount {
    categories: Vec<Category>,
    measure: OneOrMany<Measure>,
    #[serde(default)]
    per: Option<Quantity>,
    #[serde(default)]
    counts_as: Option<Quantity>,
    #[serde(default)]
    thc_mg_per_unit_at_most: Option<Decimal>,
    #[serde(default)]
    thc_mg_per_unit_above: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverridePolicy {
    kind: OverrideKind,
    #[serde(default)]
    max: Option<Quantity>,
    #[serde(default)]
    unlimited: bool,
}

// ---------------------------------------------------------------------------------------------
// Validated form
// ---------------------------------------------------------------------------------------------

/// Where a rule text comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// URL of the regulation or the regulator's page.
    pub source: String,
    /// Section, e.g. `4 CCR §15409(a)(1)`.
    pub section: String,
}

/// Which residency a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residency {
    /// Everyone (default).
    #[default]
    Any,
    /// Residents only.
    Resident,
    /// Non-residents only.
    NonResident,
}

/// Which number on an item a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// `net_weight_g` × quantity (mass).
    NetWeight,
    /// `concentrate_g` × quantity (mass).
    Concentrate,
    /// `thc_mg` × quantity (mass).
    Thc,
    /// `volume_ml` × quantity (volume).
    Volume,
    /// quantity (count).
    Units,
}

impl Measure {
    /// What the measure's number is.
    pub fn dimension(self) -> Dimension {
        match self {
            Measure::NetWeight | Measure::Concentrate | Measure::Thc => Dimension::Mass,
            Measure::Volume => Dimension::Volume,
            Measure::Units => Dimension::Count,
        }
    }
    /// Field name on [`crate::Item`].
    pub fn field(self) -> &'static str {
        match self {
            Measure::NetWeight => "net_weight_g",
            Measure::Concentrate => "concentrate_g",
            Measure::Thc => "thc_mg",
            Measure::Volume => "volume_ml",
            Measure::Units => "quantity",
        }
    }
}

/// A per-patient override a rule accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverridePolicy {
    /// Which document kind.
    pub kind: OverrideKind,
    /// Ceiling on what the override may grant (MT petition: 8 oz), in base units.
    #[serde(skip)]
    pub(crate) max_base: Option<Decimal>,
    /// The ceiling as written.
    pub max: Option<Quantity>,
    /// An override of this kind without an amount removes the limit (NJ hospice).
    pub unlimited: bool,
}

/// How items of some categories count toward a rule, pre-computed for exact arithmetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contribution {
    pub(crate) categories: u16,
    pub(crate) category_list: Vec<Category>,
    /// First measure the item has is used.
    pub(crate) measures: Vec<Measure>,
    /// Multiplier from the measure's base unit to the rule's *scaled* base unit.
    pub(crate) weight: Decimal,
    pub(crate) thc_at_most: Option<Decimal>,
    pub(crate) thc_above: Option<Decimal>,
}

/// One limit in a rule version.
///
/// Arithmetic is exact: weighted equivalencies (`per = "8 g", counts_as = "1 oz"`) would need a
/// division, so every amount is instead multiplied by `scale` (the product of the distinct
/// `per` amounts) and compared against `limit × scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) classes: Vec<CustomerClass>,
    pub(crate) window: Window,
    pub(crate) limit: Option<Quantity>,
    pub(crate) unit: Unit,
    pub(crate) min_age: Option<u8>,
    pub(crate) max_age: Option<u8>,
    pub(crate) residency: Residency,
    pub(crate) contributions: Vec<Contribution>,
    pub(crate) scale: Decimal,
    pub(crate) overrides: Vec<OverridePolicy>,
    pub(crate) citation: Citation,
    pub(crate) note: Option<String>,
    pub(crate) all_categories: u16,
}

impl Rule {
    /// Rule id, unique within its rule set.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Human label ("Concentrate").
    pub fn label(&self) -> &str {
        &self.label
    }
    /// Its window.
    pub fn window(&self) -> Window {
        self.window
    }
    /// The limit as written (`None`: limit comes only from a per-patient override).
    pub fn limit(&self) -> Option<Quantity> {
        self.limit
    }
    /// Unit the rule reports in.
    pub fn unit(&self) -> Unit {
        self.unit
    }
    /// Classes it applies to.
    pub fn classes(&self) -> &[CustomerClass] {
        &self.classes
    }
    /// Source of the rule.
    pub fn citation(&self) -> &Citation {
        &self.citation
    }
    /// Interpretation note (conservative readings are explained here).
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
    /// Categories that count toward it.
    pub fn categories(&self) -> Vec<Category> {
        Category::ALL
            .into_iter()
            .filter(|c| self.all_categories & c.bit() != 0)
            .collect()
    }
    /// Overrides it accepts.
    pub fn override_policies(&self) -> &[OverridePolicy] {
        &self.overrides
    }
}

/// The rules in force from one effective date until the next version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleVersion {
    pub(crate) id: String,
    pub(crate) effective: Date,
    pub(crate) summary: Option<String>,
    pub(crate) min_age: BTreeMap<CustomerClass, u8>,
    pub(crate) rules: Vec<Rule>,
}

impl RuleVersion {
    /// Version id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// First store-local day it is in force.
    pub fn effective(&self) -> Date {
        self.effective
    }
    /// What changed.
    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref()
    }
    /// Its rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    /// Minimum age per class.
    pub fn min_age(&self, class: CustomerClass) -> Option<u8> {
        self.min_age.get(&class).copied()
    }
    /// Every measure some rule of this version reads on an item of `category` (besides its
    /// count): what a line described by the caller, not the catalogue, has to carry. A rule that
    /// takes "the first measure the item has" lists each, since leaving one out would let the
    /// caller choose which one is counted.
    pub fn measures_for(&self, category: Category) -> BTreeSet<Measure> {
        let mut out = BTreeSet::new();
        for c in self.rules.iter().flat_map(|r| &r.contributions) {
            if c.categories & category.bit() == 0 {
                continue;
            }
            out.extend(c.measures.iter().copied().filter(|m| *m != Measure::Units));
            if c.thc_at_most.is_some() || c.thc_above.is_some() {
                out.insert(Measure::Thc);
            }
        }
        out
    }

    /// Classes any rule of this version applies to.
    pub fn classes(&self) -> BTreeSet<CustomerClass> {
        self.rules
            .iter()
            .flat_map(|r| r.classes.iter().copied())
            .collect()
    }
}

/// All versions of one jurisdiction's rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub(crate) jurisdiction: Jurisdiction,
    pub(crate) name: String,
    pub(crate) time_zone_name: String,
    pub(crate) time_zone: TimeZone,
    pub(crate) grams_per_ounce: Decimal,
    pub(crate) notes: Option<String>,
    pub(crate) versions: Vec<RuleVersion>,
}

impl RuleSet {
    /// Jurisdiction code.
    pub fn jurisdiction(&self) -> &Jurisdiction {
        &self.jurisdiction
    }
    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Default IANA time zone.
    pub fn time_zone_name(&self) -> &str {
        &self.time_zone_name
    }
    /// Default time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }
    /// Grams per ounce this regulator uses.
    pub fn grams_per_ounce(&self) -> Decimal {
        self.grams_per_ounce
    }
    /// File-level notes.
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }
    /// Versions, oldest first.
    pub fn versions(&self) -> &[RuleVersion] {
        &self.versions
    }
    /// The version in force on a store-local date, if any.
    pub fn version_on(&self, date: Date) -> Option<&RuleVersion> {
        self.versions.iter().rev().find(|v| v.effective <= date)
    }

    /// Parse and validate one rule file. `file` names it in error messages.
    pub fn from_toml(file: &str, text: &str) -> Result<RuleSet, LimitsError> {
        let err = |message: String| LimitsError::RuleFile {
            file: file.to_string(),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let jurisdiction = Jurisdiction::from_str(&raw.jurisdiction).map_err(err)?;
        let time_zone = TimeZone::get(&raw.time_zone)
            .map_err(|e| err(format!("time_zone {:?}: {e}", raw.time_zone)))?;
        let grams_per_ounce = Decimal::from_str(&raw.grams_per_ounce)
            .map_err(|e| err(format!("grams_per_ounce: {e}")))?;
        if !(Decimal::from(28)..=Decimal::from(30)).contains(&grams_per_ounce) {
            return Err(err(format!(
                "grams_per_ounce {grams_per_ounce} is not between 28 and 30"
            )));
        }
        if raw.versions.is_empty() {
            return Err(err("no versions".into()));
        }
        let mut versions: Vec<RuleVersion> = Vec::new();
        let mut raw_versions = raw.versions;
        raw_versions.sort_by_key(|v| v.effective);
        let mut prev_raw: Vec<RawRule> = Vec::new();
        let mut prev_age: BTreeMap<CustomerClass, u8> = BTreeMap::new();
        let mut ids = BTreeSet::new();
        for v in raw_versions {
            let ctx = |m: String| err(format!("version {}: {m}", v.id));
            if !ids.insert(v.id.clone()) {
                return Err(ctx("duplicate version id".into()));
            }
            if versions.last().is_some_and(|p| p.effective == v.effective) {
                return Err(ctx("two versions with the same effective date".into()));
            }
            let (mut rules, mut min_age) = if v.inherit {
                (prev_raw.clone(), prev_age.clone())
            } else {
                (Vec::new(), BTreeMap::new())
            };
            for id in &v.remove_rules {
                let before = rules.len();
                rules.retain(|r| &r.id != id);
                if rules.len() == before {
                    return Err(ctx(format!("remove_rules: no inherited rule {id:?}")));
                }
            }
            for r in &v.rules {
                if let Some(existing) = rules.iter_mut().find(|e| e.id == r.id) {
                    *existing = r.clone();
                } else {
                    rules.push(r.clone());
                }
            }
            min_age.extend(v.min_age.iter().map(|(k, a)| (*k, *a)));
            let compiled = rules
                .iter()
                .map(|r| {
                    compile_rule(r, grams_per_ounce).map_err(|m| ctx(format!("rule {}: {m}", r.id)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut seen = BTreeSet::new();
            for r in &compiled {
                if !seen.insert(r.id.as_str()) {
                    return Err(ctx(format!("duplicate rule id {:?}", r.id)));
                }
            }
            if compiled.is_empty() {
                return Err(ctx("no rules".into()));
            }
            versions.push(RuleVersion {
                id: v.id.clone(),
                effective: v.effective,
                summary: v.summary.clone(),
                min_age: min_age.clone(),
                rules: compiled,
            });
            prev_raw = rules;
            prev_age = min_age;
        }
        Ok(RuleSet {
            jurisdiction,
            name: raw.name,
            time_zone_name: raw.time_zone,
            time_zone,
            grams_per_ounce,
            notes: raw.notes,
            versions,
        })
    }
}

fn compile_rule(r: &RawRule, gpo: Decimal) -> Result<Rule, String> {
    if r.id.is_empty()
        || !r
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err("id must be non-empty [A-Za-z0-9._-]".into());
    }
    if r.classes.is_empty() {
        return Err("classes is empty".into());
    }
    if r.counts.is_empty() {
        return Err("counts is empty".into());
    }
    if r.citation.source.trim().is_empty() || r.citation.section.trim().is_empty() {
        return Err("citation needs source and section".into());
    }
    let unit = match (r.limit, r.unit) {
        (Some(l), None) => l.unit,
        (Some(l), Some(u)) if l.unit == u => u,
        (Some(_), Some(_)) => return Err("unit disagrees with limit".into()),
        (None, Some(u)) => {
            if r.overrides.is_empty() {
                return Err("a rule without a limit must accept an override".into());
            }
            u
        }
        (None, None) => return Err("limit (or unit, for override-only rules) required".into()),
    };
    if let (Some(a), Some(b)) = (r.min_age, r.max_age)
        && a > b
    {
        return Err("min_age > max_age".into());
    }
    let dim = unit.dimension();
    // (numerator, denominator) per contribution, in base units.
    let mut fracs = Vec::new();
    for c in &r.counts {
        if c.categories.is_empty() {
            return Err("a counts entry has no categories".into());
        }
        let measures = match &c.measure {
            OneOrMany::One(m) => vec![*m],
            OneOrMany::Many(v) => v.clone(),
        };
        if measures.is_empty() {
            return Err("a counts entry has no measure".into());
        }
        let mdim = measures[0].dimension();
        if measures.iter().any(|m| m.dimension() != mdim) {
            return Err("fallback measures must share a dimension".into());
        }
        let frac = match (c.per, c.counts_as) {
            (None, None) => {
                if mdim != dim {
                    return Err(format!(
                        "measure {:?} cannot count toward a limit in {unit} without per/counts_as",
                        measures[0]
                    ));
                }
                (Decimal::ONE, Decimal::ONE)
            }
            (Some(per), Some(as_)) => {
                if per.unit.dimension() != mdim {
                    return Err(format!(
                        "per {per} does not match measure {:?}",
                        measures[0]
                    ));
                }
                if as_.unit.dimension() != dim {
                    return Err(format!("counts_as {as_} does not match limit unit {unit}"));
                }
                let d = per.to_base(gpo).ok_or("overflow")?;
                if d.is_zero() {
                    return Err("per must be positive".into());
                }
                (as_.to_base(gpo).ok_or("overflow")?, d.normalize())
            }
            _ => return Err("per and counts_as go together".into()),
        };
        fracs.push(frac);
    }
    let mut dens: Vec<Decimal> = fracs
        .iter()
        .map(|f| f.1)
        .filter(|d| *d != Decimal::ONE)
        .collect();
    dens.sort();
    dens.dedup();
    let scale = dens
        .iter()
        .try_fold(Decimal::ONE, |acc, d| acc.checked_mul(*d))
        .ok_or("scale overflow")?;
    let mut contributions = Vec::new();
    let mut all = 0u16;
    for (c, (num, den)) in r.counts.iter().zip(fracs) {
        let others = dens
            .iter()
            .filter(|d| **d != den)
            .try_fold(Decimal::ONE, |acc, d| acc.checked_mul(*d))
            .ok_or("weight overflow")?;
        let weight = num.checked_mul(others).ok_or("weight overflow")?;
        // A category may appear in several entries on purpose: an infused pre-roll can count
        // its net weight as flower *and* its infusion as concentrate in the same rule.
        let bits = c.categories.iter().fold(0u16, |b, cat| b | cat.bit());
        all |= bits;
        contributions.push(Contribution {
            categories: bits,
            category_list: c.categories.clone(),
            measures: match &c.measure {
                OneOrMany::One(m) => vec![*m],
                OneOrMany::Many(v) => v.clone(),
            },
            weight,
            thc_at_most: c.thc_mg_per_unit_at_most,
            thc_above: c.thc_mg_per_unit_above,
        });
    }
    let mut overrides = Vec::new();
    for o in &r.overrides {
        let max_base = match o.max {
            Some(m) if m.unit.dimension() != dim => {
                return Err(format!("override max {m} does not match limit unit {unit}"));
            }
            Some(m) => Some(m.to_base(gpo).ok_or("overflow")?),
            None => None,
        };
        overrides.push(OverridePolicy {
            kind: o.kind,
            max_base,
            max: o.max,
            unlimited: o.unlimited,
        });
    }
    Ok(Rule {
        id: r.id.clone(),
        label: r.label.clone(),
        classes: r.classes.clone(),
        window: r.window,
        limit: r.limit,
        unit,
        min_age: r.min_age,
        max_age: r.max_age,
        residency: r.residency,
        contributions,
        scale,
        overrides,
        citation: r.citation.clone(),
        note: r.note.clone(),
        all_categories: all,
    })
}
