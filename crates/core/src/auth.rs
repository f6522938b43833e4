//! How a connector authenticates its CRM requests: the standard `Authorization` values behind
//! [`Connector::authorization`](crate::Connector::authorization)'s default, and [`Sessions`] for CRMs that trade the
//! user's credential for a session token which can end at any time (Bullhorn's `BhRestToken`).

use std::future::Future;
use std::time::Duration;

use crate::cache::AccountCache;
use crate::error::{ConnectorError, ErrorKind};
use crate::secret::Secret;

/// `Bearer <token>`: OAuth connectors' default.
pub fn bearer(access_token: &Secret) -> Secret {
    Secret::new(format!("Bearer {}", access_token.expose()))
}

/// `Basic <credential>`, the credential as [`Connector::basic_auth`](crate::Connector::basic_auth) encoded it:
/// API-key connectors' default.
pub fn basic(credential: &Secret) -> Secret {
    Secret::new(format!("Basic {}", credential.expose()))
}

/// The API key as HTTP Basic's user name with an empty password, `base64("<api key>:")`: what many API-key CRMs
/// (Insightly among them) take; a connector returns it from [`Connector::basic_auth`](crate::Connector::basic_auth).
pub fn api_key_as_username(api_key: &Secret) -> Secret {
    use base64::Engine as _;
    Secret::new(base64::engine::general_purpose::STANDARD.encode(format!("{}:", api_key.expose())))
}

/// Session tokens by user id: logged in once, shared by concurrent requests, and replaced when the CRM says the
/// session ended (a 401) — the request is then retried once with the new session.
#[derive(Clone, Debug)]
pub struct Sessions {
    tokens: AccountCache<Secret>,
}

impl Sessions {
    /// Sessions are kept at most `ttl` (shorter than the CRM's own session lifetime saves a failed request).
    pub fn new(ttl: Duration, max_users: u64) -> Self {
        Self { tokens: AccountCache::new(ttl, max_users) }
    }

    /// The user's session, logging in with `login` when there is none; concurrent callers share one login.
    pub async fn get(
        &self,
        user_id: &str,
        login: impl Future<Output = Result<Secret, ConnectorError>>,
    ) -> Result<Secret, ConnectorError> {
        self.tokens.get_or_load(user_id, login).await
    }

    /// `call` with `session`; when the CRM answers 401 the session ended early, so this logs in again with `login`
    /// (unless another request already replaced the session) and retries `call` once. A second 401 is the answer:
    /// the credential itself is refused, and looping would only hammer the CRM's login.
    pub async fn retry_after_relogin<T, F>(
        &self,
        user_id: &str,
        session: &Secret,
        login: impl Future<Output = Result<Secret, ConnectorError>>,
        call: impl Fn(Secret) -> F,
    ) -> Result<T, ConnectorError>
    where
        F: Future<Output = Result<T, ConnectorError>>,
    {
        match call(session.clone()).await {
            Err(error) if error.kind() == ErrorKind::Unauthorized => {
                let renewed = match self.tokens.get(user_id).await {
                    Some(current) if &current != session => current,
                    _ => self.tokens.reload(user_id, login).await?,
                };
                call(renewed).await
            }
            outcome => outcome,
        }
    }
}
