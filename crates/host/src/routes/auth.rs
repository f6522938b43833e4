//! `/oauth-callback`, `/apiKeyLogin`, `/unAuthorize` and `/authValidation`.

use axum::extract::State;
use axum::http::HeaderMap;

use crate::extract::{JsonBody, QueryParams};
use crate::routes::{RouteResult, request_facts};
use crate::services::login::{self, ApiKeyLoginBody};
use crate::session::Session;
use crate::state::AppState;

pub async fn oauth_callback(State(state): State<AppState>, query: QueryParams) -> RouteResult {
    login::oauth_callback(&state, &query).await
}

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
    login::api_key_login(&state, hashed_extension_id, body).await
}

/// `POST /unAuthorize[?allSessions=true]`: logs out; `allSessions` ends the user's other sessions too.
pub async fn unauthorize(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let all_sessions = matches!(query.get("allSessions"), Some("true" | "1"));
    login::unauthorize(&state, &session, &request_facts(&headers), all_sessions).await
}

pub async fn auth_validation(State(state): State<AppState>, session: Session, headers: HeaderMap) -> RouteResult {
    login::auth_validation(&state, &session, &request_facts(&headers)).await
}
