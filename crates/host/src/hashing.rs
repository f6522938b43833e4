//! App Connect's id hashing: `sha256hex("<value>:<HASH_KEY>")`, used for RingCentral account and extension ids.

use sha2::{Digest, Sha256};

/// The lower-case hex SHA-256 of `"<value>:<key>"`.
pub fn hash_id(value: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(value.as_bytes());
    hasher.update(b":");
    hasher.update(key.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_value_colon_key() {
        // Computed independently: `printf 'abc:key' | sha256sum`.
        assert_eq!(hash_id("abc", "key"), "e4b0c7b40958d9a0615615244e2c8a668ebaad22ab619abbe98ae51366345fcf");
    }
}
