//! Wiring the one eligibility decision (`canopy_orders::eligibility`, also used by check-in and
//! checkout) to profile reads and ID scans.
//!
//! At a store (an ID scan that names `store_id`) the store's licence decides the class, its
//! jurisdiction's rules the minimum age, its zone "today". Outside a store (reading a profile) the
//! customer is judged under their own type with the default ages, in the server's zone.

use canopy_domain::{Customer, CustomerType, VerifiedDocument};
use canopy_limits::{CustomerClass, RuleBook};
use canopy_orders::{ComplianceFacts, Reason, RetailStore, Subject};
use canopy_store::Compliance;
use serde::Serialize;

use crate::AppState;

/// May the customer buy now, and if not, every reason why.
#[derive(Debug, Clone, Serialize)]
pub struct Eligibility {
    pub eligible: bool,
    /// Whole years on the store's date, when the date of birth is known.
    pub age: Option<i16>,
    pub minimum_age: u8,
    /// The class judged under (`adult-use`, `medical`, `caregiver`).
    pub class: CustomerClass,
    /// Stable `code` and a `message` staff can read out; empty exactly when `eligible`.
    pub reasons: Vec<Reason>,
}

/// The decision for a stored customer and/or a document just scanned (`document` then stands in
/// for the stored verification).
pub fn decide(
    state: &AppState,
    customer_type: CustomerType,
    customer: Option<(&Customer, &Compliance)>,
    document: Option<&VerifiedDocument>,
    store: Option<&RetailStore>,
) -> Eligibility {
    let now = state.now();
    let today = match store {
        Some(s) => s.settings.today(now),
        None => state.today(),
    };
    let mut reasons = Vec::new();
    let class = match store {
        Some(s) => match canopy_orders::purchase_class(s.settings.licence_type, customer_type) {
            Ok(class) => class,
            Err(reason) => {
                reasons.push(reason);
                CustomerClass::AdultUse
            }
        },
        None => canopy_orders::class_of(customer_type),
    };
    let minimum_age = match store {
        Some(s) => {
            canopy_orders::min_age(RuleBook::shared(), &s.settings.jurisdiction, class, today)
        }
        None => canopy_orders::eligibility::default_min_age(class),
    };
    let stored = customer.map(|(_, c)| c.facts()).unwrap_or_default();
    let facts = ComplianceFacts {
        verified: document.or(stored.verified),
        medical_card: stored.medical_card,
    };
    let subject = match customer {
        Some((c, _)) => Subject::customer(c, facts),
        None => Subject {
            facts,
            ..Subject::default()
        },
    };
    reasons.extend(canopy_orders::eligibility(
        &subject,
        class,
        now,
        today,
        minimum_age,
    ));
    let dob = facts
        .verified
        .map(|d| d.date_of_birth)
        .or(subject.date_of_birth);
    Eligibility {
        eligible: reasons.is_empty(),
        age: dob.map(|dob| canopy_domain::age_on(dob, today)),
        minimum_age,
        class,
        reasons,
    }
}
