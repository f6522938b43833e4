//! Encryption at rest for CRM credentials: AES-256-GCM with a fresh random nonce per value.
//!
//! A stored value is the text `v1:<base64(nonce || ciphertext || tag)>`. The `v1:` prefix names the scheme so a
//! later key or algorithm change can be rolled out beside old rows. Every value is sealed with associated data
//! (the store passes the column and the owning user id), so a ciphertext copied into another row, or another
//! user's row, fails authentication instead of decrypting.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use callbridge_core::secret::Secret;

/// The prefix of every value this module writes.
const VERSION_PREFIX: &str = "v1:";
/// AES-GCM's standard 96-bit nonce.
const NONCE_LEN: usize = 12;
/// AES-GCM's 128-bit authentication tag, appended to the ciphertext.
const TAG_LEN: usize = 16;
/// AES-256 key length in bytes.
const KEY_LEN: usize = 32;

/// Why a key could not be loaded or a value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("token key is not valid base64")]
    KeyNotBase64,
    #[error("token key must be {KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    #[error("stored token does not start with a known scheme prefix")]
    UnknownScheme,
    #[error("stored token is malformed")]
    Malformed,
    /// Wrong key, tampered text, or a value moved from another row.
    #[error("stored token failed authentication (wrong key, tampered value, or another row's value)")]
    Authentication,
    #[error("decrypted token is not valid UTF-8")]
    NotUtf8,
    #[error("token could not be encrypted")]
    Seal,
}

/// Seals and opens credentials with one AES-256-GCM key.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCipher(**REDACTED**)")
    }
}

impl TokenCipher {
    /// Loads a key given as standard base64 of 32 bytes (what [`TokenCipher::generate_key`] returns).
    pub fn from_base64_key(key: &str) -> Result<Self, CryptoError> {
        let bytes = BASE64.decode(key.trim()).map_err(|_| CryptoError::KeyNotBase64)?;
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::KeyLength(bytes.len()));
        }
        let key = Key::<Aes256Gcm>::from_slice(&bytes);
        Ok(Self { cipher: Aes256Gcm::new(key) })
    }

    /// A new random key from the operating system's generator, as standard base64.
    pub fn generate_key() -> String {
        BASE64.encode(Aes256Gcm::generate_key(OsRng))
    }

    /// Seals `secret`; `associated_data` must be given again, byte for byte, to open it.
    pub fn encrypt(&self, secret: &Secret, associated_data: &[u8]) -> Result<String, CryptoError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload { msg: secret.expose().as_bytes(), aad: associated_data };
        let sealed = self.cipher.encrypt(&nonce, payload).map_err(|_| CryptoError::Seal)?;
        let mut packed = Vec::with_capacity(NONCE_LEN + sealed.len());
        packed.extend_from_slice(&nonce);
        packed.extend_from_slice(&sealed);
        Ok(format!("{VERSION_PREFIX}{}", BASE64.encode(packed)))
    }

    /// Opens a value written by [`TokenCipher::encrypt`] with the same key and associated data.
    pub fn decrypt(&self, stored: &str, associated_data: &[u8]) -> Result<Secret, CryptoError> {
        let encoded = stored.strip_prefix(VERSION_PREFIX).ok_or(CryptoError::UnknownScheme)?;
        let packed = BASE64.decode(encoded).map_err(|_| CryptoError::Malformed)?;
        if packed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, sealed) = packed.split_at(NONCE_LEN);
        let payload = Payload { msg: sealed, aad: associated_data };
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), payload).map_err(|_| CryptoError::Authentication)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| CryptoError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> TokenCipher {
        TokenCipher::from_base64_key(&TokenCipher::generate_key()).unwrap()
    }

    #[test]
    fn round_trip_uses_a_fresh_nonce_each_time() {
        let cipher = cipher();
        let secret = Secret::new("access-token-äöü");
        let first = cipher.encrypt(&secret, b"user-1").unwrap();
        let second = cipher.encrypt(&secret, b"user-1").unwrap();
        assert!(first.starts_with("v1:"));
        assert_ne!(first, second);
        assert!(!first.contains("access-token"));
        assert_eq!(cipher.decrypt(&first, b"user-1").unwrap(), secret);
        assert_eq!(cipher.decrypt(&second, b"user-1").unwrap(), secret);
    }

    #[test]
    fn wrong_key_wrong_context_and_tampering_are_errors() {
        let cipher = cipher();
        let sealed = cipher.encrypt(&Secret::new("token"), b"user-1").unwrap();
        assert!(matches!(super::tests::cipher().decrypt(&sealed, b"user-1"), Err(CryptoError::Authentication)));
        assert!(matches!(cipher.decrypt(&sealed, b"user-2"), Err(CryptoError::Authentication)));

        let mut packed = BASE64.decode(&sealed[3..]).unwrap();
        let last = packed.len() - 1;
        packed[last] ^= 1;
        let tampered = format!("v1:{}", BASE64.encode(packed));
        assert!(matches!(cipher.decrypt(&tampered, b"user-1"), Err(CryptoError::Authentication)));

        assert!(matches!(cipher.decrypt("token", b"user-1"), Err(CryptoError::UnknownScheme)));
        assert!(matches!(cipher.decrypt("v1:!!!", b"user-1"), Err(CryptoError::Malformed)));
        assert!(matches!(cipher.decrypt("v1:AAAA", b"user-1"), Err(CryptoError::Malformed)));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(matches!(TokenCipher::from_base64_key("not base64!"), Err(CryptoError::KeyNotBase64)));
        assert!(matches!(TokenCipher::from_base64_key(&BASE64.encode([0u8; 16])), Err(CryptoError::KeyLength(16))));
        assert!(TokenCipher::from_base64_key(&BASE64.encode([7u8; 32])).is_ok());
        assert_eq!(format!("{:?}", cipher()), "TokenCipher(**REDACTED**)");
    }
}
