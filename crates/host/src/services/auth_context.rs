//! The authenticated context of a CRM call: the user's tokens, refreshed before they expire, and the
//! `Authorization` value the connector sends.
//!
//! Refresh is single-flight per user across every instance: within a process an async mutex per user lets one
//! request refresh while the others wait, and across processes the store's refresh lease does the same. A request
//! that finds the lease taken polls with a short backoff, re-reading the user each time, and uses the new token as
//! soon as it is no longer about to expire, so a rotating refresh token is spent exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callbridge_core::connector::{OAuthInfoRequest, RequestContext};
use callbridge_core::{AuthType, ConnectorError, ErrorKind, Operation, User, UserSettings};
use chrono::Utc;
use tracing::Instrument as _;

use crate::metrics::crm_call;
use crate::oauth::{self, GrantError, GrantedTokens};
use crate::state::{AppState, ConnectorEntry};
use crate::store::StoreError;

/// Tokens expiring sooner than this are refreshed first.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(2);
const FIRST_POLL: Duration = Duration::from_millis(20);
const MAX_POLL: Duration = Duration::from_millis(400);

/// Why no context could be made.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The CRM refused the refresh token: the user must connect again.
    #[error("the CRM session is revoked")]
    Revoked,
    /// The user was deleted while we worked.
    #[error("user not found")]
    UserGone,
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Request facts that go into every context (kept with a queued operation, for its later attempts).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RequestFacts {
    /// `rc-account-id`: the hashed RingCentral account id.
    pub hashed_account_id: Option<String>,
    /// User agent `SSCL`: server-side call logging sent the request.
    pub is_from_sscl: bool,
    /// The CRM user an admin assigned the log to (`services::admin::assigned_crm_user`).
    #[serde(default)]
    pub assigned_crm_user_id: Option<String>,
}

/// One async mutex per user with a refresh in flight in this process.
#[derive(Default)]
pub struct RefreshLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl RefreshLocks {
    fn lock_for(&self, user_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(user_id.to_owned()).or_default().clone()
    }

    /// Drops the user's mutex when nobody else holds or waits for it, so the map does not grow without bound.
    fn forget(&self, user_id: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(lock);
        if locks.get(user_id).is_some_and(|it| Arc::strong_count(it) == 1) {
            locks.remove(user_id);
        }
    }
}

/// True when the user has OAuth tokens that expire within [`REFRESH_MARGIN`]. A user without an expiry never
/// refreshes (the CRM did not say when its token expires), as in App Connect.
pub fn needs_refresh(user: &User) -> bool {
    let has_tokens = !user.access_token.is_empty() && user.refresh_token.as_ref().is_some_and(|it| !it.is_empty());
    has_tokens && user.token_expiry.is_some_and(|expiry| expiry < Utc::now() + REFRESH_MARGIN)
}

/// The context for a CRM call on behalf of `user`, refreshing OAuth tokens first when they are about to expire.
pub async fn context_for(
    state: &AppState,
    entry: &ConnectorEntry,
    user: User,
    facts: &RequestFacts,
) -> Result<RequestContext, ContextError> {
    let connector = &entry.connector;
    let user = match connector.auth_type() {
        AuthType::OAuth => fresh_user(state, entry, user).await?,
        AuthType::ApiKey => user,
    };
    let auth_header = connector.authorization(&user).await?;
    let admin_settings = match &facts.hashed_account_id {
        Some(hashed) => state.store.admin_config(hashed).await?.map(|it| it.user_settings).unwrap_or_default(),
        None => UserSettings::default(),
    };
    Ok(RequestContext {
        user,
        auth_header,
        hashed_account_id: facts.hashed_account_id.clone(),
        admin_settings,
        is_from_sscl: facts.is_from_sscl,
        assigned_crm_user_id: facts.assigned_crm_user_id.clone(),
    })
}

/// The user with a token that is not about to expire: as given, or after a (single-flight) refresh.
pub async fn fresh_user(state: &AppState, entry: &ConnectorEntry, user: User) -> Result<User, ContextError> {
    if !needs_refresh(&user) {
        return Ok(user);
    }
    let lock = state.refresh_locks.lock_for(&user.id);
    let result = {
        let _in_process = lock.lock().await;
        // Detached, so that a client hanging up cannot cancel a refresh between the CRM granting new tokens (a
        // rotating refresh token is spent) and the store keeping them.
        let (state, entry, user_id) = (state.clone(), entry.clone(), user.id.clone());
        // The task keeps the request's span, so what it logs carries the request id.
        let refresh =
            tokio::spawn(async move { refresh_single_flight(&state, &entry, &user_id).await }.in_current_span());
        refresh.await.unwrap_or_else(|error| {
            Err(ContextError::Connector(ConnectorError::upstream(format!("the token refresh task failed: {error}"))))
        })
    };
    state.refresh_locks.forget(&user.id, lock);
    result
}

async fn refresh_single_flight(state: &AppState, entry: &ConnectorEntry, user_id: &str) -> Result<User, ContextError> {
    let started = Instant::now();
    let mut poll = FIRST_POLL;
    // Each attempt holds the lease under its own name, so an instance never mistakes an old lease for its own.
    let holder = format!("{}/{}", state.instance_id, uuid::Uuid::new_v4());
    loop {
        // Whoever refreshed before us (in this process or another) may have left a fresh token.
        let user = state.store.user(user_id).await?.ok_or(ContextError::UserGone)?;
        if !needs_refresh(&user) {
            return Ok(user);
        }
        let ttl = state.tunables.refresh_lease_ttl;
        if state.store.try_acquire_refresh_lease(user_id, &holder, ttl).await? {
            // Read again under the lease: a holder may have finished between our read and our acquisition.
            let outcome = match state.store.user(user_id).await? {
                Some(user) if needs_refresh(&user) => refresh_now(state, entry, user).await,
                Some(user) => Ok(user),
                None => Err(ContextError::UserGone),
            };
            if let Err(error) = state.store.release_refresh_lease(user_id, &holder).await {
                // The lease expires on its own; others wait at most its time to live.
                tracing::warn!(%error, "Releasing a refresh lease failed.");
            }
            return outcome;
        }
        if started.elapsed() >= state.tunables.refresh_wait_limit {
            return Err(ContextError::Connector(
                ConnectorError::upstream("timed out waiting for another instance to refresh the CRM token")
                    .temporary(true),
            ));
        }
        tokio::time::sleep(poll).await;
        poll = (poll * 2).min(MAX_POLL);
    }
}

/// Refreshes the user's tokens (the caller holds the lease) and stores them.
async fn refresh_now(state: &AppState, entry: &ConnectorEntry, user: User) -> Result<User, ContextError> {
    let connector = &entry.connector;
    let token_url = user.platform_additional_info.get("tokenUrl").and_then(|it| it.as_str()).map(str::to_owned);
    let oauth = connector.oauth_info(&OAuthInfoRequest { hostname: Some(user.hostname.clone()), token_url })?;
    let spent_refresh_token = user.refresh_token.clone();
    let granted: Result<GrantedTokens, GrantError> = if connector.operations().contains(&Operation::RefreshToken) {
        match crm_call(connector.name(), Operation::RefreshToken, connector.refresh_token(&user, &oauth)).await {
            Ok(tokens) => Ok(GrantedTokens {
                access_token: tokens.access_token,
                refresh_token: tokens.refresh_token,
                expires_at: tokens.expires_at,
                raw: serde_json::Map::new(),
            }),
            Err(error) if error.kind() == ErrorKind::Unauthorized => Err(GrantError::InvalidGrant),
            Err(error) => Err(GrantError::Failed(error)),
        }
    } else {
        let Some(refresh_token) = &user.refresh_token else {
            return Err(ContextError::Revoked);
        };
        let result = oauth::refresh(&entry.http, &oauth, refresh_token).await;
        record_refresh_outcome(connector.name(), &result);
        result
    };
    match granted {
        Ok(tokens) => {
            state
                .store
                .update_tokens(&user.id, &tokens.access_token, tokens.refresh_token.as_ref(), tokens.expires_at)
                .await?;
            tracing::info!(connector = connector.name(), "CRM token refreshed.");
            state.store.user(&user.id).await?.ok_or(ContextError::UserGone)
        }
        Err(GrantError::InvalidGrant) => {
            // Someone else may have rotated the refresh token meanwhile; then theirs is the valid one.
            let current = state.store.user(&user.id).await?.ok_or(ContextError::UserGone)?;
            if current.refresh_token != spent_refresh_token && !needs_refresh(&current) {
                return Ok(current);
            }
            tracing::warn!(connector = connector.name(), "CRM refused the refresh token; the session is revoked.");
            Err(ContextError::Revoked)
        }
        Err(GrantError::Failed(error)) => Err(ContextError::Connector(error)),
    }
}

fn record_refresh_outcome(connector: &'static str, result: &Result<GrantedTokens, GrantError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(GrantError::InvalidGrant) => "invalid_grant",
        Err(GrantError::Failed(error)) => error.kind().as_str(),
    };
    metrics::counter!(crate::metrics::CRM_CALLS, "connector" => connector, "operation" => "refreshToken", "outcome" => outcome)
        .increment(1);
}
