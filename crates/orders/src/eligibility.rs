//! Who may buy at all, whatever the cart: the first steps of the checkout and check-in gate.
//!
//! Every failing reason is returned (not just the first), each with a stable code the register
//! keys on and a message a budtender can read out.

use canopy_domain::{
    Ban, Customer, CustomerType, IdDocument, MedicalCard, VerifiedDocument, age_on,
};
use canopy_limits::{CustomerClass, Jurisdiction, RuleBook};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// What a store is licensed to sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceType {
    AdultUse,
    Medical,
    Both,
}

impl LicenceType {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenceType::AdultUse => "adult_use",
            LicenceType::Medical => "medical",
            LicenceType::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<LicenceType> {
        match s {
            "adult_use" | "adult-use" => Some(LicenceType::AdultUse),
            "medical" => Some(LicenceType::Medical),
            "both" => Some(LicenceType::Both),
            _ => None,
        }
    }
}

/// One reason a customer may not buy (or a limit that blocks the cart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

impl Reason {
    pub fn new(code: &str, message: impl Into<String>) -> Reason {
        Reason {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// The limits class a customer buys under at a store: medical patients buy as medical where
/// the store may sell medical; everyone else as adult-use. A medical-only store refuses
/// adult-use customers (`medical_card_required`).
pub fn purchase_class(
    licence: LicenceType,
    customer_type: CustomerType,
) -> Result<CustomerClass, Reason> {
    match (licence, customer_type) {
        (LicenceType::AdultUse, _) => Ok(CustomerClass::AdultUse),
        (_, CustomerType::Medical) => Ok(CustomerClass::Medical),
        (_, CustomerType::Caregiver) => Ok(CustomerClass::Caregiver),
        (LicenceType::Both, CustomerType::AdultUse) => Ok(CustomerClass::AdultUse),
        (LicenceType::Medical, CustomerType::AdultUse) => Err(Reason::new(
            "medical_card_required",
            "this store sells to registered medical patients only",
        )),
    }
}

/// The minimum age when the rule set does not say: 21 adult-use, 18 medical patients.
pub fn default_min_age(class: CustomerClass) -> u8 {
    match class {
        CustomerClass::AdultUse | CustomerClass::Caregiver => 21,
        CustomerClass::Medical => 18,
    }
}

/// The minimum age for `class` in `jurisdiction` on `today`: the rule set's `min_age`, else
/// [`default_min_age`]. The one place ages come from, for ID scans, check-in and checkout alike.
pub fn min_age(
    book: &RuleBook,
    jurisdiction: &Jurisdiction,
    class: CustomerClass,
    today: Date,
) -> u8 {
    book.rule_set(jurisdiction)
        .ok()
        .and_then(|s| s.version_on(today))
        .and_then(|v| v.min_age(class))
        .unwrap_or_else(|| default_min_age(class))
}

/// Compliance facts kept outside the customer row (read by the caller, so this stays pure).
#[derive(Debug, Clone, Copy, Default)]
pub struct ComplianceFacts<'a> {
    /// The document of the latest ID verification, or of an ID scanned just now. When present it
    /// is what age and expiry are judged on; when absent the profile's own ID document and date
    /// of birth are.
    pub verified: Option<&'a VerifiedDocument>,
    /// The medical card, required when buying as a medical patient or caregiver.
    pub medical_card: Option<&'a MedicalCard>,
}

/// Who is asking to buy: a stored customer, or just a card scanned at the door.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    pub date_of_birth: Option<Date>,
    pub id_document: Option<&'a IdDocument>,
    pub ban: Option<&'a Ban>,
    pub facts: ComplianceFacts<'a>,
}

impl<'a> Subject<'a> {
    pub fn customer(customer: &'a Customer, facts: ComplianceFacts<'a>) -> Subject<'a> {
        Subject {
            date_of_birth: customer.details.date_of_birth,
            id_document: customer.details.id_document.as_ref(),
            ban: customer.ban.as_ref(),
            facts,
        }
    }
}

/// Every reason `customer` may not buy at `now` (`today` is the store-local date) under `class`,
/// given the minimum age for that class. Empty means eligible.
pub fn check_eligibility(
    customer: &Customer,
    facts: ComplianceFacts<'_>,
    class: CustomerClass,
    now: Timestamp,
    today: Date,
    min_age: u8,
) -> Vec<Reason> {
    eligibility(
        &Subject::customer(customer, facts),
        class,
        now,
        today,
        min_age,
    )
}

/// The eligibility decision. Codes: `customer_banned`, `not_verified`, `underage`, `id_expired`,
/// `medical_card_missing`, `medical_card_expired` (the card or its physician recommendation).
/// IDs and cards are valid through their expiry date in the store's calendar, so a verification
/// goes stale by itself the day after: nothing is stored, everything is computed here.
pub fn eligibility(
    subject: &Subject<'_>,
    class: CustomerClass,
    now: Timestamp,
    today: Date,
    min_age: u8,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if let Some(ban) = subject.ban.filter(|b| b.in_force_at(now)) {
        reasons.push(Reason::new(
            "customer_banned",
            format!("customer is banned: {}", ban.reason),
        ));
    }
    let verified = subject.facts.verified;
    let (dob, document_expiry) = match verified {
        Some(doc) => (Some(doc.date_of_birth), Some(doc.expiry)),
        None => (subject.date_of_birth, subject.id_document.map(|d| d.expiry)),
    };
    match dob {
        None => reasons.push(Reason::new(
            "not_verified",
            "no date of birth on file: scan or enter the customer's ID",
        )),
        Some(dob) => {
            let age = age_on(dob, today);
            if age < i16::from(min_age) {
                reasons.push(Reason::new(
                    "underage",
                    format!("customer is {age}; the minimum age here is {min_age}"),
                ));
            }
        }
    }
    match document_expiry {
        None => reasons.push(Reason::new(
            "not_verified",
            "no ID document on file: scan or enter the customer's ID",
        )),
        Some(None) => reasons.push(Reason::new(
            "not_verified",
            "the ID on file has no expiry date: re-scan the ID",
        )),
        Some(Some(expiry)) if expiry < today => reasons.push(Reason::new(
            "id_expired",
            format!("the ID on file expired on {expiry}: ask for a current ID"),
        )),
        Some(Some(_)) => {}
    }
    if matches!(class, CustomerClass::Medical | CustomerClass::Caregiver) {
        match subject.facts.medical_card {
            None => reasons.push(Reason::new(
                "medical_card_missing",
                format!("{class} customers need a medical card on file"),
            )),
            Some(card) if card.expired_on(today) => reasons.push(Reason::new(
                "medical_card_expired",
                format!("the medical card expired on {}", card.expiry),
            )),
            Some(card) if card.recommendation_expired_on(today) => {
                let expiry = card
                    .recommendation
                    .as_ref()
                    .and_then(|r| r.expiry)
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                reasons.push(Reason::new(
                    "medical_card_expired",
                    format!("the physician recommendation expired on {expiry}"),
                ))
            }
            Some(_) => {}
        }
    }
    reasons
}

/// The class a customer is judged under outside a store (a profile read): their own type.
pub fn class_of(customer_type: CustomerType) -> CustomerClass {
    match customer_type {
        CustomerType::AdultUse => CustomerClass::AdultUse,
        CustomerType::Medical => CustomerClass::Medical,
        CustomerType::Caregiver => CustomerClass::Caregiver,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canopy_domain::{
        Ban, Channel, CustomerDraft, CustomerId, IdDocument, IdDocumentKind, PersonName,
    };
    use jiff::civil::date;

    fn customer(dob: Option<Date>, expiry: Option<Date>) -> Customer {
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
                date_of_birth: dob,
                customer_type: CustomerType::AdultUse,
                addresses: vec![],
                id_document: Some(IdDocument {
                    kind: IdDocumentKind::DriversLicense,
                    number: "123".into(),
                    jurisdiction: Some("CO".into()),
                    expiry,
                }),
                created_channel: Channel::Pos,
            },
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            ban: None,
        }
    }

    const TODAY: Date = date(2026, 3, 14);
    fn now() -> Timestamp {
        "2026-03-14T18:00:00Z".parse().unwrap()
    }
    fn check(c: &Customer, min_age: u8) -> Vec<Reason> {
        check_eligibility(
            c,
            ComplianceFacts::default(),
            CustomerClass::AdultUse,
            now(),
            TODAY,
            min_age,
        )
    }

    fn codes(r: &[Reason]) -> Vec<&str> {
        r.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn a_verified_adult_with_a_valid_id_is_eligible() {
        let c = customer(Some(date(1990, 1, 1)), Some(date(2030, 1, 1)));
        assert!(check(&c, 21).is_empty());
    }

    #[test]
    fn the_day_before_the_21st_birthday_is_underage_and_the_birthday_is_not() {
        let c = customer(Some(date(2005, 3, 15)), Some(date(2030, 1, 1)));
        assert_eq!(codes(&check(&c, 21)), ["underage"]);
        let c = customer(Some(date(2005, 3, 14)), Some(date(2030, 1, 1)));
        assert!(check(&c, 21).is_empty());
        let c = customer(Some(date(2007, 3, 14)), Some(date(2030, 1, 1)));
        assert!(check(&c, 18).is_empty());
    }

    #[test]
    fn an_id_is_valid_through_its_expiry_date() {
        let c = customer(Some(date(1990, 1, 1)), Some(TODAY));
        assert!(check(&c, 21).is_empty());
        let c = customer(Some(date(1990, 1, 1)), Some(date(2026, 3, 13)));
        assert_eq!(codes(&check(&c, 21)), ["id_expired"]);
    }

    #[test]
    fn every_reason_is_reported_at_once() {
        let mut c = customer(None, Some(date(2020, 1, 1)));
        c.ban = Some(Ban {
            reason: "theft".into(),
            note: None,
            since: Timestamp::UNIX_EPOCH,
            until: None,
            by: None,
        });
        assert_eq!(
            codes(&check(&c, 21)),
            ["customer_banned", "not_verified", "id_expired"]
        );
        c.details.id_document = None;
        assert_eq!(
            codes(&check(&c, 21)),
            ["customer_banned", "not_verified", "not_verified"]
        );
    }

    #[test]
    fn a_medical_only_store_refuses_adult_use_customers() {
        assert_eq!(
            purchase_class(LicenceType::Medical, CustomerType::AdultUse)
                .unwrap_err()
                .code,
            "medical_card_required"
        );
        assert_eq!(
            purchase_class(LicenceType::Both, CustomerType::Medical),
            Ok(CustomerClass::Medical)
        );
        assert_eq!(
            purchase_class(LicenceType::AdultUse, CustomerType::Medical),
            Ok(CustomerClass::AdultUse)
        );
    }

    /// One row: the case, then the reason codes expected (empty = eligible).
    struct Case {
        name: &'static str,
        class: CustomerClass,
        min_age: u8,
        verified: Option<VerifiedDocument>,
        profile_dob: Option<Date>,
        card: Option<MedicalCard>,
        ban: Option<Ban>,
        expected: &'static [&'static str],
    }

    fn doc(dob: Date, expiry: Option<Date>) -> VerifiedDocument {
        VerifiedDocument {
            kind: IdDocumentKind::DriversLicense,
            number: "123".into(),
            jurisdiction: Some("CO".into()),
            expiry,
            date_of_birth: dob,
        }
    }

    fn card(expiry: Date, rec_expiry: Option<Date>) -> MedicalCard {
        MedicalCard {
            number: "MMJ1".into(),
            issuing_state: "CO".into(),
            expiry,
            recommendation: rec_expiry.map(|e| canopy_domain::Recommendation {
                amount: None,
                unit: None,
                category: None,
                expiry: Some(e),
                document_ref: None,
            }),
        }
    }

    fn row(name: &'static str, expected: &'static [&'static str]) -> Case {
        Case {
            name,
            class: CustomerClass::AdultUse,
            min_age: 21,
            verified: Some(doc(date(1990, 6, 1), Some(date(2030, 1, 1)))),
            profile_dob: None,
            card: None,
            ban: None,
            expected,
        }
    }

    #[test]
    fn eligibility_table() {
        let medical = CustomerClass::Medical;
        let caregiver = CustomerClass::Caregiver;
        let valid = Some(date(2030, 1, 1));
        let banned = Ban {
            reason: "theft".into(),
            note: None,
            since: Timestamp::UNIX_EPOCH,
            until: None,
            by: None,
        };
        let lapsed = Ban {
            until: Some("2026-03-14T17:00:00Z".parse().unwrap()),
            ..banned.clone()
        };
        let cases = [
            row("a verified adult with a current ID may buy", &[]),
            Case {
                verified: Some(doc(date(2005, 3, 14), valid)),
                ..row("the 21st birthday is enough", &[])
            },
            Case {
                verified: Some(doc(date(2005, 3, 15), valid)),
                ..row("the day before it is underage", &["underage"])
            },
            Case {
                verified: Some(doc(date(2007, 1, 1), valid)),
                min_age: 19,
                ..row("19 where the rules say 19", &[])
            },
            Case {
                verified: Some(doc(date(1990, 1, 1), Some(TODAY))),
                ..row("an ID is good through its expiry day", &[])
            },
            Case {
                verified: Some(doc(date(1990, 1, 1), Some(date(2026, 3, 13)))),
                ..row("expired yesterday", &["id_expired"])
            },
            Case {
                verified: Some(doc(date(1990, 1, 1), None)),
                ..row("a verified ID without expiry", &["not_verified"])
            },
            Case {
                verified: None,
                profile_dob: Some(date(1990, 1, 1)),
                ..row("nothing checked", &["not_verified"])
            },
            Case {
                verified: Some(doc(date(1990, 1, 1), valid)),
                profile_dob: Some(date(2010, 1, 1)),
                ..row("the verified birth date wins over the profile", &[])
            },
            Case {
                ban: Some(banned.clone()),
                ..row("a ban in force", &["customer_banned"])
            },
            Case {
                ban: Some(lapsed),
                ..row("a lapsed ban", &[])
            },
            Case {
                class: medical,
                min_age: 18,
                verified: Some(doc(date(2008, 1, 1), valid)),
                card: Some(card(date(2027, 1, 1), None)),
                ..row("an 18-year-old patient with a card", &[])
            },
            Case {
                class: medical,
                min_age: 18,
                verified: Some(doc(date(2009, 1, 1), valid)),
                card: Some(card(date(2027, 1, 1), None)),
                ..row("a 17-year-old patient", &["underage"])
            },
            Case {
                class: medical,
                min_age: 18,
                ..row("a patient without a card", &["medical_card_missing"])
            },
            Case {
                class: medical,
                min_age: 18,
                card: Some(card(TODAY, None)),
                ..row("a card on its expiry day", &[])
            },
            Case {
                class: medical,
                min_age: 18,
                card: Some(card(date(2026, 3, 1), None)),
                ..row("an expired card", &["medical_card_expired"])
            },
            Case {
                class: medical,
                min_age: 18,
                card: Some(card(date(2027, 1, 1), Some(date(2026, 1, 1)))),
                ..row("an expired recommendation", &["medical_card_expired"])
            },
            Case {
                class: caregiver,
                card: Some(card(date(2027, 1, 1), None)),
                ..row("a caregiver with a card", &[])
            },
            Case {
                class: caregiver,
                ..row("a caregiver without a card", &["medical_card_missing"])
            },
            Case {
                verified: Some(doc(date(2010, 1, 1), Some(date(2020, 1, 1)))),
                ban: Some(banned),
                ..row(
                    "every reason at once",
                    &["customer_banned", "underage", "id_expired"],
                )
            },
        ];
        for c in &cases {
            let subject = Subject {
                date_of_birth: c.profile_dob,
                id_document: None,
                ban: c.ban.as_ref(),
                facts: ComplianceFacts {
                    verified: c.verified.as_ref(),
                    medical_card: c.card.as_ref(),
                },
            };
            let reasons = eligibility(&subject, c.class, now(), TODAY, c.min_age);
            assert_eq!(codes(&reasons), c.expected, "{}", c.name);
        }
    }

    #[test]
    fn ages_come_from_the_rule_set_in_force_else_the_defaults() {
        let book = RuleBook::shared();
        let on: Jurisdiction = "CA-ON".parse().unwrap();
        assert_eq!(min_age(book, &on, CustomerClass::AdultUse, TODAY), 19);
        let nowhere: Jurisdiction = "US-XX".parse().unwrap();
        assert_eq!(min_age(book, &nowhere, CustomerClass::Medical, TODAY), 18);
    }
}
