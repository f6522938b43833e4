//! Encryption at rest for CRM credentials: AES-256-GCM with a fresh random nonce per value, under a ring of keys.
//!
//! A stored value is the text `v2:<key id>:<base64(nonce || ciphertext || tag)>`, sealed with the ring's current
//! (first) key. The key id (a hash of the key, which reveals nothing of it) picks the key that opens it, so a new
//! key can be added while values sealed under older ones stay readable until `callbridge keys rotate` re-seals
//! them. Values from before key rotation existed are `v1:<base64(...)>` without an id; every key is tried on them.
//! Every value is sealed with associated data (the store passes the column and the owning user id), so a
//! ciphertext copied into another row, or another user's row, fails authentication instead of decrypting.

use std::fmt;
use std::sync::{Arc, RwLock};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use callbridge_core::secret::Secret;
use sha2::{Digest, Sha256};

/// The prefix of every value this module writes: `v2:<key id>:`.
const VERSION_PREFIX: &str = "v2:";
/// The prefix of values written before keys had ids.
const LEGACY_PREFIX: &str = "v1:";
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
    #[error("no token key given")]
    NoKey,
    /// The value was sealed under a key this process does not have (a key file from another instance?).
    #[error("stored token was sealed under key {0}, which is not among the configured token keys")]
    UnknownKey(String),
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

/// `(key id, cipher)`, the current key first.
type Ring = Vec<(String, Aes256Gcm)>;

/// Reads the key ring afresh (the key file), for a value sealed under a key this process has not loaded yet.
pub type KeyReloader = Arc<dyn Fn() -> Option<Vec<String>> + Send + Sync>;

/// Seals credentials with the current AES-256-GCM key and opens them with whichever key of the ring sealed them.
/// Clones share the ring, so a reload is seen by all of them.
#[derive(Clone)]
pub struct TokenCipher {
    keys: Arc<RwLock<Arc<Ring>>>,
    reloader: Option<KeyReloader>,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCipher(**REDACTED**)")
    }
}

impl TokenCipher {
    /// Loads a key given as standard base64 of 32 bytes (what [`TokenCipher::generate_key`] returns).
    pub fn from_base64_key(key: &str) -> Result<Self, CryptoError> {
        Self::from_base64_keys([key])
    }

    /// Loads a ring of keys: the first seals new values, every one opens the values it sealed.
    pub fn from_base64_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<Self, CryptoError> {
        let mut ring = Vec::new();
        for key in keys {
            let bytes = BASE64.decode(key.trim()).map_err(|_| CryptoError::KeyNotBase64)?;
            if bytes.len() != KEY_LEN {
                return Err(CryptoError::KeyLength(bytes.len()));
            }
            let id = key_id(&bytes);
            if !ring.iter().any(|(known, _)| *known == id) {
                ring.push((id, Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes))));
            }
        }
        if ring.is_empty() {
            return Err(CryptoError::NoKey);
        }
        Ok(Self { keys: Arc::new(RwLock::new(Arc::new(ring))), reloader: None })
    }

    /// A cipher that, meeting a value sealed under a key it does not have (`callbridge keys rotate` ran while this
    /// process was serving), reads its ring again with `reloader` and from then on seals with the new current key.
    pub fn with_reloader(mut self, reloader: KeyReloader) -> Self {
        self.reloader = Some(reloader);
        self
    }

    fn ring(&self) -> Arc<Ring> {
        // A poisoned lock still holds a complete ring: it is only ever replaced whole.
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Replaces the ring with the reloaded one if it knows `id`; true if it did.
    fn reload_for(&self, id: &str) -> bool {
        let Some(keys) = self.reloader.as_ref().and_then(|reload| reload()) else { return false };
        let Ok(reloaded) = Self::from_base64_keys(keys.iter().map(String::as_str)) else { return false };
        let ring = reloaded.ring();
        if !ring.iter().any(|(known, _)| known == id) {
            return false;
        }
        *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = ring;
        true
    }

    /// The id of the key that seals new values.
    pub fn current_key_id(&self) -> String {
        self.ring()[0].0.clone()
    }

    /// The ids of every key in the ring, the current one first.
    pub fn key_ids(&self) -> Vec<String> {
        self.ring().iter().map(|(id, _)| id.clone()).collect()
    }

    /// True when `stored` is sealed under the current key (re-sealing it would change nothing).
    pub fn is_current(&self, stored: &str) -> bool {
        Self::key_id_of(stored) == Some(self.current_key_id().as_str())
    }

    /// The key id a stored value names (`None` for legacy values, which name none).
    pub fn key_id_of(stored: &str) -> Option<&str> {
        stored.strip_prefix(VERSION_PREFIX).and_then(|rest| rest.split_once(':')).map(|(id, _)| id)
    }

    /// A new random key from the operating system's generator, as standard base64.
    pub fn generate_key() -> String {
        BASE64.encode(Aes256Gcm::generate_key(OsRng))
    }

    /// Seals `secret`; `associated_data` must be given again, byte for byte, to open it.
    pub fn encrypt(&self, secret: &Secret, associated_data: &[u8]) -> Result<String, CryptoError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload { msg: secret.expose().as_bytes(), aad: associated_data };
        let ring = self.ring();
        let (id, cipher) = &ring[0];
        let sealed = cipher.encrypt(&nonce, payload).map_err(|_| CryptoError::Seal)?;
        let mut packed = Vec::with_capacity(NONCE_LEN + sealed.len());
        packed.extend_from_slice(&nonce);
        packed.extend_from_slice(&sealed);
        Ok(format!("{VERSION_PREFIX}{id}:{}", BASE64.encode(packed)))
    }

    /// Opens a value written by [`TokenCipher::encrypt`] under any key of the ring, with the same associated data.
    pub fn decrypt(&self, stored: &str, associated_data: &[u8]) -> Result<Secret, CryptoError> {
        match Self::decrypt_with(&self.ring(), stored, associated_data) {
            Err(CryptoError::UnknownKey(id)) if self.reload_for(&id) => {
                tracing::info!(key = id, "Reloaded the token keys: a newer key sealed a stored token.");
                Self::decrypt_with(&self.ring(), stored, associated_data)
            }
            other => other,
        }
    }

    fn decrypt_with(ring: &Ring, stored: &str, associated_data: &[u8]) -> Result<Secret, CryptoError> {
        let (candidates, encoded): (Vec<&Aes256Gcm>, &str) = if let Some(rest) = stored.strip_prefix(VERSION_PREFIX) {
            let (id, encoded) = rest.split_once(':').ok_or(CryptoError::Malformed)?;
            let (_, cipher) =
                ring.iter().find(|(known, _)| known == id).ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
            (vec![cipher], encoded)
        } else if let Some(encoded) = stored.strip_prefix(LEGACY_PREFIX) {
            (ring.iter().map(|(_, cipher)| cipher).collect(), encoded)
        } else {
            return Err(CryptoError::UnknownScheme);
        };
        let packed = BASE64.decode(encoded).map_err(|_| CryptoError::Malformed)?;
        if packed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, sealed) = packed.split_at(NONCE_LEN);
        let plain = candidates
            .into_iter()
            .find_map(|cipher| {
                cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: associated_data }).ok()
            })
            .ok_or(CryptoError::Authentication)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| CryptoError::NotUtf8)
    }
}

/// A key's public name: the first 8 bytes of a domain-separated SHA-256 of it, in hex.
fn key_id(key: &[u8]) -> String {
    let digest = Sha256::new().chain_update(b"callbridge token key id\0").chain_update(key).finalize();
    hex::encode(&digest[..8])
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
        assert!(first.starts_with(&format!("v2:{}:", cipher.current_key_id())));
        assert_ne!(first, second);
        assert!(!first.contains("access-token"));
        assert_eq!(cipher.decrypt(&first, b"user-1").unwrap(), secret);
        assert_eq!(cipher.decrypt(&second, b"user-1").unwrap(), secret);
    }

    #[test]
    fn wrong_key_wrong_context_and_tampering_are_errors() {
        let cipher = cipher();
        let sealed = cipher.encrypt(&Secret::new("token"), b"user-1").unwrap();
        assert!(matches!(super::tests::cipher().decrypt(&sealed, b"user-1"), Err(CryptoError::UnknownKey(_))));
        let legacy = format!("v1:{}", sealed.rsplit_once(':').unwrap().1);
        assert!(matches!(super::tests::cipher().decrypt(&legacy, b"user-1"), Err(CryptoError::Authentication)));
        assert!(matches!(cipher.decrypt(&sealed, b"user-2"), Err(CryptoError::Authentication)));

        let (prefix, encoded) = sealed.rsplit_once(':').unwrap();
        let mut packed = BASE64.decode(encoded).unwrap();
        let last = packed.len() - 1;
        packed[last] ^= 1;
        let tampered = format!("{prefix}:{}", BASE64.encode(packed));
        assert!(matches!(cipher.decrypt(&tampered, b"user-1"), Err(CryptoError::Authentication)));

        assert!(matches!(cipher.decrypt("token", b"user-1"), Err(CryptoError::UnknownScheme)));
        assert!(matches!(cipher.decrypt("v1:!!!", b"user-1"), Err(CryptoError::Malformed)));
        assert!(matches!(cipher.decrypt("v1:AAAA", b"user-1"), Err(CryptoError::Malformed)));
        assert!(matches!(cipher.decrypt("v2:0011223344556677:AAAA", b"user-1"), Err(CryptoError::UnknownKey(_))));
    }

    #[test]
    fn a_ring_seals_with_its_first_key_and_opens_with_any() {
        let (old, new) = (TokenCipher::generate_key(), TokenCipher::generate_key());
        let before = TokenCipher::from_base64_key(&old).unwrap();
        let sealed_old = before.encrypt(&Secret::new("old-token"), b"u").unwrap();
        let ring = TokenCipher::from_base64_keys([new.as_str(), old.as_str()]).unwrap();
        assert_eq!(ring.key_ids().len(), 2);
        assert!(!ring.is_current(&sealed_old));
        assert_eq!(ring.decrypt(&sealed_old, b"u").unwrap().expose(), "old-token");
        let sealed_new = ring.encrypt(&Secret::new("new-token"), b"u").unwrap();
        assert!(ring.is_current(&sealed_new));
        assert_eq!(TokenCipher::key_id_of(&sealed_new), Some(ring.current_key_id().as_str()));
        assert!(matches!(before.decrypt(&sealed_new, b"u"), Err(CryptoError::UnknownKey(_))));

        // A value from before key ids (`v1:`) opens under whichever key of the ring sealed it.
        let legacy = format!("v1:{}", sealed_old.rsplit_once(':').unwrap().1);
        assert_eq!(ring.decrypt(&legacy, b"u").unwrap().expose(), "old-token");
        assert!(matches!(TokenCipher::from_base64_keys([]), Err(CryptoError::NoKey)));

        // A cipher with a reloader picks up a newer ring when it meets its key, and seals with it from then on.
        let rotated = vec![new.clone(), old.clone()];
        let reloading =
            TokenCipher::from_base64_key(&old).unwrap().with_reloader(Arc::new(move || Some(rotated.clone())));
        let sibling = reloading.clone();
        assert_eq!(reloading.decrypt(&sealed_new, b"u").unwrap().expose(), "new-token");
        assert!(sibling.is_current(&sibling.encrypt(&Secret::new("x"), b"u").unwrap()));
        assert_eq!(sibling.current_key_id(), ring.current_key_id());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(matches!(TokenCipher::from_base64_key("not base64!"), Err(CryptoError::KeyNotBase64)));
        assert!(matches!(TokenCipher::from_base64_key(&BASE64.encode([0u8; 16])), Err(CryptoError::KeyLength(16))));
        assert!(TokenCipher::from_base64_key(&BASE64.encode([7u8; 32])).is_ok());
        assert_eq!(format!("{:?}", cipher()), "TokenCipher(**REDACTED**)");
    }
}
