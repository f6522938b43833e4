//! The App Connect session: the JWT from `Authorization: Bearer` or the `jwtToken` query parameter, verified once
//! per request by a middleware, with the sliding renewal App Connect does (`x-refreshed-jwt-token`). A token is
//! only as good as its session in the store: a logged-out session, or one whose user is gone, is refused on every
//! route even though its signature and expiry are fine. The one statement that checks the session also reads its
//! user, which the handlers take from [`Session::user`] instead of reading it again.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use callbridge_core::User;

use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::jwt::Claims;
use crate::state::AppState;
use crate::store::{SealedUser, Store, StoreError};

/// The response header that carries a renewed session token.
pub const REFRESHED_TOKEN_HEADER: &str = "x-refreshed-jwt-token";

/// What the request's session token turned out to be.
#[derive(Clone, Debug)]
enum SessionToken {
    Missing,
    Invalid,
    Valid(Session),
    /// The store could not say whether the session is still open.
    Unchecked(String),
}

/// The verified session of the request and its user as read with it; extracting it fails with the "authorize"
/// 400 when there is none.
#[derive(Clone, Debug)]
pub struct Session {
    pub claims: Claims,
    user: Arc<SealedUser>,
}

impl Session {
    pub fn user_id(&self) -> &str {
        &self.claims.id
    }

    /// The connector name in the token; `Unknown platform` for tokens without one.
    pub fn platform(&self) -> Result<&str, ApiError> {
        self.claims
            .platform
            .as_deref()
            .filter(|it| !it.is_empty())
            .ok_or_else(|| ApiError::bad_request("Unknown platform"))
    }

    /// The session's user as the session check read it, tokens decrypted (a row that does not decrypt fails only
    /// the routes that need the user).
    pub fn user(&self, store: &Store) -> Result<User, StoreError> {
        store.open_user(&self.user)
    }

    /// The session's user if it is on `platform`, whatever its token state.
    pub fn user_on(&self, store: &Store, platform: &str) -> Result<Option<User>, StoreError> {
        Ok(Some(self.user(store)?).filter(|user| user.platform == platform))
    }

    /// The session's user if it is on `platform` and has CRM credentials.
    pub fn crm_user(&self, store: &Store, platform: &str) -> Result<Option<User>, StoreError> {
        Ok(self.user_on(store, platform)?.filter(|user| !user.access_token.is_empty()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<SessionToken>() {
            Some(SessionToken::Valid(session)) => Ok(session.clone()),
            Some(SessionToken::Unchecked(error)) => Err(ApiError::database(error)),
            _ => Err(ApiError::NotAuthorized),
        }
    }
}

/// What the request's session token turned out to be, for the few routes that answer without a session too
/// (`/licenseStatus`); extracting it never fails.
#[derive(Clone, Debug)]
pub enum SessionLookup {
    /// No token, or the extension's literal `undefined`.
    Missing,
    /// A token that does not verify, or whose session has ended.
    Invalid,
    Valid(Session),
    /// The store could not say whether the session is still open.
    Unchecked(String),
}

impl<S: Send + Sync> FromRequestParts<S> for SessionLookup {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<SessionToken>() {
            Some(SessionToken::Valid(session)) => SessionLookup::Valid(session.clone()),
            Some(SessionToken::Invalid) => SessionLookup::Invalid,
            Some(SessionToken::Unchecked(error)) => SessionLookup::Unchecked(error.clone()),
            Some(SessionToken::Missing) | None => SessionLookup::Missing,
        })
    }
}

/// The user id of the request's verified session, if the session middleware found one (rate limits key on it).
pub fn session_user_id(extensions: &axum::http::Extensions) -> Option<&str> {
    match extensions.get::<SessionToken>() {
        Some(SessionToken::Valid(session)) => Some(session.user_id()),
        _ => None,
    }
}

/// The token the request carries: a bearer header wins over the legacy query parameter.
fn request_token(request: &Request) -> Option<String> {
    let bearer = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|it| it.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    bearer.or_else(|| QueryParams::parse(request.uri().query().unwrap_or_default()).get("jwtToken").map(str::to_owned))
}

/// Verifies the session token against its key and its session in the store and, for a valid token within a week
/// of expiry, answers with a renewed one for the same session.
pub async fn session_middleware(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = match request_token(&request) {
        // The extension sends the literal `undefined` when it has no token.
        None => SessionToken::Missing,
        Some(token) if matches!(token.as_str(), "" | "undefined" | "null") => SessionToken::Missing,
        Some(token) => match state.jwt.verify(&token) {
            None => SessionToken::Invalid,
            Some(claims) => match state.store.session_user(&claims.id, claims.sid.as_deref(), claims.iat).await {
                Ok(Some(user)) => SessionToken::Valid(Session { claims, user: Arc::new(user) }),
                Ok(None) => SessionToken::Invalid,
                Err(error) => SessionToken::Unchecked(error.to_string()),
            },
        },
    };
    let renewed = match &token {
        SessionToken::Valid(session) if session.claims.is_due_for_renewal() => renew(&state, &session.claims).await,
        _ => None,
    };
    request.extensions_mut().insert(token);
    let mut response = next.run(request).await;
    if let Some(value) = renewed.and_then(|it| HeaderValue::from_str(&it).ok()) {
        response.headers_mut().insert(REFRESHED_TOKEN_HEADER, value);
    }
    response
}

/// A fresh token for the same session, whose expiry moves with it; `None` (keep the old token) if either fails.
async fn renew(state: &AppState, claims: &Claims) -> Option<String> {
    let token = state.jwt.issue(&claims.id, claims.platform.as_deref(), claims.sid.as_deref()).ok()?;
    if let Some(sid) = &claims.sid {
        let expires_at = chrono::Utc::now() + crate::jwt::TOKEN_LIFETIME;
        if let Err(error) = state.store.extend_session(sid, expires_at).await {
            tracing::warn!(%error, "Extending a renewed session failed; keeping the old token.");
            return None;
        }
    }
    Some(token)
}
