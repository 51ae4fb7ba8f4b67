//! ID verification and medical registration: what staff checked, when, and until when it holds.
//!
//! Nothing here stores a "verified" flag. Whether a verification still holds is computed from the
//! document's expiry and the store's date every time it is read, so it goes stale on its own when
//! the ID or the medical card expires (no job has to remember to flip it).

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::text::{optional, required};
use crate::{CustomerId, FieldError, IdDocumentKind};

/// How the document was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// Barcode text from a scanner (keyboard wedge or serial).
    Scan,
    /// Barcode decoded from an uploaded photo.
    Photo,
    /// Typed in by staff for a card that will not scan; a reason is required.
    Manual,
}

impl VerificationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationMethod::Scan => "scan",
            VerificationMethod::Photo => "photo",
            VerificationMethod::Manual => "manual",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "scan" => Some(VerificationMethod::Scan),
            "photo" => Some(VerificationMethod::Photo),
            "manual" => Some(VerificationMethod::Manual),
            _ => None,
        }
    }
}

/// The document facts a verification vouches for, however they were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedDocument {
    pub kind: IdDocumentKind,
    pub number: String,
    pub jurisdiction: Option<String>,
    pub expiry: Option<Date>,
    pub date_of_birth: Date,
}

impl VerifiedDocument {
    /// Valid through its expiry date (inclusive), in the store's calendar: the one ID-expiry rule, used
    /// when a verification is recorded and whenever one is judged later ([`IdVerification::status_on`]).
    pub fn expired_on(&self, today: Date) -> bool {
        self.expiry.is_some_and(|e| e < today)
    }
}

/// One recorded check of a customer's government ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdVerification {
    pub customer_id: CustomerId,
    pub method: VerificationMethod,
    pub document: VerifiedDocument,
    /// Why the card was entered by hand (required for [`VerificationMethod::Manual`]).
    pub reason: Option<String>,
    /// Label of the staff member or key that verified.
    pub verified_by: String,
    pub verified_by_id: Option<String>,
    pub verified_at: Timestamp,
    /// An encrypted image of the ID is on file.
    pub has_image: bool,
}

/// Whether a recorded verification still holds on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Verified,
    /// The verified document has expired since: the customer must show a current ID.
    Expired,
    Unverified,
}

impl IdVerification {
    /// Valid through its expiry date (inclusive), in the store's calendar.
    pub fn status_on(&self, today: Date) -> VerificationStatus {
        if self.document.expired_on(today) {
            VerificationStatus::Expired
        } else {
            VerificationStatus::Verified
        }
    }
}

/// A manual entry as staff type it, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualDocumentInput {
    pub kind: Option<String>,
    pub number: Option<String>,
    pub jurisdiction: Option<String>,
    pub expiry: Option<String>,
    pub date_of_birth: Option<String>,
}

fn date_field(field: &str, raw: Option<&str>) -> Result<Option<Date>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw.parse::<Date>().map(Some).map_err(|_| {
            FieldError::new(
                field,
                "invalid_date",
                format!("{field} must be a date as YYYY-MM-DD"),
            )
        }),
    }
}

impl ManualDocumentInput {
    /// A manual entry needs the same facts a scan gives: number, date of birth and expiry (a card
    /// without a printed expiry cannot be typed in; scan it or pick a document that has one).
    pub fn validate(self, today: Date) -> Result<VerifiedDocument, FieldError> {
        let within = |e: FieldError| e.within("manual");
        let kind: IdDocumentKind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => IdDocumentKind::DriversLicense,
            Some(raw) => serde_json::from_value(serde_json::Value::String(raw.to_string()))
                .map_err(|_| {
                    within(FieldError::new(
                        "kind",
                        "invalid_choice",
                        "kind must be drivers_license, state_id, passport, military_id, tribal_id or other",
                    ))
                })?,
        };
        let number =
            required("number", self.number.as_deref().unwrap_or(""), 40).map_err(within)?;
        if crate::id_number_key(&number).is_empty() {
            return Err(within(FieldError::new(
                "number",
                "invalid_id_number",
                "number must contain letters or digits",
            )));
        }
        let jurisdiction = optional("jurisdiction", self.jurisdiction.as_deref(), 10)
            .map_err(within)?
            .map(|j| j.to_ascii_uppercase());
        let expiry = date_field("expiry", self.expiry.as_deref())
            .map_err(within)?
            .ok_or_else(|| {
                within(FieldError::new(
                    "expiry",
                    "required",
                    "expiry must not be empty",
                ))
            })?;
        let date_of_birth = date_field("date_of_birth", self.date_of_birth.as_deref())
            .map_err(within)?
            .ok_or_else(|| {
                within(FieldError::new(
                    "date_of_birth",
                    "required",
                    "date_of_birth must not be empty",
                ))
            })?;
        if date_of_birth > today {
            return Err(within(FieldError::new(
                "date_of_birth",
                "invalid_date",
                "date_of_birth is in the future",
            )));
        }
        Ok(VerifiedDocument {
            kind,
            number,
            jurisdiction,
            expiry: Some(expiry),
            date_of_birth,
        })
    }
}

/// A physician's recommendation attached to a medical registration. The amount is exact
/// (decimal, never a float) and its unit free text as written ("g", "oz", "plants").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub amount: Option<Decimal>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub expiry: Option<Date>,
    /// Where the signed document is kept (a file number, a scan reference).
    pub document_ref: Option<String>,
}

/// A state medical registration (patient or caregiver card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicalCard {
    /// Card or registry number as printed.
    pub number: String,
    pub issuing_state: String,
    pub expiry: Date,
    pub recommendation: Option<Recommendation>,
}

impl MedicalCard {
    pub fn expired_on(&self, today: Date) -> bool {
        self.expiry < today
    }

    pub fn recommendation_expired_on(&self, today: Date) -> bool {
        self.recommendation
            .as_ref()
            .and_then(|r| r.expiry)
            .is_some_and(|e| e < today)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendationInput {
    pub amount: Option<String>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub expiry: Option<String>,
    pub document_ref: Option<String>,
}

/// A medical card as a client sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedicalCardInput {
    pub number: Option<String>,
    pub issuing_state: Option<String>,
    pub expiry: Option<String>,
    pub recommendation: Option<RecommendationInput>,
}

impl MedicalCardInput {
    pub fn validate(self) -> Result<MedicalCard, FieldError> {
        let number = required("number", self.number.as_deref().unwrap_or(""), 60)?;
        let issuing_state = required(
            "issuing_state",
            self.issuing_state.as_deref().unwrap_or(""),
            10,
        )?
        .to_ascii_uppercase();
        let expiry = date_field("expiry", self.expiry.as_deref())?
            .ok_or_else(|| FieldError::new("expiry", "required", "expiry must not be empty"))?;
        let recommendation = self
            .recommendation
            .map(|r| r.validate().map_err(|e| e.within("recommendation")))
            .transpose()?;
        Ok(MedicalCard {
            number,
            issuing_state,
            expiry,
            recommendation,
        })
    }
}

impl RecommendationInput {
    fn validate(self) -> Result<Recommendation, FieldError> {
        let amount = match self.amount.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let value: Decimal = raw.parse().map_err(|_| {
                    FieldError::new(
                        "amount",
                        "invalid_amount",
                        "amount must be a decimal number such as 2.5",
                    )
                })?;
                if value.is_sign_negative() || value.is_zero() {
                    return Err(FieldError::new(
                        "amount",
                        "invalid_amount",
                        "amount must be greater than zero",
                    ));
                }
                Some(value.normalize())
            }
        };
        Ok(Recommendation {
            amount,
            unit: optional("unit", self.unit.as_deref(), 20)?,
            category: optional("category", self.category.as_deref(), 60)?,
            expiry: date_field("expiry", self.expiry.as_deref())?,
            document_ref: optional("document_ref", self.document_ref.as_deref(), 200)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn verification(expiry: Option<Date>) -> IdVerification {
        IdVerification {
            customer_id: CustomerId::new(),
            method: VerificationMethod::Scan,
            document: VerifiedDocument {
                kind: IdDocumentKind::DriversLicense,
                number: "123".into(),
                jurisdiction: Some("CO".into()),
                expiry,
                date_of_birth: date(1990, 1, 1),
            },
            reason: None,
            verified_by: "sam".into(),
            verified_by_id: None,
            verified_at: Timestamp::UNIX_EPOCH,
            has_image: false,
        }
    }

    #[test]
    fn a_verification_holds_through_the_expiry_day_and_goes_stale_the_day_after() {
        let v = verification(Some(date(2026, 5, 31)));
        assert_eq!(v.status_on(date(2026, 5, 31)), VerificationStatus::Verified);
        assert_eq!(v.status_on(date(2026, 6, 1)), VerificationStatus::Expired);
    }

    #[test]
    fn a_manual_entry_needs_an_expiry_and_a_birth_date() {
        let err = ManualDocumentInput {
            number: Some("A1".into()),
            date_of_birth: Some("1990-01-01".into()),
            ..Default::default()
        }
        .validate(date(2026, 1, 1))
        .unwrap_err();
        assert_eq!(err.field, "manual.expiry");
    }

    #[test]
    fn a_recommendation_amount_is_an_exact_positive_decimal() {
        let input = |amount: &str| MedicalCardInput {
            number: Some("MMJ-1".into()),
            issuing_state: Some("co".into()),
            expiry: Some("2027-01-01".into()),
            recommendation: Some(RecommendationInput {
                amount: Some(amount.into()),
                ..Default::default()
            }),
        };
        let card = input("2.50").validate().unwrap();
        assert_eq!(card.issuing_state, "CO");
        assert_eq!(
            card.recommendation.unwrap().amount.unwrap().to_string(),
            "2.5"
        );
        assert_eq!(
            input("-1").validate().unwrap_err().field,
            "recommendation.amount"
        );
        assert_eq!(
            input("lots").validate().unwrap_err().field,
            "recommendation.amount"
        );
    }
}
