//! Evaluation: a cart plus history at a timestamp against the rule version in force.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::decision::{Decision, Ineligibility, LimitSource, RuleOutcome, Verdict};
use crate::model::{
    AllotmentMode, CustomerClass, CustomerOverride, EnforcementMode, EvaluationRequest, Item,
};
use crate::rules::{Measure, Residency, Rule, RuleSet};
use crate::units::Unit;
use crate::window::{Span, Window};
use crate::{LimitsError, RuleBook};

/// Resolve the store's zone: the request's if given, else the rule set's default.
pub(crate) fn resolve_zone(
    set: &RuleSet,
    name: Option<&str>,
) -> Result<(TimeZone, String), LimitsError> {
    match name {
        Some(n) => TimeZone::get(n)
            .map(|tz| (tz, n.to_string()))
            .map_err(|_| LimitsError::UnknownTimeZone(n.to_string())),
        None => Ok((set.time_zone.clone(), set.time_zone_name.clone())),
    }
}

fn checked_add(a: Decimal, b: Decimal) -> Result<Decimal, LimitsError> {
    a.checked_add(b).ok_or(LimitsError::Overflow)
}

fn checked_mul(a: Decimal, b: Decimal) -> Result<Decimal, LimitsError> {
    a.checked_mul(b).ok_or(LimitsError::Overflow)
}

/// Validate measures: never negative; cart quantities never negative.
fn check_item(item: &Item, location: &dyn Fn() -> String, cart: bool) -> Result<(), LimitsError> {
    if cart && item.quantity < 0 {
        return Err(LimitsError::InvalidItem {
            location: location(),
            reason: "cart quantity must not be negative (record returns in history)".into(),
        });
    }
    for (name, v) in [
        ("net_weight_g", item.net_weight_g),
        ("concentrate_g", item.concentrate_g),
        ("thc_mg", item.thc_mg),
        ("volume_ml", item.volume_ml),
    ] {
        if v.is_some_and(|v| v.is_sign_negative() && !v.is_zero()) {
            return Err(LimitsError::InvalidItem {
                location: location(),
                reason: format!("{name} must not be negative"),
            });
        }
    }
    Ok(())
}

/// Add one item line to the per-contribution sums of a rule (in the measures' base units).
/// Weights are applied once per contribution afterwards ([`weigh`]): fewer wide multiplications.
fn accumulate(
    rule: &Rule,
    item: &Item,
    sums: &mut [Decimal],
    location: &dyn Fn() -> String,
) -> Result<(), LimitsError> {
    let bit = item.category.bit();
    if rule.all_categories & bit == 0 || item.quantity == 0 {
        return Ok(());
    }
    for (c, sum) in rule.contributions.iter().zip(sums.iter_mut()) {
        if c.categories & bit == 0 {
            continue;
        }
        if c.thc_at_most.is_some() || c.thc_above.is_some() {
            let Some(thc) = item.thc_mg else {
                return Err(LimitsError::MissingMeasure {
                    location: location(),
                    category: item.category,
                    rule: rule.id.clone(),
                    needed: "thc_mg".into(),
                });
            };
            if c.thc_at_most.is_some_and(|m| thc > m) || c.thc_above.is_some_and(|m| thc <= m) {
                continue;
            }
        }
        let per_unit = c.measures.iter().find_map(|m| match m {
            Measure::NetWeight => item.net_weight_g,
            Measure::Concentrate => item.concentrate_g,
            Measure::Thc => item.thc_mg.map(mg_to_g),
            Measure::Volume => item.volume_ml,
            Measure::Units => Some(Decimal::ONE),
        });
        let Some(per_unit) = per_unit else {
            return Err(LimitsError::MissingMeasure {
                location: location(),
                category: item.category,
                rule: rule.id.clone(),
                needed: c
                    .measures
                    .iter()
                    .map(|m| m.field())
                    .collect::<Vec<_>>()
                    .join(" or "),
            });
        };
        let line = if item.quantity == 1 {
            per_unit
        } else {
            checked_mul(per_unit, Decimal::from(item.quantity))?
        };
        *sum = checked_add(*sum, line)?;
    }
    Ok(())
}

/// Exact milligrams → grams (a scale shift, no rounding).
fn mg_to_g(mg: Decimal) -> Decimal {
    let mut g = mg;
    if g.set_scale(mg.scale() + 3).is_ok() {
        g
    } else {
        mg * Decimal::new(1, 3)
    }
}

/// Apply each contribution's weight to its sum: the rule's scaled total.
fn weigh(rule: &Rule, sums: &[Decimal]) -> Result<Decimal, LimitsError> {
    let mut total = Decimal::ZERO;
    for (c, sum) in rule.contributions.iter().zip(sums) {
        if !sum.is_zero() {
            total = checked_add(total, checked_mul(*sum, c.weight)?)?;
        }
    }
    Ok(total)
}

/// The override limit for a rule, scaled, if one applies: `Some(None)` means unlimited.
struct OverrideLimit {
    limit_scaled: Option<Decimal>,
    source: LimitSource,
}

fn override_for(
    rule: &Rule,
    overrides: &[CustomerOverride],
    today: Date,
    gpo: Decimal,
    used: &mut [bool],
    notices: &mut Vec<String>,
) -> Result<Option<OverrideLimit>, LimitsError> {
    let mut best: Option<OverrideLimit> = None;
    for (i, o) in overrides.iter().enumerate() {
        let Some(policy) = rule.overrides.iter().find(|p| p.kind == o.kind) else {
            continue;
        };
        let matches = match (&o.rule, o.category) {
            (Some(id), _) => id == &rule.id,
            (None, Some(cat)) => rule.all_categories & cat.bit() != 0,
            (None, None) => true,
        };
        if !matches {
            continue;
        }
        if o.valid_from.is_some_and(|d| today < d) || o.valid_until.is_some_and(|d| today > d) {
            if !used[i] {
                notices.push(format!(
                    "override {:?} ignored: not valid on {today}",
                    o.kind
                ));
                used[i] = true;
            }
            continue;
        }
        used[i] = true;
        let limit_scaled = match (o.amount, o.unit) {
            (None, _) if policy.unlimited => None,
            (None, _) => {
                return Err(LimitsError::InvalidInput(format!(
                    "override {:?} for rule {} needs an amount and unit",
                    o.kind, rule.id
                )));
            }
            (Some(_), None) => {
                return Err(LimitsError::InvalidInput(format!(
                    "override {:?} has an amount but no unit",
                    o.kind
                )));
            }
            (Some(a), Some(u)) => {
                if u.dimension() != rule.unit.dimension() {
                    return Err(LimitsError::InvalidInput(format!(
                        "override {:?} in {u} cannot replace rule {} in {}",
                        o.kind, rule.id, rule.unit
                    )));
                }
                if a.is_sign_negative() && !a.is_zero() {
                    return Err(LimitsError::InvalidInput(format!(
                        "override {:?} amount must not be negative",
                        o.kind
                    )));
                }
                let mut base = checked_mul(a, u.base_factor(gpo))?;
                if let Some(max) = policy.max_base
                    && base > max
                {
                    notices.push(format!(
                        "override {:?} for rule {} capped at {}",
                        o.kind,
                        rule.id,
                        policy.max.map(|m| m.to_string()).unwrap_or_default()
                    ));
                    base = max;
                }
                Some(checked_mul(base, rule.scale)?)
            }
        };
        let candidate = OverrideLimit {
            limit_scaled,
            source: LimitSource::CustomerOverride {
                override_kind: o.kind,
            },
        };
        // Several matching overrides: the smallest limit wins (conservative).
        best = match best {
            None => Some(candidate),
            Some(b) => match (b.limit_scaled, candidate.limit_scaled) {
                (Some(x), Some(y)) if y < x => Some(candidate),
                (None, Some(_)) => Some(candidate),
                _ => Some(b),
            },
        };
    }
    Ok(best)
}

/// Convert a scaled base amount to the rule's unit, rounded to 4 decimal places for display.
fn display_with(scaled: Decimal, rule: &Rule, gpo: Decimal, strategy: RoundingStrategy) -> Decimal {
    let base = scaled / rule.scale;
    let v = base / rule.unit.base_factor(gpo);
    v.round_dp_with_strategy(4, strategy).normalize()
}

fn display(scaled: Decimal, rule: &Rule, gpo: Decimal) -> Decimal {
    display_with(scaled, rule, gpo, RoundingStrategy::MidpointNearestEven)
}

fn rule_applies(rule: &Rule, class: CustomerClass, age: u8, resident: bool) -> bool {
    rule.classes.contains(&class)
        && rule.min_age.is_none_or(|m| age >= m)
        && rule.max_age.is_none_or(|m| age <= m)
        && match rule.residency {
            Residency::Any => true,
            Residency::Resident => resident,
            Residency::NonResident => !resident,
        }
}

fn fmt_amount(v: Decimal, unit: Unit) -> String {
    format!("{} {unit}", v.normalize())
}

impl RuleBook {
    /// Evaluate a proposed cart. Never reads the clock: `request.at` is the moment.
    pub fn evaluate(&self, request: &EvaluationRequest) -> Result<Decision, LimitsError> {
        let set = self.rule_set(&request.jurisdiction)?;
        let (tz, tz_name) = resolve_zone(set, request.time_zone.as_deref())?;
        let gpo = set.grams_per_ounce;
        let today = request.at.to_zoned_datetime(tz.clone()).date();
        let version = set
            .version_on(today)
            .ok_or_else(|| LimitsError::NoVersionInForce {
                jurisdiction: set.jurisdiction.clone(),
                date: today,
            })?;
        let customer = &request.customer;
        let class = customer.class;
        if !version.rules.iter().any(|r| r.classes.contains(&class)) {
            return Err(LimitsError::ClassNotServed {
                jurisdiction: set.jurisdiction.clone(),
                version: version.id.clone(),
                class,
            });
        }
        for (i, item) in request.cart.iter().enumerate() {
            check_item(item, &|| format!("cart[{i}]"), true)?;
        }
        for (h, entry) in request.history.iter().enumerate() {
            for (i, item) in entry.items.iter().enumerate() {
                check_item(item, &|| format!("history[{h}].items[{i}]"), false)?;
            }
        }

        let mut ineligible = Vec::new();
        if let Some(min) = version.min_age(class)
            && customer.age < min
        {
            ineligible.push(Ineligibility {
                code: "under_minimum_age".into(),
                message: format!(
                    "{} customers must be at least {min} in {} (customer is {})",
                    class, set.jurisdiction, customer.age
                ),
            });
        }
        let limit_age = match class {
            CustomerClass::Caregiver => customer.patient_age.unwrap_or(customer.age),
            _ => customer.age,
        };

        let mut notices = Vec::new();
        let mut override_used = vec![false; customer.overrides.len()];
        let mut spans: Vec<(Window, Option<Span>)> = Vec::new();
        let mut outcomes = Vec::new();
        let mut sums: Vec<Decimal> = Vec::new();
        for rule in version
            .rules
            .iter()
            .filter(|r| rule_applies(r, class, limit_age, customer.resident))
        {
            let span = match spans.iter().find(|(w, _)| *w == rule.window) {
                Some((_, s)) => *s,
                None => {
                    let s = rule.window.bounds(request.at, &tz)?;
                    spans.push((rule.window, s));
                    s
                }
            };
            sums.clear();
            sums.resize(rule.contributions.len(), Decimal::ZERO);
            for (i, item) in request.cart.iter().enumerate() {
                accumulate(rule, item, &mut sums, &|| format!("cart[{i}]"))?;
            }
            let cart = weigh(rule, &sums)?;
            let mut history = Decimal::ZERO;
            if let Some(span) = span {
                sums.fill(Decimal::ZERO);
                for (h, entry) in request.history.iter().enumerate() {
                    if entry.returned || !span.contains(entry.at) {
                        continue;
                    }
                    for (i, item) in entry.items.iter().enumerate() {
                        let loc = || format!("history[{h}].items[{i}]");
                        accumulate(rule, item, &mut sums, &loc)?;
                    }
                }
                history = weigh(rule, &sums)?.max(Decimal::ZERO);
            }

            let (limit_scaled, limit_source) = match override_for(
                rule,
                &customer.overrides,
                today,
                gpo,
                &mut override_used,
                &mut notices,
            )? {
                Some(o) => (o.limit_scaled, o.source),
                None => (
                    match rule.limit {
                        Some(l) => Some(checked_mul(
                            l.to_base(gpo).ok_or(LimitsError::Overflow)?,
                            rule.scale,
                        )?),
                        // Override-only rule with no override on file: nothing may be sold.
                        None => Some(Decimal::ZERO),
                    },
                    LimitSource::Rule,
                ),
            };

            let mut external = false;
            for ext in request
                .external_allotments
                .iter()
                .filter(|e| e.rule == rule.id)
            {
                if ext.unit.dimension() != rule.unit.dimension() {
                    return Err(LimitsError::InvalidInput(format!(
                        "external allotment for rule {} is in {}, rule is in {}",
                        rule.id, ext.unit, rule.unit
                    )));
                }
                let Some(limit) = limit_scaled else { continue };
                let remaining = checked_mul(
                    checked_mul(ext.remaining.max(Decimal::ZERO), ext.unit.base_factor(gpo))?,
                    rule.scale,
                )?;
                let implied = (limit - remaining).max(Decimal::ZERO);
                history = match ext.mode {
                    AllotmentMode::Replace => implied,
                    AllotmentMode::Tighten => history.max(implied),
                };
                external = true;
            }

            let used = checked_add(history, cart)?;
            let exceeded = cart > Decimal::ZERO && limit_scaled.is_some_and(|l| used > l);
            let used_d = display(used, rule, gpo);
            let limit_d = limit_scaled.map(|l| display(l, rule, gpo));
            let remaining_d = limit_scaled
                .map(|l| {
                    display_with(
                        (l - used).max(Decimal::ZERO),
                        rule,
                        gpo,
                        RoundingStrategy::ToZero,
                    )
                })
                .unwrap_or(Decimal::ZERO);
            let message = match limit_d {
                Some(limit_d) if exceeded || used > limit_scaled.unwrap_or(used) => format!(
                    "{}: {} of {} {}, over by {}",
                    rule.label,
                    fmt_amount(used_d, rule.unit),
                    fmt_amount(limit_d, rule.unit),
                    rule.window.phrase(),
                    fmt_amount(
                        display(used - limit_scaled.unwrap_or(used), rule, gpo),
                        rule.unit
                    )
                ),
                Some(limit_d) => format!(
                    "{}: {} of {} {}, {} left",
                    rule.label,
                    fmt_amount(used_d, rule.unit),
                    fmt_amount(limit_d, rule.unit),
                    rule.window.phrase(),
                    fmt_amount(remaining_d, rule.unit)
                ),
                None => format!(
                    "{}: {} {}, no limit (override on file)",
                    rule.label,
                    fmt_amount(used_d, rule.unit),
                    rule.window.phrase()
                ),
            };
            outcomes.push(RuleOutcome {
                rule: rule.id.clone(),
                label: rule.label.clone(),
                window: rule.window,
                window_span: span,
                used: used_d,
                from_history: display(history, rule, gpo),
                from_cart: display(cart, rule, gpo),
                limit: limit_d,
                remaining: remaining_d,
                unit: rule.unit,
                exceeded,
                limit_source,
                external_allotment: external,
                citation: rule.citation.clone(),
                message,
            });
        }
        for (o, used) in customer.overrides.iter().zip(&override_used) {
            if !used {
                notices.push(format!(
                    "override {:?} ignored: no applicable {} rule accepts it",
                    o.kind, set.jurisdiction
                ));
            }
        }
        for ext in &request.external_allotments {
            if !outcomes.iter().any(|o| o.rule == ext.rule) {
                notices.push(format!(
                    "external allotment for {:?} ignored: no such applicable rule",
                    ext.rule
                ));
            }
        }

        let violations: Vec<RuleOutcome> =
            outcomes.iter().filter(|o| o.exceeded).cloned().collect();
        let verdict = if !ineligible.is_empty() {
            Verdict::Blocked
        } else if violations.is_empty() {
            Verdict::Allowed
        } else {
            match request.enforcement {
                EnforcementMode::Block => Verdict::Blocked,
                EnforcementMode::Warn => Verdict::OverrideRequired,
            }
        };
        Ok(Decision {
            allowed: verdict == Verdict::Allowed,
            verdict,
            violations,
            outcomes,
            ineligible,
            jurisdiction: set.jurisdiction.clone(),
            rule_version: version.id.clone(),
            rule_version_effective: version.effective,
            time_zone: tz_name,
            class,
            enforcement: request.enforcement,
            notices,
        })
    }

    /// The earliest instant of history any rule in force at `at` can look at, or `None` when
    /// every rule is per-transaction. The server reads history from here on.
    pub fn lookback_start(
        &self,
        jurisdiction: &crate::Jurisdiction,
        at: Timestamp,
        time_zone: Option<&str>,
    ) -> Result<Option<Timestamp>, LimitsError> {
        let set = self.rule_set(jurisdiction)?;
        let (tz, _) = resolve_zone(set, time_zone)?;
        let today = at.to_zoned_datetime(tz.clone()).date();
        let version = set
            .version_on(today)
            .ok_or_else(|| LimitsError::NoVersionInForce {
                jurisdiction: set.jurisdiction.clone(),
                date: today,
            })?;
        let mut earliest: Option<Timestamp> = None;
        let mut windows: Vec<Window> = version.rules.iter().map(|r| r.window).collect();
        windows.sort();
        windows.dedup();
        for w in windows {
            if let Some(span) = w.bounds(at, &tz)? {
                earliest = Some(earliest.map_or(span.start, |e| e.min(span.start)));
            }
        }
        Ok(earliest)
    }

    /// The store-local day containing `at` in the jurisdiction's zone (or `time_zone`).
    pub fn day_bounds(
        &self,
        jurisdiction: &crate::Jurisdiction,
        at: Timestamp,
        time_zone: Option<&str>,
    ) -> Result<Span, LimitsError> {
        let set = self.rule_set(jurisdiction)?;
        let (tz, _) = resolve_zone(set, time_zone)?;
        crate::window::day_bounds(at, &tz)
    }
}
