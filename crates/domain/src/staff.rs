//! Staff accounts and integration keys: who may sign in, and with which role or scopes.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

use crate::text::{self, FieldError};
use crate::{ApiKeyId, PermissionSet, Role, UserId};

/// A sign-in name: 3–64 characters of lower-case letters, digits, `.`, `_`, `-` (plus `@` so an email
/// address works). Lower-cased on the way in, so `Dana` and `dana` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, FieldError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if !(3..=64).contains(&len) {
            return Err(FieldError::new(
                "username",
                "invalid_username",
                "username must be 3 to 64 characters",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c))
        {
            return Err(FieldError::new(
                "username",
                "invalid_username",
                "username may contain only letters, digits, '.', '_', '-' and '@'",
            ));
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the policy: 12 to 256 characters, not all one character. Length is what
/// matters (NIST SP 800-63B); composition rules are deliberately absent. Never printed by `Debug`.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: &str) -> Result<NewPassword, FieldError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(FieldError::new(
                "password",
                "password_too_short",
                format!("password must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(FieldError::new(
                "password",
                "password_too_long",
                format!("password must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        let mut chars = raw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(FieldError::new(
                "password",
                "password_too_weak",
                "password must not repeat one character",
            ));
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A store a staff member works at. Stores get their own table with the orders work; until then a
/// short code (`denver-1`).
pub fn parse_store_ids(raw: &[String]) -> Result<Vec<String>, FieldError> {
    crate::bounds::list("stores", raw.len(), crate::bounds::MAX_LIST)?;
    let mut out: Vec<String> = Vec::new();
    for (i, id) in raw.iter().enumerate() {
        let id = text::required(&format!("stores[{i}]"), id, 64)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// A validated display name ("Dana R."), shown in the UI and on notes.
pub fn parse_display_name(raw: &str) -> Result<String, FieldError> {
    text::required("display_name", raw, 100)
}

/// A staff account as every part of Canopy sees it (the password hash stays in storage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Store ids this person works at.
    pub stores: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An integration key as listed (never its secret, which exists only when created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the key, so an admin can tell keys apart without the secret.
    pub prefix: String,
    pub scopes: PermissionSet,
    /// The store ids the key may act at; `None` for every store.
    pub stores: Option<Vec<String>>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// Validates an API key name ("Online store", "Delivery app").
pub fn parse_key_name(raw: &str) -> Result<String, FieldError> {
    text::required("name", raw, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_insensitive_and_refuse_spaces() {
        assert_eq!(Username::parse(" Dana.R ").unwrap().as_str(), "dana.r");
        assert_eq!(
            Username::parse("dana r").unwrap_err().code,
            "invalid_username"
        );
        assert!(Username::parse("ab").is_err());
    }

    #[test]
    fn short_or_monotonous_passwords_are_refused_and_never_printed() {
        assert_eq!(
            NewPassword::parse("short").unwrap_err().code,
            "password_too_short"
        );
        assert_eq!(
            NewPassword::parse("aaaaaaaaaaaaaa").unwrap_err().code,
            "password_too_weak"
        );
        let ok = NewPassword::parse("correct horse battery").unwrap();
        assert_eq!(format!("{ok:?}"), "NewPassword(***)");
    }
}
