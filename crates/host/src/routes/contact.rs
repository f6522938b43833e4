//! `/contact` and `/custom/contact/search`.

use axum::extract::State;
use axum::http::HeaderMap;
use callbridge_core::phone::restore_plus;

use crate::error::ApiError;
use crate::extract::{JsonBody, MAX_QUERY_TEXT_LEN, QueryParams};
use crate::routes::{RouteResult, request_facts};
use crate::services::contact::{self, CreateContactBody, FindContactQuery};
use crate::session::Session;
use crate::state::AppState;

/// `GET /contact`: the CRM contacts with a phone number.
#[utoipa::path(get, path = "/contact", operation_id = "findContact", tag = "contacts", security((), ("bearer" = []), ("jwtToken" = [])),
    params(
        ("phoneNumber" = String, Query, description = "E.164, its `+` may arrive as a space."),
        ("overridingFormat" = Option<String>, Query, description = "Other formats to search, comma-separated."),
        ("isExtension" = Option<bool>, Query),
        ("isForceRefreshAccountData" = Option<bool>, Query),
    ),
    responses((status = 200, description = "`contact` list, or `successful: false` with a message.", body = Object)))]
pub async fn find(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let phone_number =
        query.get("phoneNumber").map(|it| restore_plus(it).trim().to_owned()).filter(|it| !it.is_empty());
    let phone_number = phone_number.ok_or_else(|| ApiError::bad_request("Missing phoneNumber."))?;
    if phone_number.len() > MAX_QUERY_TEXT_LEN {
        return Err(ApiError::bad_request("Invalid phoneNumber: too long."));
    }
    let overriding_format = query.get("overridingFormat").map(str::to_owned).filter(|it| !it.is_empty());
    if overriding_format.as_ref().is_some_and(|it| it.len() > MAX_QUERY_TEXT_LEN) {
        return Err(ApiError::bad_request("Invalid overridingFormat: too long."));
    }
    let query = FindContactQuery {
        phone_number,
        overriding_format,
        is_extension: query.flag("isExtension"),
        force_refresh: query.flag("isForceRefreshAccountData"),
    };
    contact::find(&state, &session, &request_facts(&headers), query).await
}

/// `POST /contact`: creates a CRM contact.
#[utoipa::path(post, path = "/contact", operation_id = "createContact", tag = "contacts", security((), ("bearer" = []), ("jwtToken" = [])), request_body = CreateContactBody,
    responses((status = 200, description = "The new `contact`, or `successful: false` with a message.", body = Object)))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateContactBody>,
) -> RouteResult {
    contact::create(&state, &session, &request_facts(&headers), body).await
}

/// The extension sends `name` unencoded (raw spaces and `&`), so it is read from the raw query.
#[utoipa::path(get, path = "/custom/contact/search", operation_id = "findContactWithName", tag = "contacts", security((), ("bearer" = []), ("jwtToken" = [])),
    params(("name" = String, Query, description = "The name to search for.")),
    responses((status = 200, description = "`contact` list, or `successful: false` with a message.", body = Object)))]
pub async fn search(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let name = query.raw_value("name", &["jwtToken"]).unwrap_or_default().trim().to_owned();
    if name.len() > MAX_QUERY_TEXT_LEN {
        return Err(ApiError::bad_request("Invalid name: too long."));
    }
    contact::search(&state, &session, &request_facts(&headers), name).await
}
