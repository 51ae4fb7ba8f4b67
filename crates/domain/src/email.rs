//! Email addresses: syntax-checked, kept as typed, matched case-insensitively.

use crate::FieldError;

/// A syntactically valid address. `as_str` is what the customer typed (trimmed); `key` is the lower-cased
/// form used for uniqueness and lookup, because mailbox providers treat addresses case-insensitively in
/// practice even though the local part is formally case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, FieldError> {
        let trimmed = input.trim();
        let valid = trimmed.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                trimmed,
                email_address::Options::default()
                    .with_required_tld()
                    .without_display_text(),
            )
            .is_ok();
        if !valid {
            return Err(FieldError::new(
                "email",
                "invalid_email",
                format!("'{trimmed}' is not a valid email address"),
            ));
        }
        Ok(Email(trimmed.to_string()))
    }

    pub fn from_stored(value: String) -> Email {
        Email(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_whatever_their_case() {
        assert_eq!(
            Email::parse(" Sarah.M@Example.COM ").unwrap().key(),
            "sarah.m@example.com"
        );
    }

    #[test]
    fn an_address_without_a_domain_is_refused() {
        for bad in [
            "sarah",
            "sarah@",
            "@example.com",
            "sarah@localhost",
            "Sarah <s@example.com>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
