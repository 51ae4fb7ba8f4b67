//! Who may buy at all, whatever the cart: the first steps of the checkout and check-in gate.
//!
//! Every failing reason is returned (not just the first), each with a stable code the register
//! keys on and a message a budtender can read out.

use canopy_domain::{Customer, CustomerType, age_on};
use canopy_limits::CustomerClass;
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

/// Every reason `customer` may not buy at `now` (`today` is the store-local date), given the
/// minimum age for the class they buy under. Empty means eligible.
pub fn check_eligibility(
    customer: &Customer,
    now: Timestamp,
    today: Date,
    min_age: u8,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if let Some(ban) = customer.ban.as_ref().filter(|b| b.in_force_at(now)) {
        reasons.push(Reason::new(
            "customer_banned",
            format!("customer is banned: {}", ban.reason),
        ));
    }
    let details = &customer.details;
    match details.date_of_birth {
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
    match &details.id_document {
        None => reasons.push(Reason::new(
            "not_verified",
            "no ID document on file: scan or enter the customer's ID",
        )),
        Some(doc) => match doc.expiry {
            None => reasons.push(Reason::new(
                "not_verified",
                "the ID on file has no expiry date: re-scan the ID",
            )),
            Some(expiry) if expiry < today => reasons.push(Reason::new(
                "id_expired",
                format!("the ID on file expired on {expiry}"),
            )),
            Some(_) => {}
        },
    }
    reasons
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
    fn codes(r: &[Reason]) -> Vec<&str> {
        r.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn a_verified_adult_with_a_valid_id_is_eligible() {
        let c = customer(Some(date(1990, 1, 1)), Some(date(2030, 1, 1)));
        assert!(check_eligibility(&c, now(), TODAY, 21).is_empty());
    }

    #[test]
    fn the_day_before_the_21st_birthday_is_underage_and_the_birthday_is_not() {
        let c = customer(Some(date(2005, 3, 15)), Some(date(2030, 1, 1)));
        assert_eq!(
            codes(&check_eligibility(&c, now(), TODAY, 21)),
            ["underage"]
        );
        let c = customer(Some(date(2005, 3, 14)), Some(date(2030, 1, 1)));
        assert!(check_eligibility(&c, now(), TODAY, 21).is_empty());
        let c = customer(Some(date(2007, 3, 14)), Some(date(2030, 1, 1)));
        assert!(check_eligibility(&c, now(), TODAY, 18).is_empty());
    }

    #[test]
    fn an_id_is_valid_through_its_expiry_date() {
        let c = customer(Some(date(1990, 1, 1)), Some(TODAY));
        assert!(check_eligibility(&c, now(), TODAY, 21).is_empty());
        let c = customer(Some(date(1990, 1, 1)), Some(date(2026, 3, 13)));
        assert_eq!(
            codes(&check_eligibility(&c, now(), TODAY, 21)),
            ["id_expired"]
        );
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
            codes(&check_eligibility(&c, now(), TODAY, 21)),
            ["customer_banned", "not_verified", "id_expired"]
        );
        c.details.id_document = None;
        assert_eq!(
            codes(&check_eligibility(&c, now(), TODAY, 21)),
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
}
