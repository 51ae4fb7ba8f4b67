//! Phone numbers, parsed with libphonenumber's metadata and kept in E.164.

use std::fmt;

use crate::FieldError;

/// The region a number without a country code is read in (the store's country).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

impl Region {
    pub const US: Region = Region(phonenumber::country::Id::US);

    /// Reads an ISO 3166-1 alpha-2 code such as `US` or `CA`.
    pub fn parse(code: &str) -> Option<Region> {
        code.trim().to_ascii_uppercase().parse().ok().map(Region)
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::US
    }
}

/// A valid phone number in E.164 form (`+13035550142`). Two spellings of one number compare equal because
/// only the normalised form is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses any common spelling: `(303) 555-0142`, `303.555.0142`, `+1 303 555 0142`.
    pub fn parse(input: &str, region: Region) -> Result<PhoneNumber, FieldError> {
        let invalid = || {
            FieldError::new(
                "phone",
                "invalid_phone",
                format!("'{input}' is not a valid phone number"),
            )
        };
        let parsed = phonenumber::parse(Some(region.0), input.trim()).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&parsed) {
            return Err(invalid());
        }
        Ok(PhoneNumber(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// Trusts a value that was normalised before it was stored.
    pub fn from_stored(e164: String) -> PhoneNumber {
        PhoneNumber(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits with the order reversed: a prefix search on this finds numbers by their last digits.
    pub fn reversed_digits(&self) -> String {
        self.0.chars().rev().filter(char::is_ascii_digit).collect()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_us_spelling_normalises_to_one_number() {
        for input in [
            "(303) 555-0142",
            "303.555.0142",
            "+13035550142",
            "303 555 0142",
            "1-303-555-0142",
        ] {
            let phone = PhoneNumber::parse(input, Region::US).unwrap();
            assert_eq!(phone.as_str(), "+13035550142", "{input}");
        }
    }

    #[test]
    fn a_number_that_cannot_exist_is_refused_with_the_phone_field() {
        let err = PhoneNumber::parse("12", Region::US).unwrap_err();
        assert_eq!(err.field, "phone");
        assert_eq!(err.code, "invalid_phone");
    }

    #[test]
    fn reversed_digits_let_a_prefix_search_find_the_last_four() {
        let phone = PhoneNumber::parse("303-555-0142", Region::US).unwrap();
        assert!(phone.reversed_digits().starts_with("2410"));
    }
}
