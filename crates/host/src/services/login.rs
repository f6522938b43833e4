//! Logging users in and out: API-key login, the OAuth callback (code exchange), logout, and auth validation.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callbridge_core::connector::{OAuthInfoRequest, PlatformUserInfo, UserInfoRequest};
use callbridge_core::{AuthType, Operation, ReturnMessage, Secret, User};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::metrics::crm_call;
use crate::oauth::{self, GrantError};
use crate::services::auth_context::{ContextError, RequestFacts, context_for};
use crate::services::reply::{
    Reply, connector_failure, context_failure, database_failure, platform_entry, revoked, warning,
};
use crate::session::Session;
use crate::state::{AppState, ConnectorEntry};
use crate::store::StoreError;

/// The body of `POST /apiKeyLogin`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyLoginBody {
    /// The connector's name; optional to the parser, the service refuses a body without it.
    #[serde(default)]
    #[schema(required = true)]
    pub platform: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Secret>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub additional_info: Option<Map<String, Value>>,
    /// The caller's RingCentral access token (deprecated in the body; header `X-RC-Access-Token` wins): when given,
    /// RingCentral tells which account and extension the login belongs to.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub rc_access_token: Option<Secret>,
}

/// What a login stores besides the CRM's user info.
struct NewCredentials {
    hostname: String,
    access_token: Secret,
    refresh_token: Option<Secret>,
    token_expiry: Option<DateTime<Utc>>,
    rc_account_id: Option<String>,
    hashed_rc_extension_id: Option<String>,
    additional_info: Map<String, Value>,
}

/// The answer of a successful login: a token for a new session.
async fn login_answer(
    state: &AppState,
    user: &User,
    name: &str,
    message: Option<ReturnMessage>,
) -> Result<Response, ApiError> {
    let sid = uuid::Uuid::new_v4().simple().to_string();
    let expires_at = Utc::now() + crate::jwt::TOKEN_LIFETIME;
    state.store.start_session(&sid, &user.id, expires_at).await.map_err(ApiError::database)?;
    let token = state.jwt.issue(&user.id, Some(&user.platform), Some(&sid)).map_err(ApiError::internal)?;
    let message = message.unwrap_or_else(|| ReturnMessage::success("Successfully authorized.", 3000));
    Ok(Json(json!({"jwtToken": token, "name": name, "returnMessage": message})).into_response())
}

/// Creates or updates the user row of a login; settings and connector data of an existing row are kept.
async fn save_user(
    state: &AppState,
    entry: &ConnectorEntry,
    info: &PlatformUserInfo,
    credentials: NewCredentials,
) -> Result<User, StoreError> {
    let existing = state.store.user(&info.id).await?;
    let mut platform_additional_info =
        existing.as_ref().map(|it| it.platform_additional_info.clone()).unwrap_or_default();
    platform_additional_info.extend(credentials.additional_info);
    platform_additional_info.extend(info.platform_additional_info.clone());
    let user = User {
        id: info.id.clone(),
        platform: entry.connector.name().to_owned(),
        hostname: credentials.hostname,
        timezone_name: info.timezone_name.clone(),
        timezone_offset: info.timezone_offset.clone().map(callbridge_core::TimezoneOffset::Text),
        access_token: credentials.access_token,
        refresh_token: credentials.refresh_token,
        token_expiry: credentials.token_expiry,
        platform_additional_info,
        user_settings: existing.as_ref().map(|it| it.user_settings.clone()).unwrap_or_default(),
        rc_account_id: credentials.rc_account_id.or_else(|| existing.as_ref().and_then(|it| it.rc_account_id.clone())),
        hashed_rc_extension_id: credentials
            .hashed_rc_extension_id
            .or_else(|| existing.as_ref().and_then(|it| it.hashed_rc_extension_id.clone())),
    };
    state.store.upsert_user(&user).await?;
    Ok(user)
}

/// A 400 whose JSON body carries a `returnMessage`, App Connect's answer to a refused API-key login.
fn login_refused(message: ReturnMessage) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"returnMessage": message}))).into_response()
}

/// `POST /apiKeyLogin`.
pub async fn api_key_login(
    state: &AppState,
    hashed_rc_extension_id: Option<String>,
    rc_token: Option<Secret>,
    body: ApiKeyLoginBody,
) -> Result<Response, ApiError> {
    let platform = body.platform.as_deref().map(str::trim).filter(|it| !it.is_empty());
    let platform = platform.ok_or_else(|| ApiError::bad_request("Missing platform name"))?;
    let entry = platform_entry(state, platform)?;
    let connector = &entry.connector;
    if connector.auth_type() != AuthType::ApiKey {
        return Err(ApiError::bad_request(format!(
            "{} does not use API keys; connect with OAuth.",
            entry.display_name
        )));
    }
    // A RingCentral token names the account verifiably (App Connect trusts it over anything the body says).
    let rc_token = rc_token.or(body.rc_access_token).filter(|it| !it.is_empty());
    let rc_caller = match (rc_token, state.ringcentral.as_ref()) {
        (Some(token), Some(ringcentral)) => match ringcentral.caller(&token).await {
            Ok(caller) => Some(caller),
            Err(crate::ringcentral::RingCentralError::Refused) => {
                return Ok(login_refused(ReturnMessage::warning("RingCentral did not accept the access token.", 3000)));
            }
            Err(error) => {
                tracing::warn!(%error, "Reading the RingCentral user at login failed; logging in without it.");
                None
            }
        },
        _ => None,
    };
    let hashed_rc_extension_id = hashed_rc_extension_id
        .or_else(|| rc_caller.as_ref().map(|it| crate::hashing::hash_id(&it.extension_id, state.hash_key.expose())));
    let Some(api_key) = body.api_key.filter(|it| !it.is_empty()) else {
        return Ok(login_refused(ReturnMessage::warning("Missing API key.", 3000)));
    };
    let credential = match connector.basic_auth(&api_key) {
        Ok(credential) => credential,
        Err(error) => return Ok(login_refused(error.to_return_message(Operation::GetBasicAuth, &entry.display_name))),
    };
    let hostname = body.hostname.unwrap_or_default();
    let additional_info = body.additional_info.unwrap_or_default();
    let request = UserInfoRequest {
        auth_header: callbridge_core::auth::basic(&credential),
        hostname: hostname.clone(),
        api_key: Some(api_key.clone()),
        additional_info: additional_info.clone(),
        token_response: None,
    };
    let info = match crm_call(connector.name(), Operation::GetUserInfo, connector.user_info(request)).await {
        Ok(info) if !info.user.id.is_empty() => info,
        Ok(info) => {
            let message =
                info.return_message.unwrap_or_else(|| ReturnMessage::warning("Could not load user information", 5000));
            return Ok(login_refused(message));
        }
        Err(error) => return Ok(login_refused(error.to_return_message(Operation::GetUserInfo, &entry.display_name))),
    };
    // The auth form's values are kept for the connector, except the key itself, which is stored encrypted.
    let mut kept_info = additional_info;
    kept_info.remove("apiKey");
    let credentials = NewCredentials {
        hostname: info.user.overriding_hostname.clone().unwrap_or(hostname),
        access_token: info.user.overriding_api_key.clone().filter(|it| !it.is_empty()).unwrap_or(api_key),
        refresh_token: None,
        token_expiry: None,
        rc_account_id: rc_caller.map(|it| it.account_id),
        hashed_rc_extension_id,
        additional_info: kept_info,
    };
    let user = match save_user(state, entry, &info.user, credentials).await {
        Ok(user) => user,
        Err(error) => return Ok(database_failure(&error)),
    };
    tracing::info!(connector = connector.name(), "User logged in with an API key.");
    login_answer(state, &user, &info.user.name, info.return_message).await
}

/// The connector name in an OAuth `state`: `platform=<name>` (possibly URL-encoded, possibly one of several
/// parameters), or the text after `platform=` in a custom state such as `filler,platform=netsuite`.
pub fn platform_from_state(state: &str) -> Option<String> {
    let from_pairs = url::form_urlencoded::parse(state.as_bytes())
        .find(|(key, _)| key == "platform")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|it| !it.is_empty() && !it.contains(['&', ',', '=']));
    from_pairs.or_else(|| {
        let after = &state[state.find("platform=")? + "platform=".len()..];
        let name: String = after.chars().take_while(|it| it.is_ascii_alphanumeric() || *it == '_').collect();
        (!name.is_empty()).then_some(name)
    })
}

/// The query parameters inside the callback URI (`...redirect.html?code=..&state=..`).
fn callback_params(callback_uri: &str) -> QueryParams {
    let query = callback_uri.split_once('?').map(|(_, query)| query).unwrap_or_default();
    QueryParams::parse(query.split('#').next().unwrap_or_default())
}

/// `GET /oauth-callback`. The extension sends `callbackUri` unencoded, so its own `code` and `state` often
/// arrive as top-level parameters; both places are read.
pub async fn oauth_callback(state: &AppState, query: &QueryParams) -> Result<Response, ApiError> {
    let callback_uri = query.non_empty("callbackUri").ok_or_else(|| ApiError::bad_request("Missing callbackUri"))?;
    let inner = callback_params(callback_uri);
    let platform = inner
        .non_empty("state")
        .and_then(platform_from_state)
        .or_else(|| query.non_empty("state").and_then(platform_from_state))
        .ok_or_else(|| ApiError::bad_request("Missing platform name"))?;
    let entry = platform_entry(state, &platform)?;
    let connector = &entry.connector;
    if connector.auth_type() != AuthType::OAuth {
        return Err(ApiError::bad_request(format!("{} does not use OAuth.", entry.display_name)));
    }
    let code = inner.non_empty("code").or_else(|| query.non_empty("code"));
    let code = code.ok_or_else(|| ApiError::bad_request("Missing code"))?.to_owned();
    let hostname = query.non_empty("hostname").map(str::to_owned);
    let token_url = query.non_empty("tokenUrl").map(str::to_owned);
    let oauth_request = OAuthInfoRequest { hostname: hostname.clone(), token_url: token_url.clone() };
    let oauth_info = match connector.oauth_info(&oauth_request) {
        Ok(info) => info,
        Err(error) => {
            let message = error.to_return_message(Operation::GetOauthInfo, &entry.display_name);
            tracing::warn!(connector = connector.name(), %error, "OAuth settings are incomplete.");
            return Ok(Json(json!({"returnMessage": message})).into_response());
        }
    };
    let redirect_uri = if oauth_info.redirect_uri.is_empty() {
        callback_uri.split('?').next().unwrap_or_default().to_owned()
    } else {
        oauth_info.redirect_uri.clone()
    };
    let tokens = match oauth::exchange_code(&entry.http, &oauth_info, &code, &redirect_uri).await {
        Ok(tokens) => tokens,
        Err(error) => {
            let reason = match &error {
                GrantError::InvalidGrant => "the authorization code is invalid or expired".to_owned(),
                GrantError::Failed(error) => crate::telemetry::redact_for_log(&error.to_string()),
            };
            tracing::warn!(connector = connector.name(), error = %reason, "OAuth code exchange failed.");
            let message = ReturnMessage::warning(
                format!(
                    "Failed to connect to {}: the authorization was not accepted. Please try again.",
                    entry.display_name
                ),
                5000,
            );
            return Ok(Json(json!({"returnMessage": message})).into_response());
        }
    };
    let mut additional_info: Map<String, Value> = Map::new();
    for (key, value) in query.pairs() {
        if !matches!(key.as_str(), "callbackUri" | "code" | "state" | "jwtToken") {
            additional_info.entry(key.clone()).or_insert_with(|| Value::String(value.clone()));
        }
    }
    let hostname = hostname.or_else(|| oauth_info.hostname.clone()).unwrap_or_default();
    let request = UserInfoRequest {
        auth_header: callbridge_core::auth::bearer(&tokens.access_token),
        hostname: hostname.clone(),
        api_key: None,
        additional_info,
        token_response: Some(Value::Object(tokens.raw.clone())),
    };
    let info = match crm_call(connector.name(), Operation::GetUserInfo, connector.user_info(request)).await {
        Ok(info) if !info.user.id.is_empty() => info,
        Ok(info) => {
            let message =
                info.return_message.unwrap_or_else(|| ReturnMessage::warning("Could not load user information", 5000));
            return Ok(Json(json!({"returnMessage": message})).into_response());
        }
        Err(error) => {
            let message = error.to_return_message(Operation::GetUserInfo, &entry.display_name);
            return Ok(Json(json!({"returnMessage": message})).into_response());
        }
    };
    let mut stored_info = Map::new();
    if let Some(token_url) = token_url {
        stored_info.insert("tokenUrl".to_owned(), Value::String(token_url));
    }
    let credentials = NewCredentials {
        hostname: info.user.overriding_hostname.clone().or(oauth_info.hostname.clone()).unwrap_or(hostname),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_expiry: tokens.expires_at,
        rc_account_id: query.non_empty("rcAccountId").map(str::to_owned),
        hashed_rc_extension_id: None,
        additional_info: stored_info,
    };
    let user = match save_user(state, entry, &info.user, credentials).await {
        Ok(user) => user,
        Err(error) => return Ok(database_failure(&error)),
    };
    tracing::info!(connector = connector.name(), "User connected with OAuth.");
    login_answer(state, &user, &info.user.name, info.return_message).await
}

/// `POST /unAuthorize`: revokes at the CRM where it can, then blanks the stored tokens whatever the CRM said and
/// ends the session the request came with (every session of the user with `all_sessions`). Answers with the return
/// message itself (not wrapped), as App Connect does.
pub async fn unauthorize(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    all_sessions: bool,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let connector = &entry.connector;
    let user = session.user_on(&state.store, connector.name()).map_err(ApiError::database)?;
    let Some(user) = user else {
        return Err(ApiError::bad_request("User not found"));
    };
    let user_id = user.id.clone();
    let mut message = None;
    if !user.access_token.is_empty() {
        match context_for(state, entry, user, facts).await {
            Ok(ctx) => match crm_call(connector.name(), Operation::Unauthorize, connector.unauthorize(&ctx)).await {
                Ok(done) => message = done.return_message,
                Err(error) => message = Some(error.to_return_message(Operation::Unauthorize, &entry.display_name)),
            },
            // A revoked session has nothing left to revoke at the CRM.
            Err(ContextError::Revoked) => {}
            Err(error) => tracing::warn!(%error, "Logout could not reach the CRM; clearing the tokens anyway."),
        }
    }
    state.store.clear_tokens(&user_id).await.map_err(ApiError::database)?;
    let ended = state
        .store
        .end_sessions(&user_id, session.claims.sid.as_deref(), all_sessions)
        .await
        .map_err(ApiError::database)?;
    tracing::info!(connector = connector.name(), sessions_ended = ended, "User logged out.");
    let message =
        message.unwrap_or_else(|| ReturnMessage::success(format!("Logged out of {}", entry.display_name), 2000));
    Ok(Json(message).into_response())
}

/// `GET /authValidation`: refreshes the token if needed and asks the CRM who the user is.
pub async fn auth_validation(state: &AppState, session: &Session, facts: &RequestFacts) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let connector = &entry.connector;
    let user = match session.user_on(&state.store, connector.name()) {
        Ok(Some(user)) if !user.access_token.is_empty() => user,
        Ok(_) => return Ok(warning("User not found", 5000)),
        Err(error) => return Ok(database_failure(&error)),
    };
    let ctx = match context_for(state, entry, user, facts).await {
        Ok(ctx) => ctx,
        Err(ContextError::Revoked) => return Ok(revoked()),
        Err(error) => return Ok(context_failure(&error, Operation::GetUserInfo, entry)),
    };
    let request = UserInfoRequest {
        auth_header: ctx.auth_header.clone(),
        hostname: ctx.user.hostname.clone(),
        api_key: (connector.auth_type() == AuthType::ApiKey).then(|| ctx.user.access_token.clone()),
        additional_info: ctx.user.platform_additional_info.clone(),
        token_response: None,
    };
    match crm_call(connector.name(), Operation::GetUserInfo, connector.user_info(request)).await {
        Ok(_) => Ok(Reply::new(true).into_response()),
        Err(error) => Ok(connector_failure(&error, Operation::GetUserInfo, entry)),
    }
}
