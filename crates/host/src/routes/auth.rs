//! `/oauth-callback`, `/apiKeyLogin`, `/unAuthorize` and `/authValidation`.

use axum::extract::State;
use axum::http::HeaderMap;

use crate::extract::{JsonBody, QueryParams};
use crate::routes::{RouteResult, request_facts};
use crate::services::login::{self, ApiKeyLoginBody};
use crate::session::Session;
use crate::state::AppState;

/// `GET /oauth-callback`: finishes an OAuth login with the CRM's authorization code.
#[utoipa::path(get, path = "/oauth-callback", operation_id = "oauthCallback", tag = "auth",
    params(
        ("callbackUri" = Option<String>, Query, description = "The redirect the CRM answered, holding `code`."),
        ("state" = Option<String>, Query, description = "`platform=<name>` and the CRM's extra values."),
        ("hostname" = Option<String>, Query, description = "The CRM's hostname, where it has one per customer."),
    ),
    responses((status = 200, description = "The session token, or `successful: false` with a message.", body = Object)))]
pub async fn oauth_callback(State(state): State<AppState>, query: QueryParams) -> RouteResult {
    login::oauth_callback(&state, &query).await
}

/// `POST /apiKeyLogin`: logs in to an API-key CRM.
#[utoipa::path(post, path = "/apiKeyLogin", operation_id = "apiKeyLogin", tag = "auth", request_body = ApiKeyLoginBody,
    responses((status = 200, description = "The session token, or `successful: false` with a message.", body = Object)))]
pub async fn api_key_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ApiKeyLoginBody>,
) -> RouteResult {
    let hashed_extension_id = headers
        .get("rc-extension-id")
        .and_then(|it| it.to_str().ok())
        .map(str::trim)
        .filter(|it| !it.is_empty() && it.len() <= 128)
        .map(str::to_owned);
    let rc_token = crate::ringcentral::request_token(&headers, &QueryParams::default());
    login::api_key_login(&state, hashed_extension_id, rc_token, body).await
}

/// `POST /unAuthorize[?allSessions=true]`: logs out; `allSessions` ends the user's other sessions too.
#[utoipa::path(post, path = "/unAuthorize", operation_id = "unAuthorize", tag = "auth", security((), ("bearer" = []), ("jwtToken" = [])),
    params(("allSessions" = Option<bool>, Query, description = "End the user's other sessions too.")),
    responses((status = 200, description = "Whether the logout succeeded, with a message.", body = Object)))]
pub async fn unauthorize(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let all_sessions = matches!(query.get("allSessions"), Some("true" | "1"));
    login::unauthorize(&state, &session, &request_facts(&headers), all_sessions).await
}

/// `GET /authValidation`: whether the CRM still accepts the session's credentials.
#[utoipa::path(get, path = "/authValidation", operation_id = "authValidation", tag = "auth", security((), ("bearer" = []), ("jwtToken" = [])),
    responses((status = 200, description = "Whether the CRM session is valid, with a message.", body = Object)))]
pub async fn auth_validation(State(state): State<AppState>, session: Session, headers: HeaderMap) -> RouteResult {
    login::auth_validation(&state, &session, &request_facts(&headers)).await
}
