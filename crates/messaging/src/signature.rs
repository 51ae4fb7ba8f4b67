//! Webhook signatures: `Canopy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//!
//! The timestamp is inside the signed text so that a captured request cannot be replayed later with a
//! fresh header; receivers reject timestamps too far from their clock. `docs/webhooks.md` gives the
//! recipe for receivers in other languages.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const HEADER: &str = "Canopy-Signature";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature timestamp is outside the allowed window")]
    Expired,
    #[error("no signature matches")]
    Mismatch,
}

/// Checks a header against `body` in constant time. Several `v1=` values are accepted (during secret
/// rotation a sender may include one per secret).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", hex)) => candidates.push(hex),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_unix - timestamp).abs() > tolerance_secs {
        return Err(SignatureError::Expired);
    }
    for hex in candidates {
        let Some(bytes) = decode_hex(hex) else {
            continue;
        };
        if mac(secret, timestamp, body).verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_any_change_breaks_it() {
        let header = sign("whsec_abc", 1_700_000_000, b"{\"a\":1}");
        assert!(verify("whsec_abc", &header, b"{\"a\":1}", 1_700_000_010, 300).is_ok());
        assert_eq!(
            verify("whsec_abc", &header, b"{\"a\":2}", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", &header, b"{\"a\":1}", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn an_old_timestamp_is_refused_even_with_a_valid_signature() {
        let header = sign("s", 1_700_000_000, b"x");
        assert_eq!(
            verify("s", &header, b"x", 1_700_000_301, 300),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn the_signature_matches_an_independently_computed_hmac() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"key", b"1.body", hashlib.sha256).hexdigest())'
        assert_eq!(
            sign("key", 1, b"body"),
            "t=1,v1=91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5"
        );
    }

    #[test]
    fn garbage_headers_are_malformed() {
        for header in ["", "t=abc,v1=00", "v1=00", "t=1"] {
            assert_eq!(
                verify("s", header, b"", 1, 300),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
