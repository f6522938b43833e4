//! The App Connect session token: an HS256 JWT `{id, platform, sid, iat, exp}` that lives two weeks and slides.
//! `sid` names the session in the store, so that logging out ends it (tokens from before it existed have none).

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// How long a session token is valid.
pub const TOKEN_LIFETIME: Duration = Duration::weeks(2);
/// A token closer than this to its expiry is replaced by a fresh one (`x-refreshed-jwt-token`).
pub const RENEW_WITHIN: Duration = Duration::days(7);

/// The token's payload. `id` is the user's id; `platform` is the connector name (absent in very old tokens).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The session's id in the store's `sessions` table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// True when the token should be replaced by a fresh one.
    pub fn is_due_for_renewal(&self) -> bool {
        self.exp - Utc::now().timestamp() <= RENEW_WITHIN.num_seconds()
    }
}

/// The signing and verification keys, from `APP_SERVER_SECRET_KEY` or the key file. Tokens signed with a previous
/// secret (kept in the key file for one token lifetime after `callbridge keys rotate --jwt`) still verify.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    /// The current secret's key first, then the previous ones.
    decoding: Vec<DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(**REDACTED**)")
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self::with_previous(secret, &[])
    }

    /// Keys that sign with `current` and also accept tokens signed with any of `previous`.
    pub fn with_previous(current: &[u8], previous: &[&[u8]]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        let decoding = std::iter::once(current).chain(previous.iter().copied()).map(DecodingKey::from_secret).collect();
        Self { encoding: EncodingKey::from_secret(current), decoding, validation }
    }

    /// A fresh two-week token for the user's session `sid`.
    pub fn issue(
        &self,
        id: &str,
        platform: Option<&str>,
        sid: Option<&str>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let claims = Claims {
            id: id.to_owned(),
            platform: platform.map(str::to_owned),
            sid: sid.map(str::to_owned),
            iat: now.timestamp(),
            exp: (now + TOKEN_LIFETIME).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a token signed with our key and not expired; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = self
            .decoding
            .iter()
            .find_map(|key| jsonwebtoken::decode::<Claims>(token, key, &self.validation).ok())?
            .claims;
        (!claims.id.is_empty()).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_verifies_and_other_keys_do_not() {
        let keys = JwtKeys::new(b"secret-one");
        let token = keys.issue("42-sandbox", Some("sandbox"), Some("s-1")).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.id, "42-sandbox");
        assert_eq!(claims.platform.as_deref(), Some("sandbox"));
        assert_eq!(claims.sid.as_deref(), Some("s-1"));
        assert!(!claims.is_due_for_renewal());
        assert_eq!(JwtKeys::new(b"secret-two").verify(&token), None);
        assert_eq!(keys.verify("undefined"), None);
    }

    #[test]
    fn expired_token_is_rejected() {
        let keys = JwtKeys::new(b"secret");
        let claims = Claims { id: "1".into(), platform: None, sid: None, iat: 0, exp: Utc::now().timestamp() - 10 };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token), None);
    }
}
