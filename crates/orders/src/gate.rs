//! The compliance gate as one pure decision: [`evaluate`] for a sale (checkout and quote) and
//! [`eligibility_at`] for "may this person buy here now" (check-in, ID scan, the customer view).
//! [`evaluate`] calls [`eligibility_at`], so the two cannot disagree.
//!
//! The store loads the inputs (the customer, their compliance facts, the linked patient, the
//! catalogue products, history, discounts, loyalty balance) once each and writes the result; every
//! rule lives here: which class a customer buys under, ages, patients, catalogue authority over
//! compliance facts, price overrides, what external allotments may do, limits, override policy,
//! pricing, redemption and payments. Nothing here reads the clock: `now` is a parameter.

use std::collections::BTreeSet;

use canopy_domain::{Customer, CustomerType, ProductId, age_on};
use canopy_limits::{
    AllotmentMode, Category, CustomerClass, Decision, EvaluationRequest, ExternalAllotment,
    HistoryEntry, LimitsError, ManagerOverride, Measure, RuleBook, Verdict,
};
use canopy_loyalty::{LoyaltyError, Program};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::eligibility::default_min_age;
use crate::{
    CartLine, ComplianceFacts, GroupDiscount, HistoryScope, Measures, Payment, Priced, Product,
    Reason, StoreSettings, Subject, eligibility, min_age, price, purchase_class,
};

/// Where an eligibility question is asked.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    /// At a store: its licence decides the class, its rules the minimum age, its zone "today".
    Store(&'a StoreSettings),
    /// Outside any store (a profile read): the customer's own type and the default ages, on
    /// `today` in the server's zone.
    Anywhere { today: Date },
}

/// What staff may do with this person at this place, as the server decides it (the staff app
/// shows these and keeps no rule of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Actions {
    pub check_in: bool,
    pub sell: bool,
}

/// May the customer buy now, and if not, every reason why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    pub eligible: bool,
    /// Whole years on the place's date, when the date of birth is known.
    pub age: Option<i16>,
    pub minimum_age: u8,
    /// The class judged under (`adult-use`, `medical`, `caregiver`).
    pub class: CustomerClass,
    /// Stable `code` and a `message` staff can read out; empty exactly when `eligible`.
    pub reasons: Vec<Reason>,
    pub actions: Actions,
}

/// The one eligibility decision: the class at `place`, its minimum age, then
/// [`crate::eligibility`] on the subject.
pub fn eligibility_at(
    place: Place<'_>,
    customer_type: CustomerType,
    subject: &Subject<'_>,
    book: &RuleBook,
    now: Timestamp,
) -> Eligibility {
    let mut reasons = Vec::new();
    let (class, minimum_age, today) = match place {
        Place::Store(settings) => {
            let today = settings.today(now);
            let class = match purchase_class(settings.licence_type, customer_type) {
                Ok(class) => class,
                Err(reason) => {
                    reasons.push(reason);
                    CustomerClass::AdultUse
                }
            };
            (
                class,
                min_age(book, &settings.jurisdiction, class, today),
                today,
            )
        }
        Place::Anywhere { today } => {
            let class = crate::class_of(customer_type);
            (class, default_min_age(class), today)
        }
    };
    reasons.extend(eligibility(subject, class, now, today, minimum_age));
    let dob = subject
        .facts
        .verified
        .map(|d| d.date_of_birth)
        .or(subject.date_of_birth);
    let eligible = reasons.is_empty();
    Eligibility {
        eligible,
        age: dob.map(|dob| age_on(dob, today)),
        minimum_age,
        class,
        reasons,
        actions: Actions {
            check_in: eligible,
            sell: eligible,
        },
    }
}

/// One requested line: a SKU from the catalogue, or a product described by the caller (an external
/// POS with its own catalogue).
#[derive(Debug, Clone, Default)]
pub struct LineInput {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub category: Option<Category>,
    pub measures: Option<Measures>,
    pub unit_price_cents: Option<i64>,
    pub quantity: u32,
}

/// The line as the gate resolved it.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedLine {
    pub product_id: Option<ProductId>,
    pub sku: Option<String>,
    pub name: String,
    pub category: Category,
    pub quantity: u32,
    #[serde(flatten)]
    pub measures: Measures,
    pub unit_price_cents: i64,
    /// The catalogue's price when the line charges another (a price override).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue_price_cents: Option<i64>,
    /// Category and measures come from the caller, not the catalogue.
    pub caller_asserted: bool,
}

/// A refused request: the field at fault, a stable code, a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        code: &'static str,
        message: String,
    },
    #[error(transparent)]
    Limits(#[from] LimitsError),
}

impl GateError {
    fn invalid(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        GateError::Invalid {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// The API name of a stored measure.
fn measure_field(m: Measure) -> &'static str {
    m.field()
}

fn measure_value(m: &Measures, which: Measure) -> Option<i64> {
    match which {
        Measure::NetWeight => m.net_weight_mg,
        Measure::Concentrate => m.concentrate_mg,
        Measure::Thc => m.thc_ug,
        Measure::Volume => m.volume_ul,
        Measure::Units => None,
    }
}

const MEASURES: [Measure; 4] = [
    Measure::NetWeight,
    Measure::Concentrate,
    Measure::Thc,
    Measure::Volume,
];

/// Resolves line `i` against its catalogue product. The catalogue is the authority for category
/// and measures: a request that sends different ones is refused naming the field (sending the
/// catalogue's own values is harmless). A different price is kept and marked as an override, which
/// [`evaluate`] accepts only with a reason. A line without a SKU must carry its name, category,
/// price and every measure `required` lists for its category; it is marked caller-asserted.
pub fn resolve_line(
    i: usize,
    line: &LineInput,
    product: Option<&Product>,
    required: impl Fn(Category) -> BTreeSet<Measure>,
) -> Result<ResolvedLine, GateError> {
    let field = |f: &str| format!("lines[{i}].{f}");
    if line.quantity == 0 {
        return Err(GateError::invalid(
            field("quantity"),
            "invalid_quantity",
            "quantity must be at least 1",
        ));
    }
    if line.unit_price_cents.is_some_and(|p| p < 0) {
        return Err(GateError::invalid(
            field("unit_price_cents"),
            "invalid_price",
            "price must not be negative",
        ));
    }
    match (&line.sku, product) {
        (Some(sku), None) => Err(GateError::invalid(
            field("sku"),
            "unknown_sku",
            format!("no product with SKU {sku:?}"),
        )),
        (Some(sku), Some(p)) => {
            if p.archived {
                return Err(GateError::invalid(
                    field("sku"),
                    "product_archived",
                    format!("{sku:?} is no longer sold"),
                ));
            }
            let fact = |f: &str, what: &str| {
                GateError::invalid(
                    field(f),
                    "catalogue_fact",
                    format!(
                        "{what} of SKU {sku:?} comes from the catalogue and cannot be changed at checkout"
                    ),
                )
            };
            if line.category.is_some_and(|c| c != p.draft.category) {
                return Err(fact("category", "the category"));
            }
            if let Some(sent) = &line.measures {
                for m in MEASURES {
                    let v = measure_value(sent, m);
                    if v.is_some() && v != measure_value(&p.draft.measures, m) {
                        return Err(fact(measure_field(m), measure_field(m)));
                    }
                }
            }
            if line.name.as_ref().is_some_and(|n| n != &p.draft.name) {
                return Err(fact("name", "the name"));
            }
            let unit_price_cents = line.unit_price_cents.unwrap_or(p.draft.price_cents);
            Ok(ResolvedLine {
                product_id: Some(p.id),
                sku: Some(sku.clone()),
                name: p.draft.name.clone(),
                category: p.draft.category,
                quantity: line.quantity,
                measures: p.draft.measures,
                unit_price_cents,
                catalogue_price_cents: (unit_price_cents != p.draft.price_cents)
                    .then_some(p.draft.price_cents),
                caller_asserted: false,
            })
        }
        (None, _) => {
            let missing = |f: &str, what: &str| {
                GateError::invalid(
                    field(f),
                    "required",
                    format!("{what} is required for a line without a SKU"),
                )
            };
            let category = line
                .category
                .ok_or_else(|| missing("category", "category"))?;
            let measures = line.measures.unwrap_or_default();
            for m in required(category) {
                if measure_value(&measures, m).is_none() {
                    return Err(GateError::invalid(
                        field(measure_field(m)),
                        "required",
                        format!(
                            "{} is required for a {} line without a SKU: the jurisdiction's limits count it",
                            measure_field(m),
                            category.name()
                        ),
                    ));
                }
            }
            Ok(ResolvedLine {
                product_id: None,
                sku: None,
                name: line.name.clone().ok_or_else(|| missing("name", "name"))?,
                category,
                quantity: line.quantity,
                measures,
                unit_price_cents: line
                    .unit_price_cents
                    .ok_or_else(|| missing("unit_price_cents", "unit_price_cents"))?,
                catalogue_price_cents: None,
                caller_asserted: true,
            })
        }
    }
}

/// The measures a line of `category` described by the caller must carry in `settings`'
/// jurisdiction on `now`'s store-local date.
pub fn required_measures(
    book: &RuleBook,
    settings: &StoreSettings,
    now: Timestamp,
    category: Category,
) -> BTreeSet<Measure> {
    book.rule_set(&settings.jurisdiction)
        .ok()
        .and_then(|s| s.version_on(settings.today(now)))
        .map(|v| v.measures_for(category))
        .unwrap_or_default()
}

/// Who may make external allotments replace local history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllotmentAuthority {
    /// Staff and ordinary integrations: allotments only ever tighten.
    Local,
    /// A state-system integration (a key holding its dedicated scope): at a `state`-scope store
    /// its figures replace local history rule by rule.
    StateSystem,
}

/// The patient a caregiver names, as loaded.
#[derive(Debug, Clone, Copy)]
pub enum PatientLink<'a> {
    /// No `patient_id` in the request.
    NotNamed,
    /// Named, but not linked to the buyer (nothing else about them was read).
    NotLinked,
    Linked {
        customer: &'a Customer,
        facts: ComplianceFacts<'a>,
    },
}

/// A price different from the catalogue's: who allowed it and why (the caller holds
/// `orders:price_override`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceOverride {
    pub reason: String,
    pub approved_by: String,
    pub lines: Vec<PriceOverrideLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceOverrideLine {
    pub line_no: u32,
    pub catalogue_cents: i64,
    pub charged_cents: i64,
}

/// The loyalty figures a redemption is priced with.
#[derive(Debug, Clone, Copy)]
pub struct LoyaltyInputs<'a> {
    pub program: &'a Program,
    pub available: i64,
}

/// Everything the decision reads, loaded once by the store.
#[derive(Debug, Clone)]
pub struct GateInputs<'a> {
    pub store: &'a StoreSettings,
    pub customer: &'a Customer,
    pub facts: ComplianceFacts<'a>,
    pub patient: PatientLink<'a>,
    pub lines: Vec<ResolvedLine>,
    /// Live purchases since [`RuleBook::lookback_start`] that count toward the limits subject
    /// ([`limits_subject`]).
    pub history: Vec<HistoryEntry>,
    pub external_allotments: Vec<ExternalAllotment>,
    pub allotment_authority: AllotmentAuthority,
    pub discounts: &'a [GroupDiscount],
    /// Present when the request redeems points.
    pub loyalty: Option<LoyaltyInputs<'a>>,
    pub redeem_points: i64,
    /// A manager's reason for a warn-mode override (the caller holds `limits:override`).
    pub limits_override: Option<String>,
    /// A reason for prices different from the catalogue's (the caller holds
    /// `orders:price_override`).
    pub price_override: Option<String>,
    /// Who is deciding (staff id or key), for overrides.
    pub approver: String,
    pub payments: &'a [Payment],
}

/// Whose purchases the limits count: a caregiver's linked patient, else the buyer.
pub fn limits_subject<'a>(buyer: &'a Customer, patient: &PatientLink<'a>) -> &'a Customer {
    match patient {
        PatientLink::Linked { customer, .. } => customer,
        _ => buyer,
    }
}

/// The gate's answer: every reason, the prices and the limits decision.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// No reason to refuse (a warn-mode override, if any, has been accepted).
    pub allowed: bool,
    pub reasons: Vec<Reason>,
    pub customer_class: CustomerClass,
    pub eligibility: Eligibility,
    pub lines: Vec<ResolvedLine>,
    pub pricing: Priced,
    pub limits: Decision,
    /// The override a warn-mode decision needed, when a manager gave one.
    pub limits_override: Option<ManagerOverride>,
    /// Prices different from the catalogue's, with the reason.
    pub price_override: Option<PriceOverride>,
    /// Some line's category and measures come from the caller, not the catalogue.
    pub caller_asserted: bool,
    /// Points to redeem, when the redemption is allowed (their value is `pricing.loyalty_cents`).
    pub loyalty_points: i64,
}

/// The whole checkout decision. `Err` is a malformed request (a 4xx naming the field); a refusal
/// is `Ok` with `allowed: false` and every reason.
pub fn evaluate(
    inputs: GateInputs<'_>,
    book: &RuleBook,
    now: Timestamp,
) -> Result<Evaluation, GateError> {
    let settings = inputs.store;
    let customer = inputs.customer;
    let today = settings.today(now);
    book.rule_set(&settings.jurisdiction)?;
    let eligibility = eligibility_at(
        Place::Store(settings),
        customer.details.customer_type,
        &Subject::customer(customer, inputs.facts),
        book,
        now,
    );
    let class = eligibility.class;
    let min_age = eligibility.minimum_age;
    let mut reasons = eligibility.reasons.clone();

    let patient = patient_reasons(class, &inputs.patient, now, today, &mut reasons)?;
    let price_override = price_override(&inputs)?;
    let external_allotments = allotments(&inputs)?;

    let age = customer
        .details
        .date_of_birth
        .map(|dob| age_on(dob, today).clamp(0, 255) as u8)
        .unwrap_or(min_age);
    let resident = customer
        .details
        .id_document
        .as_ref()
        .and_then(|d| d.jurisdiction.as_deref())
        .is_some_and(|j| j.eq_ignore_ascii_case(settings.region_code()));
    let lines = inputs.lines;
    let request = EvaluationRequest {
        jurisdiction: settings.jurisdiction.clone(),
        at: now,
        time_zone: Some(settings.time_zone.clone()),
        customer: canopy_limits::Customer {
            class,
            age,
            patient_age: patient
                .and_then(|p| p.details.date_of_birth)
                .map(|dob| age_on(dob, today).clamp(0, 255) as u8),
            resident,
            overrides: Vec::new(),
        },
        cart: lines
            .iter()
            .map(|l| {
                l.measures
                    .to_item(l.category, i32::try_from(l.quantity).unwrap_or(i32::MAX))
            })
            .collect(),
        history: inputs.history,
        external_allotments,
        enforcement: settings.enforcement,
    };
    let decision = book.evaluate(&request)?;
    let has_own_age_reason = reasons.iter().any(|r| r.code == "underage");
    for i in &decision.ineligible {
        if !(has_own_age_reason || i.code == "under_minimum_age" && age >= min_age) {
            reasons.push(Reason::new(&i.code, i.message.clone()));
        }
    }
    let mut limits_override = None;
    if !decision.violations.is_empty() {
        let explanation = decision
            .violations
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        match (decision.verdict, &inputs.limits_override) {
            (Verdict::OverrideRequired, Some(reason)) => {
                limits_override = ManagerOverride::for_decision(
                    &decision,
                    inputs.approver.clone(),
                    reason.clone(),
                    now,
                );
            }
            (Verdict::OverrideRequired, None) => reasons.push(Reason::new(
                "limit_override_required",
                format!(
                    "over a purchase limit ({explanation}); a manager may override with a reason"
                ),
            )),
            _ => reasons.push(Reason::new("purchase_limit_exceeded", explanation)),
        }
    }

    let cart: Vec<CartLine> = lines
        .iter()
        .map(|l| CartLine {
            category: l.category,
            quantity: l.quantity,
            unit_price_cents: l.unit_price_cents,
        })
        .collect();
    let priced = |loyalty_cents| {
        price(&cart, inputs.discounts, today, loyalty_cents)
            .map_err(|e| GateError::invalid("lines", "invalid_price", e.to_string()))
    };
    let mut pricing = priced(0)?;
    let mut loyalty_points = 0;
    if inputs.redeem_points != 0 {
        match inputs.loyalty {
            None => reasons.push(Reason::new(
                "loyalty_not_eligible",
                "loyalty: there is no loyalty program",
            )),
            Some(l) => match l.program.redemption(
                customer.details.customer_type,
                Some(settings.region_code()),
                inputs.redeem_points,
                l.available,
                pricing.total_cents,
            ) {
                Ok(value_cents) => {
                    pricing = priced(value_cents)?;
                    loyalty_points = inputs.redeem_points;
                }
                Err(LoyaltyError::Invalid { message, .. }) => {
                    return Err(GateError::invalid(
                        "loyalty_redeem_points",
                        "invalid_value",
                        message,
                    ));
                }
                Err(e) => reasons.push(loyalty_reason(&e)),
            },
        }
    }
    if !inputs.payments.is_empty() {
        let paid = inputs
            .payments
            .iter()
            .try_fold(0i64, |sum, p| sum.checked_add(p.amount_cents));
        if paid != Some(pricing.total_cents) {
            return Err(GateError::invalid(
                "payments",
                "payment_mismatch",
                format!(
                    "payments add up to {} cents but the total is {} cents",
                    paid.map_or_else(|| "too many".to_string(), |p| p.to_string()),
                    pricing.total_cents
                ),
            ));
        }
    }
    let caller_asserted = lines.iter().any(|l| l.caller_asserted);
    Ok(Evaluation {
        allowed: reasons.is_empty(),
        reasons,
        customer_class: class,
        eligibility,
        lines,
        pricing,
        limits: decision,
        limits_override,
        price_override,
        caller_asserted,
        loyalty_points,
    })
}

/// A caregiver must name a patient (`patient_required`) they are linked to (`patient_not_linked`),
/// and the patient must be eligible as a medical customer (`patient_` + the eligibility code).
/// Patients may be minors, so their age is not checked; the caregiver's own age and card are.
fn patient_reasons<'a>(
    class: CustomerClass,
    link: &PatientLink<'a>,
    now: Timestamp,
    today: Date,
    reasons: &mut Vec<Reason>,
) -> Result<Option<&'a Customer>, GateError> {
    match (class, link) {
        (CustomerClass::Caregiver, PatientLink::NotNamed) => {
            reasons.push(Reason::new(
                "patient_required",
                "a caregiver buys for a named patient: choose which one",
            ));
            Ok(None)
        }
        (CustomerClass::Caregiver, PatientLink::NotLinked) => {
            reasons.push(Reason::new(
                "patient_not_linked",
                "this patient is not linked to the caregiver: link them on the profile first",
            ));
            Ok(None)
        }
        (CustomerClass::Caregiver, PatientLink::Linked { customer, facts }) => {
            let subject = Subject::customer(customer, *facts);
            reasons.extend(
                eligibility(&subject, CustomerClass::Medical, now, today, 0)
                    .into_iter()
                    .map(|r| {
                        Reason::new(
                            &format!("patient_{}", r.code),
                            format!("patient: {}", r.message),
                        )
                    }),
            );
            Ok(Some(customer))
        }
        (_, PatientLink::NotNamed) => Ok(None),
        (_, _) => Err(GateError::invalid(
            "patient_id",
            "not_a_caregiver",
            "only caregivers buy on behalf of a patient",
        )),
    }
}

/// Lines whose price differs from the catalogue's need a reason; the override records each.
fn price_override(inputs: &GateInputs<'_>) -> Result<Option<PriceOverride>, GateError> {
    let lines: Vec<PriceOverrideLine> = inputs
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.catalogue_price_cents.map(|catalogue| PriceOverrideLine {
                line_no: i as u32 + 1,
                catalogue_cents: catalogue,
                charged_cents: l.unit_price_cents,
            })
        })
        .collect();
    match (lines.first(), &inputs.price_override) {
        (None, _) => Ok(None),
        (Some(first), None) => Err(GateError::invalid(
            format!("lines[{}].unit_price_cents", first.line_no - 1),
            "price_override_required",
            format!(
                "the catalogue price is {} cents; charging {} needs a price override with a reason",
                first.catalogue_cents, first.charged_cents
            ),
        )),
        (Some(_), Some(reason)) => Ok(Some(PriceOverride {
            reason: reason.clone(),
            approved_by: inputs.approver.clone(),
            lines,
        })),
    }
}

/// External allotments only tighten local history, except that at a `state`-scope store a
/// state-system integration's figures replace it. Asking to replace without that authority is
/// refused rather than quietly tightened, so an integration learns its figures were not used as
/// sent.
fn allotments(inputs: &GateInputs<'_>) -> Result<Vec<ExternalAllotment>, GateError> {
    let replace = inputs.store.history_scope == HistoryScope::State
        && inputs.allotment_authority == AllotmentAuthority::StateSystem;
    inputs
        .external_allotments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if a.mode == AllotmentMode::Replace && !replace {
                return Err(GateError::invalid(
                    format!("external_allotments[{i}].mode"),
                    "allotment_replace_not_allowed",
                    "only a state-system integration at a store whose history scope is `state` may replace purchase history; send `tighten`",
                ));
            }
            let mut a = a.clone();
            a.mode = if replace {
                AllotmentMode::Replace
            } else {
                AllotmentMode::Tighten
            };
            Ok(a)
        })
        .collect()
}

/// A refused redemption as a checkout reason, reported with the others.
fn loyalty_reason(e: &LoyaltyError) -> Reason {
    let code = match e {
        LoyaltyError::InsufficientPoints { .. } => "loyalty_insufficient_points",
        LoyaltyError::ExceedsOrderTotal { .. } => "loyalty_exceeds_order_total",
        LoyaltyError::NotEligible(_) => "loyalty_not_eligible",
        _ => "loyalty_refused",
    };
    Reason::new(code, format!("loyalty: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LicenceType, Measures};
    use canopy_domain::{
        Channel, CustomerDraft, CustomerId, IdDocument, IdDocumentKind, MedicalCard, PersonName,
        ProductId,
    };
    use canopy_limits::{EnforcementMode, Unit};
    use jiff::civil::date;
    use rust_decimal::Decimal;

    fn now() -> Timestamp {
        // 11:00 in Denver.
        "2026-03-14T18:00:00Z".parse().unwrap()
    }

    fn person(dob: Date, customer_type: CustomerType) -> Customer {
        Customer {
            id: CustomerId::new(),
            details: CustomerDraft {
                name: PersonName {
                    first: "Sam".into(),
                    middle: None,
                    last: "Lee".into(),
                    preferred: None,
                },
                phone: None,
                email: None,
                date_of_birth: Some(dob),
                customer_type,
                addresses: vec![],
                id_document: Some(IdDocument {
                    kind: IdDocumentKind::DriversLicense,
                    number: "123".into(),
                    jurisdiction: Some("CO".into()),
                    expiry: Some(date(2030, 1, 1)),
                }),
                created_channel: Channel::Pos,
            },
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            ban: None,
        }
    }

    fn settings(licence: LicenceType, scope: HistoryScope) -> StoreSettings {
        StoreSettings {
            name: "Denver".into(),
            licensee: "Green Co".into(),
            licence_type: licence,
            jurisdiction: "US-CO".parse().unwrap(),
            time_zone: "America/Denver".into(),
            enforcement: EnforcementMode::Block,
            history_scope: scope,
        }
    }

    fn product(sku: &str, category: Category, grams: i64, price_cents: i64) -> Product {
        Product {
            id: ProductId::new(),
            draft: crate::ProductDraft {
                sku: sku.into(),
                name: format!("{sku} product"),
                category,
                measures: Measures {
                    net_weight_mg: Some(grams * 1000),
                    ..Measures::default()
                },
                price_cents,
            },
            archived: false,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn card() -> MedicalCard {
        MedicalCard {
            number: "MMJ1".into(),
            issuing_state: "CO".into(),
            expiry: date(2030, 1, 1),
            recommendation: None,
        }
    }

    /// One checkout, built from owned values and then borrowed into [`GateInputs`].
    struct Case {
        settings: StoreSettings,
        customer: Customer,
        card: Option<MedicalCard>,
        patient: Option<(Customer, Option<MedicalCard>)>,
        patient_named: bool,
        lines: Vec<LineInput>,
        history_grams: Option<i64>,
        allotments: Vec<ExternalAllotment>,
        authority: AllotmentAuthority,
        limits_override: Option<String>,
        price_override: Option<String>,
        payments: Vec<Payment>,
    }

    fn sku(sku: &str, quantity: u32) -> LineInput {
        LineInput {
            sku: Some(sku.into()),
            quantity,
            ..LineInput::default()
        }
    }

    fn base() -> Case {
        Case {
            settings: settings(LicenceType::AdultUse, HistoryScope::Licensee),
            customer: person(date(1990, 1, 1), CustomerType::AdultUse),
            card: None,
            patient: None,
            patient_named: false,
            lines: vec![sku("FLW-7", 1)],
            history_grams: None,
            allotments: vec![],
            authority: AllotmentAuthority::Local,
            limits_override: None,
            price_override: None,
            payments: vec![],
        }
    }

    fn allotment(grams: &str, mode: AllotmentMode) -> ExternalAllotment {
        ExternalAllotment {
            rule: "au-flower-equivalent".into(),
            remaining: grams.parse::<Decimal>().unwrap(),
            unit: Unit::G,
            mode,
            source: Some("metrc".into()),
        }
    }

    fn run(case: &Case) -> Result<Evaluation, GateError> {
        let catalogue = [
            product("FLW-7", Category::Flower, 7, 5000),
            product("FLW-14", Category::Flower, 14, 9000),
        ];
        let book = RuleBook::shared();
        let lines = case
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let p = l
                    .sku
                    .as_ref()
                    .and_then(|s| catalogue.iter().find(|p| &p.draft.sku == s));
                resolve_line(i, l, p, |c| {
                    required_measures(book, &case.settings, now(), c)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let history = case
            .history_grams
            .map(|g| {
                vec![HistoryEntry {
                    at: "2026-03-14T16:00:00Z".parse().unwrap(),
                    class: None,
                    items: vec![
                        Measures {
                            net_weight_mg: Some(g * 1000),
                            ..Measures::default()
                        }
                        .to_item(Category::Flower, 1),
                    ],
                    returned: false,
                }]
            })
            .unwrap_or_default();
        let patient = match (&case.patient, case.patient_named) {
            (Some((p, card)), _) => PatientLink::Linked {
                customer: p,
                facts: ComplianceFacts {
                    verified: None,
                    medical_card: card.as_ref(),
                },
            },
            (None, true) => PatientLink::NotLinked,
            (None, false) => PatientLink::NotNamed,
        };
        let inputs = GateInputs {
            store: &case.settings,
            customer: &case.customer,
            facts: ComplianceFacts {
                verified: None,
                medical_card: case.card.as_ref(),
            },
            patient,
            lines,
            history,
            external_allotments: case.allotments.clone(),
            allotment_authority: case.authority,
            discounts: &[],
            loyalty: None,
            redeem_points: 0,
            limits_override: case.limits_override.clone(),
            price_override: case.price_override.clone(),
            approver: "manager-1".into(),
            payments: &case.payments,
        };
        evaluate(inputs, book, now())
    }

    enum Expect {
        Allowed,
        Refused(&'static [&'static str]),
        Invalid(&'static str, &'static str),
    }

    #[test]
    fn the_gate_table() {
        use Expect::*;
        let rows: Vec<(&str, Case, Expect)> = vec![
            ("a verified adult buying 7 g", base(), Allowed),
            (
                "20 years old",
                Case {
                    customer: person(date(2006, 1, 1), CustomerType::AdultUse),
                    ..base()
                },
                Refused(&["underage"]),
            ),
            (
                "42 g at a 1 oz/day store",
                Case {
                    lines: vec![sku("FLW-14", 3)],
                    ..base()
                },
                Refused(&["purchase_limit_exceeded"]),
            ),
            (
                "28 g earlier today, 7 g more",
                Case {
                    history_grams: Some(28),
                    ..base()
                },
                Refused(&["purchase_limit_exceeded"]),
            ),
            (
                "warn mode without an override",
                Case {
                    settings: StoreSettings {
                        enforcement: EnforcementMode::Warn,
                        ..settings(LicenceType::AdultUse, HistoryScope::Licensee)
                    },
                    lines: vec![sku("FLW-14", 3)],
                    ..base()
                },
                Refused(&["limit_override_required"]),
            ),
            (
                "warn mode with a manager's reason",
                Case {
                    settings: StoreSettings {
                        enforcement: EnforcementMode::Warn,
                        ..settings(LicenceType::AdultUse, HistoryScope::Licensee)
                    },
                    lines: vec![sku("FLW-14", 3)],
                    limits_override: Some("state system down, paperwork checked".into()),
                    ..base()
                },
                Allowed,
            ),
            (
                "an adult-use customer at a medical-only store",
                Case {
                    settings: settings(LicenceType::Medical, HistoryScope::Licensee),
                    ..base()
                },
                Refused(&["medical_card_required"]),
            ),
            (
                "a caregiver naming no patient",
                Case {
                    settings: settings(LicenceType::Both, HistoryScope::Licensee),
                    customer: person(date(1980, 1, 1), CustomerType::Caregiver),
                    card: Some(card()),
                    ..base()
                },
                Refused(&["patient_required"]),
            ),
            (
                "a caregiver for an unlinked patient",
                Case {
                    settings: settings(LicenceType::Both, HistoryScope::Licensee),
                    customer: person(date(1980, 1, 1), CustomerType::Caregiver),
                    card: Some(card()),
                    patient_named: true,
                    ..base()
                },
                Refused(&["patient_not_linked"]),
            ),
            (
                "a linked patient without a card",
                Case {
                    settings: settings(LicenceType::Both, HistoryScope::Licensee),
                    customer: person(date(1980, 1, 1), CustomerType::Caregiver),
                    card: Some(card()),
                    patient: Some((person(date(2012, 1, 1), CustomerType::Medical), None)),
                    ..base()
                },
                Refused(&["patient_medical_card_missing"]),
            ),
            (
                "a minor patient with a card, through their caregiver",
                Case {
                    settings: settings(LicenceType::Both, HistoryScope::Licensee),
                    customer: person(date(1980, 1, 1), CustomerType::Caregiver),
                    card: Some(card()),
                    patient: Some((
                        person(date(2012, 1, 1), CustomerType::Medical),
                        Some(card()),
                    )),
                    ..base()
                },
                Allowed,
            ),
            (
                "an adult-use customer naming a patient",
                Case {
                    patient_named: true,
                    ..base()
                },
                Invalid("patient_id", "not_a_caregiver"),
            ),
            (
                "a staff session replacing history at a licensee-scope store",
                Case {
                    history_grams: Some(28),
                    allotments: vec![allotment("28", AllotmentMode::Replace)],
                    ..base()
                },
                Invalid(
                    "external_allotments[0].mode",
                    "allotment_replace_not_allowed",
                ),
            ),
            (
                "a staff session replacing history at a state-scope store",
                Case {
                    settings: settings(LicenceType::AdultUse, HistoryScope::State),
                    history_grams: Some(28),
                    allotments: vec![allotment("28", AllotmentMode::Replace)],
                    ..base()
                },
                Invalid(
                    "external_allotments[0].mode",
                    "allotment_replace_not_allowed",
                ),
            ),
            (
                "a generous allotment only tightens: local history still counts",
                Case {
                    history_grams: Some(28),
                    allotments: vec![allotment("28", AllotmentMode::Tighten)],
                    ..base()
                },
                Refused(&["purchase_limit_exceeded"]),
            ),
            (
                "a tight allotment tightens",
                Case {
                    allotments: vec![allotment("3", AllotmentMode::Tighten)],
                    ..base()
                },
                Refused(&["purchase_limit_exceeded"]),
            ),
            (
                "the state system replaces history at a state-scope store",
                Case {
                    settings: settings(LicenceType::AdultUse, HistoryScope::State),
                    history_grams: Some(28),
                    allotments: vec![allotment("28", AllotmentMode::Tighten)],
                    authority: AllotmentAuthority::StateSystem,
                    ..base()
                },
                Allowed,
            ),
            (
                "the state system's key at a licensee-scope store only tightens",
                Case {
                    history_grams: Some(28),
                    allotments: vec![allotment("28", AllotmentMode::Tighten)],
                    authority: AllotmentAuthority::StateSystem,
                    ..base()
                },
                Refused(&["purchase_limit_exceeded"]),
            ),
            (
                "a SKU sold as 0.001 g",
                Case {
                    lines: vec![LineInput {
                        measures: Some(Measures {
                            net_weight_mg: Some(1),
                            ..Measures::default()
                        }),
                        ..sku("FLW-14", 1)
                    }],
                    ..base()
                },
                Invalid("lines[0].net_weight_g", "catalogue_fact"),
            ),
            (
                "a SKU sold as a topical",
                Case {
                    lines: vec![LineInput {
                        category: Some(Category::Topical),
                        ..sku("FLW-14", 1)
                    }],
                    ..base()
                },
                Invalid("lines[0].category", "catalogue_fact"),
            ),
            (
                "a SKU with its own catalogue values sent back",
                Case {
                    lines: vec![LineInput {
                        category: Some(Category::Flower),
                        measures: Some(Measures {
                            net_weight_mg: Some(7000),
                            ..Measures::default()
                        }),
                        unit_price_cents: Some(5000),
                        ..sku("FLW-7", 1)
                    }],
                    ..base()
                },
                Allowed,
            ),
            (
                "a SKU for $0 without a reason",
                Case {
                    lines: vec![LineInput {
                        unit_price_cents: Some(0),
                        ..sku("FLW-7", 1)
                    }],
                    ..base()
                },
                Invalid("lines[0].unit_price_cents", "price_override_required"),
            ),
            (
                "a SKU at another price with a reason",
                Case {
                    lines: vec![LineInput {
                        unit_price_cents: Some(4000),
                        ..sku("FLW-7", 1)
                    }],
                    price_override: Some("damaged packaging".into()),
                    ..base()
                },
                Allowed,
            ),
            (
                "zero units",
                Case {
                    lines: vec![sku("FLW-7", 0)],
                    ..base()
                },
                Invalid("lines[0].quantity", "invalid_quantity"),
            ),
            (
                "a negative price",
                Case {
                    lines: vec![LineInput {
                        unit_price_cents: Some(-100),
                        ..sku("FLW-7", 1)
                    }],
                    price_override: Some("refund trick".into()),
                    ..base()
                },
                Invalid("lines[0].unit_price_cents", "invalid_price"),
            ),
            (
                "an unknown SKU",
                Case {
                    lines: vec![sku("NOPE", 1)],
                    ..base()
                },
                Invalid("lines[0].sku", "unknown_sku"),
            ),
            (
                "a flower line without a SKU and without its weight",
                Case {
                    lines: vec![LineInput {
                        name: Some("House flower".into()),
                        category: Some(Category::Flower),
                        unit_price_cents: Some(1000),
                        quantity: 1,
                        ..LineInput::default()
                    }],
                    ..base()
                },
                Invalid("lines[0].net_weight_g", "required"),
            ),
            (
                "a complete flower line without a SKU",
                Case {
                    lines: vec![LineInput {
                        name: Some("House flower".into()),
                        category: Some(Category::Flower),
                        measures: Some(Measures {
                            net_weight_mg: Some(3500),
                            ..Measures::default()
                        }),
                        unit_price_cents: Some(1000),
                        quantity: 1,
                        ..LineInput::default()
                    }],
                    ..base()
                },
                Allowed,
            ),
            (
                "payments that do not add up",
                Case {
                    payments: vec![Payment {
                        method: "cash".into(),
                        amount_cents: 1,
                    }],
                    ..base()
                },
                Invalid("payments", "payment_mismatch"),
            ),
            (
                "payments that overflow",
                Case {
                    payments: vec![
                        Payment {
                            method: "cash".into(),
                            amount_cents: i64::MAX,
                        },
                        Payment {
                            method: "cash".into(),
                            amount_cents: i64::MAX,
                        },
                    ],
                    ..base()
                },
                Invalid("payments", "payment_mismatch"),
            ),
        ];
        for (name, case, expect) in &rows {
            match (run(case), expect) {
                (Ok(e), Allowed) => assert!(e.allowed, "{name}: {:?}", e.reasons),
                (Ok(e), Refused(codes)) => {
                    let got: Vec<&str> = e.reasons.iter().map(|r| r.code.as_str()).collect();
                    assert_eq!(&got, codes, "{name}");
                    assert!(!e.allowed, "{name}");
                }
                (Err(GateError::Invalid { field, code, .. }), Invalid(f, c)) => {
                    assert_eq!((field.as_str(), code), (*f, *c), "{name}")
                }
                (other, _) => panic!("{name}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn what_the_decision_records() {
        let e = run(&Case {
            lines: vec![
                LineInput {
                    unit_price_cents: Some(4000),
                    ..sku("FLW-7", 1)
                },
                LineInput {
                    name: Some("House pre-roll".into()),
                    category: Some(Category::PreRoll),
                    measures: Some(Measures {
                        net_weight_mg: Some(1000),
                        ..Measures::default()
                    }),
                    unit_price_cents: Some(800),
                    quantity: 2,
                    ..LineInput::default()
                },
            ],
            price_override: Some("damaged packaging".into()),
            ..base()
        })
        .unwrap();
        assert!(e.allowed);
        assert!(e.caller_asserted);
        assert!(!e.lines[0].caller_asserted && e.lines[1].caller_asserted);
        assert_eq!(
            e.price_override,
            Some(PriceOverride {
                reason: "damaged packaging".into(),
                approved_by: "manager-1".into(),
                lines: vec![PriceOverrideLine {
                    line_no: 1,
                    catalogue_cents: 5000,
                    charged_cents: 4000,
                }],
            })
        );
        assert_eq!(e.pricing.total_cents, 5600);
        assert!(e.eligibility.actions.sell);
    }

    #[test]
    fn a_patient_buying_as_adult_use_still_buys_under_medical_rules_where_the_store_sells_medical()
    {
        let e = run(&Case {
            settings: settings(LicenceType::Both, HistoryScope::Licensee),
            customer: person(date(1990, 1, 1), CustomerType::Medical),
            card: Some(card()),
            ..base()
        })
        .unwrap();
        assert_eq!(e.customer_class, CustomerClass::Medical);
        assert_eq!(e.limits.class, CustomerClass::Medical);
    }

    #[test]
    fn eligibility_at_a_store_and_anywhere_share_one_rule() {
        let book = RuleBook::shared();
        let teen = person(date(2007, 6, 1), CustomerType::Medical);
        let subject = Subject::customer(&teen, ComplianceFacts::default());
        let anywhere = eligibility_at(
            Place::Anywhere {
                today: date(2026, 3, 14),
            },
            CustomerType::Medical,
            &subject,
            book,
            now(),
        );
        assert_eq!(anywhere.minimum_age, 18);
        let codes: Vec<&str> = anywhere.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["medical_card_missing"]);
        let store = settings(LicenceType::AdultUse, HistoryScope::Licensee);
        let here = eligibility_at(
            Place::Store(&store),
            CustomerType::Medical,
            &subject,
            book,
            now(),
        );
        assert_eq!(
            (here.class, here.minimum_age),
            (CustomerClass::AdultUse, 21)
        );
        assert!(here.reasons.iter().any(|r| r.code == "underage"));
        assert!(!here.actions.check_in && !here.actions.sell);
    }
}
