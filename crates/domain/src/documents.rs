//! Documents an online customer submits for staff review: what kind, where the review stands, the
//! fixed list of reasons a document is refused, how a document's details are compared with the
//! profile, and the texts the customer receives.
//!
//! The decision itself (may this document verify the customer?) is not made here: approval records
//! a verification exactly as staff at the counter do, and the eligibility gate judges it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::customer::PersonName;

/// What was submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A driver's licence or state ID (verifies age and identity).
    Id,
    /// A medical marijuana card (needed to buy as a medical patient).
    MedicalCard,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Id => "id",
            DocumentKind::MedicalCard => "medical_card",
        }
    }

    pub fn parse(raw: &str) -> Option<DocumentKind> {
        match raw {
            "id" => Some(DocumentKind::Id),
            "medical_card" => Some(DocumentKind::MedicalCard),
            _ => None,
        }
    }

    /// How the customer is told what the document is.
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Id => "ID",
            DocumentKind::MedicalCard => "medical card",
        }
    }
}

/// Where a submission's review stands. Only `pending` can change, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    Pending,
    Approved,
    Rejected,
}

impl SubmissionStatus {
    pub const ALL: [SubmissionStatus; 3] = [
        SubmissionStatus::Pending,
        SubmissionStatus::Approved,
        SubmissionStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Pending => "pending",
            SubmissionStatus::Approved => "approved",
            SubmissionStatus::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<SubmissionStatus> {
        SubmissionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Why staff refused a document. A fixed list, so the online store can show its own wording and
/// reports can count them; `other` needs a free-text explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// The photo is blurred, cut off or too dark to read.
    Unreadable,
    /// The document has expired.
    Expired,
    /// The name differs from the customer's profile.
    NameMismatch,
    /// The date of birth differs from the customer's profile.
    DateOfBirthMismatch,
    /// Not the kind of document asked for (a credit card, a school ID, …).
    WrongDocument,
    /// The holder is under the store's minimum age.
    Underage,
    /// The document looks altered or is not the customer's.
    SuspectedFraud,
    Other,
}

impl RejectionReason {
    pub const ALL: [RejectionReason; 8] = [
        RejectionReason::Unreadable,
        RejectionReason::Expired,
        RejectionReason::NameMismatch,
        RejectionReason::DateOfBirthMismatch,
        RejectionReason::WrongDocument,
        RejectionReason::Underage,
        RejectionReason::SuspectedFraud,
        RejectionReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectionReason::Unreadable => "unreadable",
            RejectionReason::Expired => "expired",
            RejectionReason::NameMismatch => "name_mismatch",
            RejectionReason::DateOfBirthMismatch => "date_of_birth_mismatch",
            RejectionReason::WrongDocument => "wrong_document",
            RejectionReason::Underage => "underage",
            RejectionReason::SuspectedFraud => "suspected_fraud",
            RejectionReason::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<RejectionReason, FieldError> {
        RejectionReason::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    "reason_code",
                    "invalid_choice",
                    format!(
                        "reason_code must be one of {}",
                        RejectionReason::ALL.map(RejectionReason::as_str).join(", ")
                    ),
                )
            })
    }

    /// What the customer is told (SMS, the online store's default wording).
    pub fn customer_text(self) -> &'static str {
        match self {
            RejectionReason::Unreadable => "the photo could not be read",
            RejectionReason::Expired => "the document has expired",
            RejectionReason::NameMismatch => "the name does not match your account",
            RejectionReason::DateOfBirthMismatch => "the date of birth does not match your account",
            RejectionReason::WrongDocument => "it is not the document we asked for",
            RejectionReason::Underage => "you do not meet the minimum age",
            RejectionReason::SuspectedFraud => "we could not accept it",
            RejectionReason::Other => "we could not accept it",
        }
    }
}

/// A profile field a submitted document disagrees with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    Name,
    DateOfBirth,
}

/// Letters and digits only, lower-cased: "O'Brien" and "OBRIEN" are the same name, as are
/// "Mary Ann" and "MARY-ANN".
fn name_key(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Where the document's name and date of birth (when it shows them) disagree with the profile.
/// A first name matches the profile's first or preferred name; a field the profile or the
/// document lacks is not a mismatch (there is nothing to disagree with).
pub fn mismatches(
    profile_name: &PersonName,
    profile_dob: Option<Date>,
    first_name: Option<&str>,
    last_name: Option<&str>,
    dob: Option<Date>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let first_differs = first_name.is_some_and(|f| {
        let f = name_key(f);
        f != name_key(&profile_name.first)
            && profile_name
                .preferred
                .as_deref()
                .is_none_or(|p| name_key(p) != f)
    });
    let last_differs = last_name.is_some_and(|l| name_key(l) != name_key(&profile_name.last));
    if first_differs || last_differs {
        out.push(Mismatch::Name);
    }
    if let (Some(on_file), Some(on_card)) = (profile_dob, dob)
        && on_file != on_card
    {
        out.push(Mismatch::DateOfBirth);
    }
    out
}

/// The text a customer who consented to transactional SMS receives after the review.
pub fn decision_sms(
    first_name: &str,
    kind: DocumentKind,
    approved: bool,
    reason: Option<RejectionReason>,
) -> String {
    if approved {
        format!(
            "Hi {first_name}, your {} was approved. You can now order for pickup or delivery. Reply STOP to opt out.",
            kind.label()
        )
    } else {
        let why = reason.map_or("we could not accept it", RejectionReason::customer_text);
        format!(
            "Hi {first_name}, we could not approve your {}: {why}. Please upload a new photo. Reply STOP to opt out.",
            kind.label()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn name(first: &str, last: &str, preferred: Option<&str>) -> PersonName {
        PersonName {
            first: first.into(),
            middle: None,
            last: last.into(),
            preferred: preferred.map(str::to_string),
        }
    }

    #[test]
    fn capitals_and_punctuation_do_not_make_a_mismatch() {
        let profile = name("Mary Ann", "O'Brien", None);
        assert!(
            mismatches(
                &profile,
                None,
                Some("MARY-ANN"),
                Some("OBRIEN"),
                Some(date(1990, 1, 1))
            )
            .is_empty()
        );
    }

    #[test]
    fn a_preferred_name_matches_but_another_surname_or_birth_date_does_not() {
        let profile = name("Robert", "Smith", Some("Bob"));
        let dob = date(1980, 2, 3);
        assert!(mismatches(&profile, Some(dob), Some("BOB"), Some("SMITH"), Some(dob)).is_empty());
        assert_eq!(
            mismatches(
                &profile,
                Some(dob),
                Some("ROBERT"),
                Some("JONES"),
                Some(date(1980, 3, 2))
            ),
            [Mismatch::Name, Mismatch::DateOfBirth]
        );
    }

    #[test]
    fn what_the_document_does_not_show_cannot_disagree() {
        let profile = name("Ann", "Lee", None);
        assert!(mismatches(&profile, None, None, None, Some(date(2000, 1, 1))).is_empty());
    }

    #[test]
    fn reasons_round_trip_and_an_unknown_one_names_the_list() {
        for r in RejectionReason::ALL {
            assert_eq!(RejectionReason::parse(r.as_str()), Ok(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let err = RejectionReason::parse("blurry").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("reason_code", "invalid_choice")
        );
        assert!(err.message.contains("unreadable"));
    }

    #[test]
    fn the_customer_is_told_why_without_staff_wording() {
        let text = decision_sms(
            "Dana",
            DocumentKind::Id,
            false,
            Some(RejectionReason::Expired),
        );
        assert!(
            text.contains("your ID") && text.contains("has expired"),
            "{text}"
        );
        assert!(decision_sms("Dana", DocumentKind::MedicalCard, true, None).contains("approved"));
    }
}
