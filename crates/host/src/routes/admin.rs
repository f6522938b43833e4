//! The admin plane's routes: `/admin/settings`, `/admin/userMapping`, `/admin/reinitializeUserMapping`,
//! `/admin/serverLoggingSettings`, and `/accountData` (the options admin settings offer).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use callbridge_core::{Operation, ReturnMessage};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::ringcentral::request_token;
use crate::routes::{RouteResult, request_facts};
use crate::services::admin::{self, VerifiedAdmin};
use crate::services::auth_context::context_for;
use crate::services::reply::{Reply, context_failure, platform_entry, warning};
use crate::session::Session;
use crate::state::AppState;

/// The body of `POST /admin/settings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminSettingsBody {
    /// `userSettings` (`{<settingId>: {value, customizable}}`) and `userMappings` (`[{crmUserId, rcExtensionId}]`)
    /// are stored; every other field is ignored.
    #[schema(value_type = Object)]
    pub admin_settings: Option<Value>,
}

/// The body of `POST /admin/userMapping` and `POST /admin/reinitializeUserMapping`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserMappingBody {
    /// RingCentral company-directory records; when absent the account's extensions are read from RingCentral.
    #[schema(value_type = Option<Vec<Object>>)]
    pub rc_extension_list: Option<Value>,
}

/// The body of `POST /admin/serverLoggingSettings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerLoggingSettingsBody {
    /// `{<additional field const>: value}`.
    #[schema(value_type = Object)]
    pub additional_field_values: Option<Value>,
}

/// The session's user as a RingCentral-confirmed admin, or the 403 (or RingCentral outage) answer.
async fn admin_of(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    query: &QueryParams,
) -> Result<Result<VerifiedAdmin, axum::response::Response>, ApiError> {
    admin::verify_admin(state, session, request_token(headers, query)).await
}

/// `GET /admin/settings?rcAccessToken=`: the account's admin settings and user mappings, for admins only.
#[utoipa::path(get, path = "/admin/settings", operation_id = "getAdminSettings", tag = "admin", security(("bearer" = []), ("jwtToken" = [])),
    params(("rcAccessToken" = Option<String>, Query, description = "The caller's RingCentral access token (or header `X-RC-Access-Token`).")),
    responses(
        (status = 200, description = "`userSettings` and `userMappings` of the account.", body = Object),
        (status = 403, description = "Not an admin (or RingCentral could not confirm it).", body = String, content_type = "text/plain"),
    ))]
pub async fn get_settings(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let admin = match admin_of(&state, &session, &headers, &query).await? {
        Ok(admin) => admin,
        Err(refused) => return Ok(refused),
    };
    Ok(Json(admin::settings(&state, &admin).await?).into_response())
}

/// `POST /admin/settings?rcAccessToken=`: saves the account's settings and user mappings.
#[utoipa::path(post, path = "/admin/settings", operation_id = "setAdminSettings", tag = "admin", security(("bearer" = []), ("jwtToken" = [])),
    params(("rcAccessToken" = Option<String>, Query, description = "The caller's RingCentral access token (or header `X-RC-Access-Token`).")),
    request_body = AdminSettingsBody,
    responses(
        (status = 200, description = "Saved.", body = String, content_type = "text/plain"),
        (status = 403, description = "Not an admin.", body = String, content_type = "text/plain"),
    ))]
pub async fn post_settings(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
    JsonBody(body): JsonBody<AdminSettingsBody>,
) -> RouteResult {
    let admin = match admin_of(&state, &session, &headers, &query).await? {
        Ok(admin) => admin,
        Err(refused) => return Ok(refused),
    };
    admin::save_settings(&state, &admin, body.admin_settings.as_ref()).await?;
    Ok("Admin settings updated".into_response())
}

/// `POST /admin/userMapping?rcAccessToken=`: the CRM's users with the RingCentral users mapped to them.
#[utoipa::path(post, path = "/admin/userMapping", operation_id = "userMapping", tag = "admin", security(("bearer" = []), ("jwtToken" = [])),
    params(("rcAccessToken" = Option<String>, Query, description = "The caller's RingCentral access token.")),
    request_body = UserMappingBody,
    responses(
        (status = 200, description = "`[{crmUser, rcUser}]`, or `{successful: false, returnMessage}`.", body = serde_json::Value),
        (status = 403, description = "Not an admin.", body = String, content_type = "text/plain"),
    ))]
pub async fn user_mapping(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
    JsonBody(body): JsonBody<UserMappingBody>,
) -> RouteResult {
    mapping(state, session, headers, query, body, false).await
}

/// `POST /admin/reinitializeUserMapping?rcAccessToken=`: as `/admin/userMapping`, matching every user afresh.
#[utoipa::path(post, path = "/admin/reinitializeUserMapping", operation_id = "reinitializeUserMapping", tag = "admin", security(("bearer" = []), ("jwtToken" = [])),
    params(("rcAccessToken" = Option<String>, Query, description = "The caller's RingCentral access token.")),
    request_body = UserMappingBody,
    responses(
        (status = 200, description = "`[{crmUser, rcUser}]`, or `{successful: false, returnMessage}`.", body = serde_json::Value),
        (status = 403, description = "Not an admin.", body = String, content_type = "text/plain"),
    ))]
pub async fn reinitialize_user_mapping(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
    JsonBody(body): JsonBody<UserMappingBody>,
) -> RouteResult {
    mapping(state, session, headers, query, body, true).await
}

async fn mapping(
    state: AppState,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
    body: UserMappingBody,
    reinitialize: bool,
) -> RouteResult {
    let admin = match admin_of(&state, &session, &headers, &query).await? {
        Ok(admin) => admin,
        Err(refused) => return Ok(refused),
    };
    let list = body.rc_extension_list.as_ref();
    admin::user_mapping(&state, admin, &request_facts(&headers), list, reinitialize).await
}

/// The account of a server-logging-settings request: the RingCentral token's (when given) or `rcAccountId`
/// (hashed, as the extension sends it) for a user RingCentral confirmed as its admin.
async fn logging_admin(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    query: &QueryParams,
) -> Result<Result<(callbridge_core::User, String), axum::response::Response>, ApiError> {
    if request_token(headers, query).is_some() {
        return Ok(admin_of(state, session, headers, query).await?.map(|it| (it.user, it.hashed_account_id)));
    }
    let account =
        query.non_empty("rcAccountId").map(str::to_owned).or_else(|| request_facts(headers).hashed_account_id);
    let confirmed = admin::confirmed_admin(state, session, account.as_deref()).await?;
    Ok(confirmed.map(|user| (user, account.unwrap_or_default())))
}

/// `GET /admin/serverLoggingSettings?rcAccountId=`: the server-side logging service's field values.
#[utoipa::path(get, path = "/admin/serverLoggingSettings", operation_id = "getServerLoggingSettings", tag = "admin", security(("bearer" = []), ("jwtToken" = [])),
    params(("rcAccountId" = Option<String>, Query, description = "The hashed RingCentral account id.")),
    responses(
        (status = 200, description = "`{<field const>: value}`.", body = Object),
        (status = 403, description = "Not a confirmed admin of the account.", body = String, content_type = "text/plain"),
    ))]
pub async fn get_server_logging_settings(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let (_, account) = match logging_admin(&state, &session, &headers, &query).await? {
        Ok(admin) => admin,
        Err(refused) => return Ok(refused),
    };
    Ok(Json(admin::server_logging_settings(&state, &account).await?).into_response())
}

/// `POST /admin/serverLoggingSettings?rcAccountId=`: saves the server-side logging service's field values.
#[utoipa::path(post, path = "/admin/serverLoggingSettings", operation_id = "setServerLoggingSettings", tag = "admin", security(("bearer" = []), ("jwtToken" = [])),
    params(("rcAccountId" = Option<String>, Query, description = "The hashed RingCentral account id.")),
    request_body = ServerLoggingSettingsBody,
    responses(
        (status = 200, description = "`successful` and `returnMessage`.", body = Object),
        (status = 403, description = "Not a confirmed admin of the account.", body = String, content_type = "text/plain"),
    ))]
pub async fn post_server_logging_settings(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
    JsonBody(body): JsonBody<ServerLoggingSettingsBody>,
) -> RouteResult {
    let (user, account) = match logging_admin(&state, &session, &headers, &query).await? {
        Ok(admin) => admin,
        Err(refused) => return Ok(refused),
    };
    admin::save_server_logging_settings(&state, &user, &account, body.additional_field_values.as_ref()).await
}

/// At most this many keys are read from one `/accountData` request.
const MAX_ACCOUNT_DATA_KEYS: usize = 16;

/// `GET /accountData?keys=a,b&forceRefresh=true`: account-wide data the connector offers under each key.
#[utoipa::path(get, path = "/accountData", operation_id = "accountData", tag = "admin", security(("bearer" = []), ("jwtToken" = [])),
    params(
        ("keys" = String, Query, description = "Comma-separated data keys, e.g. `activityTypes`."),
        ("forceRefresh" = Option<bool>, Query),
    ),
    responses(
        (status = 200, description = "`successful` and `data` by key, or `successful: false` with a message.", body = Object),
        (status = 400, description = "No keys (text), or keys the connector has no data under (`successful: false`).",
            content((String = "text/plain"), (Object = "application/json"))),
    ))]
pub async fn account_data(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let keys: Vec<&str> =
        query.non_empty("keys").unwrap_or_default().split(',').map(str::trim).filter(|it| !it.is_empty()).collect();
    if keys.is_empty() {
        return Err(ApiError::bad_request("Missing keys"));
    }
    if keys.len() > MAX_ACCOUNT_DATA_KEYS || keys.iter().any(|it| it.len() > 128) {
        return Err(ApiError::bad_request("Too many or too long keys"));
    }
    let entry = platform_entry(&state, session.platform()?)?;
    let user = session.user(&state.store).map_err(ApiError::database)?;
    let ctx = match context_for(&state, entry, user, &request_facts(&headers)).await {
        Ok(ctx) => ctx,
        Err(error) => return Ok(context_failure(&error, Operation::GetUserList, entry)),
    };
    let mut data = Map::new();
    let mut unknown = Vec::new();
    for key in keys {
        match entry.connector.account_data(&ctx, key, query.flag("forceRefresh")).await {
            Ok(Some(value)) => {
                data.insert(key.to_owned(), value);
            }
            Ok(None) => unknown.push(key),
            Err(error) => {
                tracing::warn!(%error, key, "Reading account data failed.");
                return Ok(warning("Error getting account data", 5000));
            }
        }
    }
    if !unknown.is_empty() {
        let message = ReturnMessage::warning(format!("Unknown keys: {}", unknown.join(", ")), 3000);
        let reply = Reply::new(false).message(Some(message));
        return Ok((axum::http::StatusCode::BAD_REQUEST, reply).into_response());
    }
    Ok(Reply::new(true).field("data", Value::Object(data)).into_response())
}
