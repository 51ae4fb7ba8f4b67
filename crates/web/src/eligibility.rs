//! Wiring the one eligibility decision ([`canopy_orders::eligibility_at`], which checkout's
//! [`canopy_orders::evaluate`] and check-in also call) to profile reads, lookup rows and ID scans.
//!
//! At a store (an ID scan that names `store_id`) the store's licence decides the class, its
//! jurisdiction's rules the minimum age, its zone "today". Outside a store (reading a profile) the
//! customer is judged under their own type with the default ages, in the server's zone.

use canopy_domain::{Customer, CustomerType, VerifiedDocument};
use canopy_limits::RuleBook;
use canopy_orders::{ComplianceFacts, Place, RetailStore, Subject};
use canopy_store::Compliance;
use jiff::civil::Date;

pub use canopy_orders::Eligibility;

use crate::AppState;

/// What was scanned just now, if anything.
#[derive(Debug, Clone, Copy)]
pub enum Scanned<'a> {
    Nothing,
    /// A card with a document: it stands in for the stored verification.
    Document(&'a VerifiedDocument),
    /// A card without a readable document number: its date of birth is judged, and nothing
    /// verifies the holder (not even a verification on file: the card in hand says otherwise).
    Unverifiable {
        dob: Date,
    },
}

/// The decision for a stored customer and/or a card scanned just now.
pub fn decide(
    state: &AppState,
    customer_type: CustomerType,
    customer: Option<(&Customer, &Compliance)>,
    scanned: Scanned<'_>,
    store: Option<&RetailStore>,
) -> Eligibility {
    let place = match store {
        Some(s) => Place::Store(&s.settings),
        None => Place::Anywhere {
            today: state.today(),
        },
    };
    let stored = customer.map(|(_, c)| c.facts()).unwrap_or_default();
    let facts = ComplianceFacts {
        verified: match scanned {
            Scanned::Nothing => stored.verified,
            Scanned::Document(d) => Some(d),
            Scanned::Unverifiable { .. } => None,
        },
        medical_card: stored.medical_card,
    };
    let subject = match (scanned, customer) {
        (Scanned::Unverifiable { dob }, _) => Subject {
            date_of_birth: Some(dob),
            id_document: None,
            ban: customer.and_then(|(c, _)| c.ban.as_ref()),
            facts,
        },
        (_, Some((c, _))) => Subject::customer(c, facts),
        (_, None) => Subject {
            facts,
            ..Subject::default()
        },
    };
    canopy_orders::eligibility_at(
        place,
        customer_type,
        &subject,
        RuleBook::shared(),
        state.now(),
    )
}
