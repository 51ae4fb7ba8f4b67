//! Passwords, session tokens and API keys: how they are made, hashed and checked.
//!
//! Passwords are hashed with Argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane) on a blocking
//! thread, so a sign-in never stalls the async workers. Tokens and keys are 32 random bytes; only their
//! SHA-256 digest is stored, which is enough because they are unguessable (no salt or slow hash needed).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every API key starts with this, so a leaked key is recognisable (and secret scanners can match it).
pub const API_KEY_PREFIX: &str = "cnpy_";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

fn argon2() -> Result<Argon2<'static>, SecretError> {
    let params = Params::new(
        Params::DEFAULT_M_COST,
        Params::DEFAULT_T_COST,
        Params::DEFAULT_P_COST,
        None,
    )
    .map_err(|e| SecretError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password to an Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), on a blocking thread.
pub async fn hash_password(password: &str) -> Result<String, SecretError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        argon2()?
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| SecretError::Hash(e.to_string()))
    })
    .await?
}

/// True when `password` matches `phc` (parameters are read from the stored hash). A malformed stored
/// hash never matches.
pub async fn verify_password(password: &str, phc: &str) -> Result<bool, SecretError> {
    let password = password.to_string();
    let phc = phc.to_string();
    Ok(tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await?)
}

/// A hash of no one's password, checked when a username does not exist so that a wrong username takes as
/// long as a wrong password (no account enumeration by timing).
pub async fn dummy_hash() -> &'static str {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash_password("no account has this password")
                .await
                .unwrap_or_default()
        })
        .await
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new session token (sent to the browser in the cookie, never stored).
pub fn new_session_token() -> String {
    random_token()
}

/// A new CSRF token for the double-submit check.
pub fn new_csrf_token() -> String {
    random_token()
}

/// A new API key secret: `cnpy_` and 43 URL-safe characters.
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", random_token())
}

/// The first characters of a key, stored and listed so admins can tell keys apart.
pub fn api_key_prefix(key: &str) -> String {
    key.chars().take(API_KEY_PREFIX.len() + 6).collect()
}

/// What is stored for a token or key: its SHA-256 as lower-case hex.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let phc = hash_password("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            verify_password("correct horse battery", &phc)
                .await
                .unwrap()
        );
        assert!(
            !verify_password("Correct horse battery", &phc)
                .await
                .unwrap()
        );
        assert!(!verify_password("x", "not a hash").await.unwrap());
    }

    #[test]
    fn keys_are_long_random_and_stored_only_as_digests() {
        let (a, b) = (new_api_key(), new_api_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), API_KEY_PREFIX.len() + 43);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
        assert!(constant_time_eq(&a, &a.clone()) && !constant_time_eq(&a, &b));
    }
}
