//! `/user/settings`, `/user/preloadSettings` and `/hostname`.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use callbridge_core::UserSettings;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::routes::RouteResult;
use crate::services::admin::{merge_settings, session_user};
use crate::session::Session;
use crate::state::AppState;
use crate::store::SettingsChange;

/// The body of `POST /user/settings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsBody {
    #[serde(default)]
    pub user_settings: Option<Map<String, Value>>,
    #[serde(default)]
    pub setting_keys_to_remove: Option<Vec<String>>,
}

/// The account's admin settings for a hashed RingCentral account id, if any.
async fn admin_settings(state: &AppState, hashed_account_id: &str) -> Result<Option<UserSettings>, ApiError> {
    if hashed_account_id.len() > 128 {
        return Err(ApiError::bad_request("Invalid rcAccountId."));
    }
    let config = state.store.admin_config(hashed_account_id).await.map_err(ApiError::database)?;
    Ok(config.map(|it| it.user_settings))
}

/// `GET /hostname`: the user's CRM hostname as plain text.
#[utoipa::path(get, path = "/hostname", operation_id = "hostname", tag = "user", security((), ("bearer" = []), ("jwtToken" = [])),
    responses((status = 200, description = "The CRM hostname.", body = String, content_type = "text/plain")))]
pub async fn hostname(State(state): State<AppState>, session: Session) -> RouteResult {
    Ok(session_user(&state, &session)?.hostname.into_response())
}

/// `GET /user/preloadSettings?rcAccountId=<hashed>`: the account's admin settings before any CRM login.
#[utoipa::path(get, path = "/user/preloadSettings", operation_id = "preloadSettings", tag = "user",
    params(
        ("rcAccountId" = Option<String>, Query, description = "The hashed RingCentral account id."),
        ("rcAccessToken" = Option<String>, Query, description = "A RingCentral access token, instead of `rcAccountId`."),
    ),
    responses((status = 200, description = "`userSettings` of the account.", body = Object)))]
pub async fn preload_settings(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    query: QueryParams,
) -> RouteResult {
    // A RingCentral token names the account verifiably; else the extension's hashed `rcAccountId`.
    let verified = match (crate::ringcentral::request_token(&headers, &query), state.ringcentral.as_ref()) {
        (Some(token), Some(ringcentral)) => ringcentral.caller(&token).await.ok(),
        _ => None,
    };
    let hashed_account_id = match verified {
        Some(caller) => crate::hashing::hash_id(&caller.account_id, state.hash_key.expose()),
        None => {
            query.non_empty("rcAccountId").ok_or_else(|| ApiError::bad_request("Cannot find rc user login"))?.to_owned()
        }
    };
    let settings = admin_settings(&state, &hashed_account_id).await?.unwrap_or_default();
    Ok(Json(json!({ "userSettings": settings })).into_response())
}

/// `GET /user/settings`: the user's settings, merged with the account's admin settings when `rcAccountId` (hashed)
/// is given.
#[utoipa::path(get, path = "/user/settings", operation_id = "getUserSettings", tag = "user", security((), ("bearer" = []), ("jwtToken" = [])),
    params(("rcAccountId" = Option<String>, Query, description = "The hashed RingCentral account id, to merge its admin settings.")),
    responses((status = 200, description = "Setting name to setting.", body = Object)))]
pub async fn get_settings(State(state): State<AppState>, session: Session, query: QueryParams) -> RouteResult {
    let user = session_user(&state, &session)?;
    let admin = match query.non_empty("rcAccountId") {
        Some(hashed_account_id) => admin_settings(&state, hashed_account_id).await?,
        None => None,
    };
    let settings = match admin {
        Some(admin) => merge_settings(&user.user_settings.0, &admin.0),
        None => user.user_settings.0,
    };
    Ok(Json(Value::Object(settings)).into_response())
}

/// `POST /user/settings`: replaces the submitted keys, removes `settingKeysToRemove`, answers the whole map.
#[utoipa::path(post, path = "/user/settings", operation_id = "updateUserSettings", tag = "user", security((), ("bearer" = []), ("jwtToken" = [])), request_body = SettingsBody,
    responses((status = 200, description = "`userSettings`: all of the user's settings.", body = Object)))]
pub async fn post_settings(
    State(state): State<AppState>,
    session: Session,
    JsonBody(body): JsonBody<SettingsBody>,
) -> RouteResult {
    session.platform()?;
    let user = session_user(&state, &session)?;
    // Merged inside one transaction, so concurrent updates of different keys all survive.
    let change = |settings: &mut Map<String, Value>| {
        for (key, value) in body.user_settings.unwrap_or_default() {
            settings.insert(key, value);
        }
        for key in body.setting_keys_to_remove.unwrap_or_default() {
            settings.remove(&key);
        }
        crate::limits::check_settings(settings)
    };
    match state.store.change_user_settings(&user.id, change).await.map_err(ApiError::database)? {
        SettingsChange::Changed(settings) => Ok(Json(json!({ "userSettings": settings })).into_response()),
        SettingsChange::Refused(error) => Err(error),
        SettingsChange::UserNotFound => Err(ApiError::bad_request("User not found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_entries_win_unless_customizable_and_removed_ones_vanish() {
        let user = json!({
            "autoLogCall": {"value": true},
            "logDateFormat": {"value": "MM/DD/YYYY HH:mm:ss", "defaultValue": "x"},
            "gone": {"value": 1},
            "own": {"value": "mine"},
        });
        let admin = json!({
            "autoLogCall": {"value": false, "customizable": false},
            "logDateFormat": {"value": "YYYY", "customizable": true},
            "gone": {"isRemoved": true},
            "adminOnly": {"value": 3, "customizable": false},
        });
        let merged = merge_settings(user.as_object().unwrap(), admin.as_object().unwrap());
        assert_eq!(
            Value::Object(merged),
            json!({
                "autoLogCall": {"value": false, "customizable": false},
                "logDateFormat": {"customizable": true, "value": "MM/DD/YYYY HH:mm:ss", "defaultValue": "x"},
                "own": {"customizable": true, "value": "mine"},
                "adminOnly": {"value": 3, "customizable": false},
            })
        );
    }
}
