//! Keyed fingerprints of an erased person's identifiers: the tombstone that stops an import or an
//! online-store sync from silently creating them again.
//!
//! A fingerprint is HMAC-SHA256 over a kind label and the normalised identifier, under an installation
//! secret. Without the secret a fingerprint cannot be matched against a list of phone numbers, and the
//! same person erased at two installations leaves unrelated fingerprints. The cost: whoever holds the
//! secret and the tombstone can test a guessed identifier, which is exactly what the re-creation check
//! needs and no more.

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;

/// Which identifier a fingerprint was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// E.164 phone number.
    Phone,
    /// Lower-case email address.
    Email,
    /// ID document number key with its issuing jurisdiction.
    IdDocument,
    /// Lower-case first and last name with the date of birth.
    NameAndBirthDate,
}

impl IdentifierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Phone => "phone",
            IdentifierKind::Email => "email",
            IdentifierKind::IdDocument => "id_document",
            IdentifierKind::NameAndBirthDate => "name_and_birth_date",
        }
    }
}

/// The identifiers of one person, already normalised by the domain types.
#[derive(Debug, Clone, Default)]
pub struct Identifiers<'a> {
    pub phone_e164: Option<&'a str>,
    pub email_key: Option<&'a str>,
    /// `(number key, jurisdiction)`.
    pub id_document: Option<(&'a str, Option<&'a str>)>,
    /// `(first, last, YYYY-MM-DD)`.
    pub name_and_birth_date: Option<(&'a str, &'a str, String)>,
}

/// One keyed fingerprint, hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint {
    pub kind: IdentifierKind,
    pub hex: String,
}

/// Fingerprints every identifier present, under `secret`.
pub fn fingerprints(secret: &[u8], ids: &Identifiers<'_>) -> Vec<Fingerprint> {
    let mut out = Vec::new();
    let mut add = |kind: IdentifierKind, value: String| {
        out.push(Fingerprint {
            kind,
            hex: keyed(secret, kind, &value),
        });
    };
    if let Some(phone) = ids.phone_e164.filter(|p| !p.is_empty()) {
        add(IdentifierKind::Phone, phone.to_string());
    }
    if let Some(email) = ids.email_key.filter(|e| !e.is_empty()) {
        add(IdentifierKind::Email, email.to_lowercase());
    }
    if let Some((key, jurisdiction)) = ids.id_document.filter(|(k, _)| !k.is_empty()) {
        add(
            IdentifierKind::IdDocument,
            format!("{key}\u{1f}{}", jurisdiction.unwrap_or("").to_uppercase()),
        );
    }
    if let Some((first, last, dob)) = &ids.name_and_birth_date {
        let (first, last) = (first.trim().to_lowercase(), last.trim().to_lowercase());
        if !first.is_empty() && !last.is_empty() {
            add(
                IdentifierKind::NameAndBirthDate,
                format!("{first}\u{1f}{last}\u{1f}{dob}"),
            );
        }
    }
    out
}

fn keyed(secret: &[u8], kind: IdentifierKind, value: &str) -> String {
    // HMAC accepts a key of any length, so this cannot fail; an empty key still yields a MAC.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(kind.as_str().as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Identifiers<'static> {
        Identifiers {
            phone_e164: Some("+15035550101"),
            email_key: Some("ann@example.com"),
            id_document: Some(("D1234567", Some("or"))),
            name_and_birth_date: Some(("Ann", "Lee", "1990-04-01".into())),
        }
    }

    #[test]
    fn the_same_person_gives_the_same_fingerprints_under_one_secret() {
        assert_eq!(fingerprints(b"k1", &ids()), fingerprints(b"k1", &ids()));
        assert_eq!(fingerprints(b"k1", &ids()).len(), 4);
    }

    #[test]
    fn another_secret_gives_unrelated_fingerprints() {
        let a = fingerprints(b"k1", &ids());
        let b = fingerprints(b"k2", &ids());
        assert!(a.iter().zip(&b).all(|(x, y)| x.hex != y.hex));
    }

    #[test]
    fn a_fingerprint_does_not_contain_the_identifier() {
        for f in fingerprints(b"k1", &ids()) {
            assert_eq!(f.hex.len(), 64);
            assert!(!f.hex.contains("5035550101"));
        }
    }

    #[test]
    fn name_case_and_jurisdiction_case_do_not_matter() {
        let upper = Identifiers {
            id_document: Some(("D1234567", Some("OR"))),
            name_and_birth_date: Some(("ANN ", "lee", "1990-04-01".into())),
            ..ids()
        };
        assert_eq!(fingerprints(b"k", &upper), fingerprints(b"k", &ids()));
    }

    #[test]
    fn kinds_are_separated_so_a_value_cannot_match_another_kind() {
        let as_phone = Identifiers {
            phone_e164: Some("x"),
            ..Default::default()
        };
        let as_email = Identifiers {
            email_key: Some("x"),
            ..Default::default()
        };
        assert_ne!(
            fingerprints(b"k", &as_phone)[0].hex,
            fingerprints(b"k", &as_email)[0].hex
        );
    }
}
