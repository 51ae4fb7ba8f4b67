//! Encryption of ID images at rest (XChaCha20-Poly1305).
//!
//! A sealed image is `key_id (4 bytes) ‖ nonce (24 bytes) ‖ ciphertext+tag`, with the customer id
//! as associated data, so an image copied onto another customer's row fails to open. The key id is
//! a keyed fingerprint of the key (the cipher's tag over a fixed label), so it names the key
//! without revealing anything about it; keeping retired keys in the ring lets old images open after
//! a rotation. Nonces are random: 24 bytes make collisions negligible for per-record nonces.
//!
//! Where the key comes from (decided in the binary): `CANOPY_ID_IMAGE_KEY` (base64 of 32 bytes) or
//! the config file; without one, a SQLite installation generates a key file next to its database
//! on first start (`<db>.id-image.key`, mode 0600), while a PostgreSQL installation refuses image
//! uploads with `id_image_key_missing` until a key is configured, because a key generated on one
//! application server would not be known to the others.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use canopy_domain::CustomerId;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("ID image key must be base64 of exactly 32 bytes")]
    BadKey,
    #[error("sealed image is truncated")]
    Truncated,
    #[error("sealed with a key that is not configured (key id {0})")]
    UnknownKey(String),
    #[error("ID image failed authentication (wrong customer or tampered data)")]
    Tampered,
    #[error("key file {path}: {message}")]
    File { path: String, message: String },
}

struct Key {
    id: [u8; KEY_ID_LEN],
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(bytes: &[u8]) -> Result<Key, KeyError> {
        if bytes.len() != KEY_LEN {
            return Err(KeyError::BadKey);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(bytes).map_err(|_| KeyError::BadKey)?;
        let nonce = XNonce::default();
        let tag = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: b"",
                    aad: b"canopy id-image key id",
                },
            )
            .map_err(|_| KeyError::BadKey)?;
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(tag.get(..KEY_ID_LEN).ok_or(KeyError::BadKey)?);
        Ok(Key { id, cipher })
    }
}

/// The current key (used to seal) and retired keys (still used to open).
pub struct IdImageKeys {
    current: Key,
    retired: Vec<Key>,
}

impl std::fmt::Debug for IdImageKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdImageKeys")
            .field("current", &hex(&self.current.id))
            .field("retired", &self.retired.len())
            .finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_key(text: &str) -> Result<Vec<u8>, KeyError> {
    BASE64.decode(text.trim()).map_err(|_| KeyError::BadKey)
}

impl IdImageKeys {
    /// From base64 keys: the current one and any retired ones.
    pub fn from_base64(current: &str, retired: &[String]) -> Result<IdImageKeys, KeyError> {
        Ok(IdImageKeys {
            current: Key::new(&decode_key(current)?)?,
            retired: retired
                .iter()
                .map(|k| Key::new(&decode_key(k)?))
                .collect::<Result<_, _>>()?,
        })
    }

    /// A fresh random key, base64.
    pub fn generate_base64() -> String {
        let mut key = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        BASE64.encode(key)
    }

    /// Reads the key file, creating it (mode 0600) with a fresh key when it does not exist.
    pub fn load_or_create_file(path: &Path) -> Result<IdImageKeys, KeyError> {
        let err = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        if !path.exists() {
            let key = Self::generate_base64();
            write_private(path, &key).map_err(|e| err(e.to_string()))?;
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::from_base64(&text, &[])
    }

    pub fn seal(&self, customer: CustomerId, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce_bytes);
        let nonce = XNonce::from(nonce_bytes);
        let aad = customer.to_string();
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Tampered)?;
        let mut out = Vec::with_capacity(KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(&self, customer: CustomerId, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        let (id, rest) = sealed
            .split_at_checked(KEY_ID_LEN)
            .ok_or(KeyError::Truncated)?;
        let (nonce, ciphertext) = rest
            .split_at_checked(NONCE_LEN)
            .ok_or(KeyError::Truncated)?;
        let key = std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|k| k.id == id)
            .ok_or_else(|| KeyError::UnknownKey(hex(id)))?;
        let nonce = XNonce::try_from(nonce).map_err(|_| KeyError::Truncated)?;
        let aad = customer.to_string();
        key.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Tampered)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> IdImageKeys {
        IdImageKeys::from_base64(&IdImageKeys::generate_base64(), &[]).unwrap()
    }

    #[test]
    fn an_image_opens_for_its_own_customer_only() {
        let keys = keys();
        let (alice, bob) = (CustomerId::new(), CustomerId::new());
        let sealed = keys.seal(alice, b"jpeg bytes").unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"jpeg bytes"));
        assert_eq!(keys.open(alice, &sealed).unwrap(), b"jpeg bytes");
        assert!(matches!(keys.open(bob, &sealed), Err(KeyError::Tampered)));
    }

    #[test]
    fn a_retired_key_still_opens_old_images() {
        let old = IdImageKeys::generate_base64();
        let customer = CustomerId::new();
        let sealed = IdImageKeys::from_base64(&old, &[])
            .unwrap()
            .seal(customer, b"x")
            .unwrap();
        let rotated = IdImageKeys::from_base64(&IdImageKeys::generate_base64(), &[old]).unwrap();
        assert_eq!(rotated.open(customer, &sealed).unwrap(), b"x");
        assert!(matches!(
            keys().open(customer, &sealed),
            Err(KeyError::UnknownKey(_))
        ));
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(matches!(
            IdImageKeys::from_base64("c2hvcnQ=", &[]),
            Err(KeyError::BadKey)
        ));
    }

    #[test]
    fn a_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("canopy-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.id-image.key");
        let customer = CustomerId::new();
        let sealed = IdImageKeys::load_or_create_file(&path)
            .unwrap()
            .seal(customer, b"x")
            .unwrap();
        let again = IdImageKeys::load_or_create_file(&path).unwrap();
        assert_eq!(again.open(customer, &sealed).unwrap(), b"x");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
