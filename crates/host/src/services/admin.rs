//! The admin plane: who is an admin (RingCentral says so, for a signed-in user), the account's settings, user
//! mappings and server-side logging settings, the settings admins enforce on every user's logs, and the CRM user a
//! log is assigned to.
//!
//! Fixed on purpose against App Connect: only known fields are stored (it spreads the request into its row, so an
//! admin could set another account's id or its tokens), nothing secret is ever answered, and the routes without a
//! RingCentral token (`/admin/serverLoggingSettings`) still require an admin: the session's user must have been
//! confirmed as the account's admin by RingCentral recently (the extension asks `GET /admin/settings` at start-up).

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callbridge_core::values::{id_text, is_truthy};
use callbridge_core::{AdditionalSubmission, CrmUser, Operation, Secret, User, UserSettings};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ResponseError};
use crate::hashing::hash_id;
use crate::ringcentral::{Extension, RingCentralError};
use crate::services::auth_context::{RequestFacts, context_for};
use crate::services::reply::{connector_failure, context_failure, database_failure, platform_entry, warning};
use crate::session::Session;
use crate::state::AppState;
use crate::store::{AdminConfig, StoreError};

/// How long RingCentral's word that a user is an account's admin is trusted by routes that get no RingCentral token.
pub const ADMIN_CONFIRMATION_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The text App Connect answers a non-admin with (HTTP 403).
pub const NOT_ADMIN: &str = "Admin validation failed";
/// At most this many user mappings are kept for an account.
const MAX_MAPPINGS: usize = 10_000;

/// A signed-in user whom RingCentral confirmed as an admin of their account.
#[derive(Clone, Debug)]
pub struct VerifiedAdmin {
    pub user: User,
    /// The account, hashed as App Connect keys it.
    pub hashed_account_id: String,
    /// The RingCentral token that proved it, for calls on the admin's behalf (the account's extensions).
    pub rc_token: Secret,
}

/// The 403 every admin route answers a non-admin (the extension reads any non-2xx as "not an admin").
pub fn not_admin() -> Response {
    let mut response = (StatusCode::FORBIDDEN, NOT_ADMIN).into_response();
    response.extensions_mut().insert(ResponseError("not an admin".to_owned()));
    response
}

/// The session's user; `User not found` (400 text, as App Connect answers) when there is none on the session's
/// platform.
pub fn session_user(state: &AppState, session: &Session) -> Result<User, ApiError> {
    let user = session.user(&state.store).map_err(ApiError::database)?;
    if session.claims.platform.as_deref().is_some_and(|platform| platform != user.platform) {
        return Err(ApiError::bad_request("User not found"));
    }
    Ok(user)
}

/// Checks the session and the RingCentral token: `Ok(Err(403))` unless RingCentral says the token's user is an
/// admin. A confirmed admin is remembered for [`ADMIN_CONFIRMATION_TTL`].
pub async fn verify_admin(
    state: &AppState,
    session: &Session,
    rc_token: Option<Secret>,
) -> Result<Result<VerifiedAdmin, Response>, ApiError> {
    let user = session_user(state, session)?;
    let (Some(rc_token), Some(ringcentral)) = (rc_token, state.ringcentral.as_ref()) else {
        return Ok(Err(not_admin()));
    };
    let caller = match ringcentral.caller(&rc_token).await {
        Ok(caller) => caller,
        Err(RingCentralError::Refused) => return Ok(Err(not_admin())),
        // Unconfirmed is not an admin: the extension reads any refusal as "not an admin" and asks again at its next
        // start, so an outage costs the admin page, never a 5xx.
        Err(error @ RingCentralError::Unavailable(_)) => {
            tracing::warn!(%error, "Checking an admin with RingCentral failed.");
            return Ok(Err(not_admin()));
        }
    };
    if !caller.is_admin {
        return Ok(Err(not_admin()));
    }
    let hashed_account_id = hash_id(&caller.account_id, state.hash_key.expose());
    state.store.record_account_admin(&hashed_account_id, &user.id).await.map_err(ApiError::database)?;
    Ok(Ok(VerifiedAdmin { user, hashed_account_id, rc_token }))
}

/// For routes without a RingCentral token: `Ok(Err(403))` unless the session's user was recently confirmed as an
/// admin of `hashed_account_id`.
pub async fn confirmed_admin(
    state: &AppState,
    session: &Session,
    hashed_account_id: Option<&str>,
) -> Result<Result<User, Response>, ApiError> {
    let user = session_user(state, session)?;
    let Some(account) = hashed_account_id.filter(|it| !it.is_empty() && it.len() <= 128) else {
        return Ok(Err(not_admin()));
    };
    let confirmed =
        state.store.is_account_admin(account, &user.id, ADMIN_CONFIRMATION_TTL).await.map_err(ApiError::database)?;
    Ok(if confirmed { Ok(user) } else { Err(not_admin()) })
}

/// `GET /admin/settings`: the account's settings and user mappings; never a token.
pub async fn settings(state: &AppState, admin: &VerifiedAdmin) -> Result<Value, ApiError> {
    let config = state.store.admin_config(&admin.hashed_account_id).await.map_err(ApiError::database)?;
    let config = config.unwrap_or_default();
    Ok(json!({
        "userSettings": config.user_settings,
        "userMappings": mappings_array(&config.user_mappings),
    }))
}

/// `POST /admin/settings` with `{adminSettings}`: stores `userSettings` and `userMappings` when present (each
/// replaces what was stored) and ignores every other field.
pub async fn save_settings(
    state: &AppState,
    admin: &VerifiedAdmin,
    admin_settings: Option<&Value>,
) -> Result<(), ApiError> {
    let submitted =
        admin_settings.and_then(Value::as_object).ok_or_else(|| ApiError::bad_request("Missing adminSettings"))?;
    let user_settings = match submitted.get("userSettings") {
        None | Some(Value::Null) => None,
        Some(Value::Object(settings)) => {
            if let Some((key, _)) = settings.iter().find(|(_, value)| !value.is_object()) {
                return Err(ApiError::bad_request(format!("adminSettings.userSettings.{key} must be an object")));
            }
            crate::limits::check_settings(settings)?;
            Some(UserSettings(settings.clone()))
        }
        Some(_) => return Err(ApiError::bad_request("adminSettings.userSettings must be an object")),
    };
    let user_mappings = match submitted.get("userMappings") {
        None | Some(Value::Null) => None,
        Some(mappings) => Some(parse_mappings(mappings)?),
    };
    let stored = state.store.admin_config(&admin.hashed_account_id).await.map_err(ApiError::database)?;
    let stored = stored.unwrap_or_default();
    let config = AdminConfig {
        id: admin.hashed_account_id.clone(),
        user_settings: user_settings.unwrap_or(stored.user_settings),
        user_mappings: user_mappings.unwrap_or_else(|| mappings_array(&stored.user_mappings)),
        server_logging_settings: stored.server_logging_settings,
    };
    state.store.put_admin_config(&config).await.map_err(ApiError::database)
}

/// The stored mappings as an array (an absent or malformed value reads as none).
fn mappings_array(mappings: &Value) -> Value {
    match mappings {
        Value::Array(_) => mappings.clone(),
        _ => Value::Array(Vec::new()),
    }
}

/// `[{crmUserId, rcExtensionId}]` with ids as text and `rcExtensionId` a string or an array of strings; anything
/// else is refused whole, so a bad save changes nothing.
fn parse_mappings(mappings: &Value) -> Result<Value, ApiError> {
    let invalid = |why: &str| ApiError::bad_request(format!("adminSettings.userMappings: {why}"));
    let items = mappings.as_array().ok_or_else(|| invalid("must be an array"))?;
    if items.len() > MAX_MAPPINGS {
        return Err(invalid("too many mappings"));
    }
    let id = |value: &Value| match value {
        Value::String(_) | Value::Number(_) => Some(id_text(value)).filter(|it| !it.is_empty() && it.len() <= 256),
        _ => None,
    };
    let mut parsed = Vec::with_capacity(items.len());
    for item in items {
        let crm_user_id = item.get("crmUserId").and_then(id).ok_or_else(|| invalid("each needs a crmUserId"))?;
        let rc_extension_id = match item.get("rcExtensionId") {
            Some(Value::Array(ids)) => {
                let ids: Option<Vec<String>> = ids.iter().map(id).collect();
                json!(ids.ok_or_else(|| invalid("rcExtensionId must hold ids"))?)
            }
            Some(value) => json!(id(value).ok_or_else(|| invalid("rcExtensionId must be an id or a list of ids"))?),
            None => return Err(invalid("each needs an rcExtensionId")),
        };
        parsed.push(json!({ "crmUserId": crm_user_id, "rcExtensionId": rc_extension_id }));
    }
    Ok(Value::Array(parsed))
}

/// The CRM user the account's mappings give a RingCentral extension: `rcExtensionId` equal to it, or a list
/// containing it.
pub fn mapped_crm_user(mappings: &Value, rc_extension_id: &str) -> Option<String> {
    let items = mappings.as_array()?;
    items.iter().find_map(|item| {
        let matches = match item.get("rcExtensionId")? {
            Value::Array(ids) => ids.iter().any(|it| id_text(it) == rc_extension_id),
            value => id_text(value) == rc_extension_id,
        };
        matches.then(|| item.get("crmUserId").map(id_text)).flatten().filter(|it| !it.is_empty())
    })
}

/// The RingCentral extensions the mappings give a CRM user.
fn mapped_extensions(mappings: &Value, crm_user_id: &str) -> Vec<String> {
    let items = mappings.as_array().map(Vec::as_slice).unwrap_or_default();
    let item = items.iter().find(|it| it.get("crmUserId").map(id_text).as_deref() == Some(crm_user_id));
    match item.and_then(|it| it.get("rcExtensionId")) {
        Some(Value::Array(ids)) => ids.iter().map(id_text).collect(),
        Some(value) => vec![id_text(value)],
        None => Vec::new(),
    }
}

/// A directory record the extension sends in `rcExtensionList` (`id` or `extensionId`, names, email, number).
fn extension_from_directory(record: &Value) -> Option<Extension> {
    let text = |name: &str| record.get(name).map(id_text).filter(|it| !it.is_empty());
    let extension_id = text("extensionId").or_else(|| text("id"))?;
    let full_name = [text("firstName"), text("lastName")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = text("name").unwrap_or(full_name);
    Some(Extension { extension_id, name, email: text("email"), extension_number: text("extensionNumber") })
}

/// `POST /admin/userMapping` and `POST /admin/reinitializeUserMapping`: every CRM user with the RingCentral user
/// mapped to them. Stored mappings are kept (unless `reinitialize`); an unmapped CRM user is matched by email, then
/// by name, and the matches are stored. `rcUser` is one object (`{}` when unmapped), which is what the extension
/// reads (App Connect answers an array there, which the extension shows as unmapped).
pub async fn user_mapping(
    state: &AppState,
    admin: VerifiedAdmin,
    facts: &RequestFacts,
    rc_extension_list: Option<&Value>,
    reinitialize: bool,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, &admin.user.platform)?;
    let facts = RequestFacts { hashed_account_id: Some(admin.hashed_account_id.clone()), ..facts.clone() };
    let ctx = match context_for(state, entry, admin.user.clone(), &facts).await {
        Ok(ctx) => ctx,
        Err(error) => return Ok(context_failure(&error, Operation::GetUserList, entry)),
    };
    let crm_users = match entry.connector.user_list(&ctx).await {
        Ok(users) => users,
        Err(error) => return Ok(connector_failure(&error, Operation::GetUserList, entry)),
    };
    let listed: Vec<Extension> = rc_extension_list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(extension_from_directory)
        .collect();
    let extensions = if !listed.is_empty() {
        listed
    } else {
        let Some(ringcentral) = state.ringcentral.as_ref() else {
            return Err(ApiError::internal("no RingCentral client"));
        };
        match ringcentral.extensions(&admin.rc_token).await {
            Ok(extensions) => extensions,
            Err(error) => {
                tracing::warn!(%error, "Listing the account's RingCentral extensions failed.");
                return Ok(warning("RingCentral is not reachable right now. Please try again later.", 5000));
            }
        }
    };
    let stored = match state.store.admin_config(&admin.hashed_account_id).await {
        Ok(config) => config.map(|it| mappings_array(&it.user_mappings)).unwrap_or_else(|| json!([])),
        Err(error) => return Ok(database_failure(&error)),
    };
    let existing = if reinitialize { json!([]) } else { stored.clone() };
    let (answer, mappings) = map_users(&crm_users, &extensions, &existing);
    if mappings != stored
        && let Err(error) = state.store.put_user_mappings(&admin.hashed_account_id, &mappings).await
    {
        return Ok(database_failure(&error));
    }
    Ok(axum::Json(answer).into_response())
}

/// The answer rows and the mappings after matching: stored mappings first, then email, then name.
fn map_users(crm_users: &[CrmUser], extensions: &[Extension], existing: &Value) -> (Value, Value) {
    let same = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    };
    let mut mappings = existing.as_array().cloned().unwrap_or_default();
    let mut rows = Vec::with_capacity(crm_users.len());
    for crm_user in crm_users {
        let mapped = mapped_extensions(existing, &crm_user.id);
        let rc_user = match mapped.first() {
            Some(id) => Some(
                extensions
                    .iter()
                    .find(|it| &it.extension_id == id)
                    .cloned()
                    .unwrap_or_else(|| Extension { extension_id: id.clone(), ..Extension::default() }),
            ),
            None => {
                let found = extensions
                    .iter()
                    .find(|it| same(it.email.as_deref(), crm_user.email.as_deref()))
                    .or_else(|| extensions.iter().find(|it| same(Some(&it.name), Some(&crm_user.name))))
                    .cloned();
                if let Some(found) = &found {
                    mappings.push(json!({ "crmUserId": crm_user.id, "rcExtensionId": found.extension_id }));
                }
                found
            }
        };
        let rc_user = rc_user.map_or_else(|| json!({}), |it| json!(it));
        rows.push(json!({ "crmUser": crm_user, "rcUser": rc_user }));
    }
    (Value::Array(rows), Value::Array(mappings))
}

/// `GET /admin/serverLoggingSettings`: the stored additional field values.
pub async fn server_logging_settings(state: &AppState, hashed_account_id: &str) -> Result<Value, ApiError> {
    let config = state.store.admin_config(hashed_account_id).await.map_err(ApiError::database)?;
    Ok(Value::Object(config.map(|it| it.server_logging_settings).unwrap_or_default()))
}

/// `POST /admin/serverLoggingSettings` with `{additionalFieldValues}`: keeps the values of the fields the
/// connector's manifest declares for server-side logging (every value when it declares none), drops the rest.
pub async fn save_server_logging_settings(
    state: &AppState,
    user: &User,
    hashed_account_id: &str,
    additional_field_values: Option<&Value>,
) -> Result<Response, ApiError> {
    let Some(values) = additional_field_values.and_then(Value::as_object) else {
        return Err(ApiError::bad_request("Missing additionalFieldValues"));
    };
    let entry = platform_entry(state, &user.platform)?;
    let declared: Vec<String> = entry
        .connector
        .manifest()
        .server_side_logging
        .and_then(|it| it.extra.get("additionalFields").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|field| field.get("const").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let kept: Map<String, Value> = values
        .iter()
        .filter(|(key, _)| declared.is_empty() || declared.contains(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    crate::limits::check_settings(&kept)?;
    if let Err(error) = state.store.put_server_logging_settings(hashed_account_id, &kept).await {
        return Ok(database_failure(&error));
    }
    let message = callbridge_core::ReturnMessage::success("Server logging settings updated", 3000);
    Ok(axum::Json(json!({ "successful": true, "returnMessage": message })).into_response())
}

/// App Connect's settings merge: admin entries win unless they are customizable (then the user's value is kept,
/// marked customizable); removed admin entries disappear. The settings screen shows it, and the composer obeys it.
pub fn merge_settings(user: &Map<String, Value>, admin: &Map<String, Value>) -> Map<String, Value> {
    let truthy = |entry: Option<&Value>, flag: &str| entry.and_then(|it| it.get(flag)).is_some_and(is_truthy);
    let mut merged = Map::new();
    for key in user.keys().chain(admin.keys()) {
        if merged.contains_key(key) {
            continue;
        }
        let admin_entry = admin.get(key);
        if truthy(admin_entry, "isRemoved") {
            continue;
        }
        match (admin_entry, user.get(key)) {
            (None, Some(user_entry)) => {
                merged.insert(key.clone(), customizable(user_entry));
            }
            (Some(_), Some(user_entry)) if truthy(admin_entry, "customizable") => {
                merged.insert(key.clone(), customizable(user_entry));
            }
            (Some(admin_entry), _) => {
                merged.insert(key.clone(), admin_entry.clone());
            }
            (None, None) => {}
        }
    }
    merged
}

fn customizable(user_entry: &Value) -> Value {
    let mut entry = Map::new();
    entry.insert("customizable".to_owned(), Value::Bool(true));
    for field in ["value", "defaultValue", "options"] {
        if let Some(value) = user_entry.get(field).filter(|it| !it.is_null()) {
            entry.insert(field.to_owned(), value.clone());
        }
    }
    Value::Object(entry)
}

/// The settings a user's log is composed with: the user's own, with the account's admin settings enforced
/// (App Connect only shows them in the settings screen; here they take effect).
pub fn enforced_settings(user: &UserSettings, admin: &UserSettings) -> UserSettings {
    if admin.0.is_empty() {
        return user.clone();
    }
    UserSettings(merge_settings(&user.0, &admin.0))
}

/// Which assignment sources a flow consults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignmentUse {
    /// A create: the assigned user's own session token first, then the account's mappings.
    Create,
    /// An update: the account's mappings only, as App Connect does.
    Update,
}

/// The CRM user a log is assigned to (`additionalSubmission.isAssignedToUser`): the user of the session token in
/// `adminAssignedUserToken` (on the same platform), else the mapping of `adminAssignedUserRcId` in the account's
/// user mappings. `None`: not assigned, or nobody found (the log stays the session user's).
pub async fn assigned_crm_user(
    state: &AppState,
    facts: &RequestFacts,
    platform: &str,
    submission: Option<&AdditionalSubmission>,
    usage: AssignmentUse,
) -> Result<Option<String>, StoreError> {
    let Some(submission) = submission.filter(|it| it.get("isAssignedToUser").is_some_and(is_truthy)) else {
        return Ok(None);
    };
    if usage == AssignmentUse::Create
        && let Some(token) = submission.get("adminAssignedUserToken").and_then(Value::as_str)
        && let Some(claims) = state.jwt.verify(token)
        && let Some(sealed) = state.store.session_user(&claims.id, claims.sid.as_deref(), claims.iat).await?
        && let user = state.store.open_user(&sealed)?
        && user.platform == platform
    {
        return Ok(Some(user.crm_user_id().to_owned()));
    }
    let rc_id = submission.get("adminAssignedUserRcId").map(id_text).filter(|it| !it.is_empty());
    let (Some(rc_id), Some(account)) = (rc_id, facts.hashed_account_id.as_deref()) else { return Ok(None) };
    let config = state.store.admin_config(account).await?;
    Ok(config.and_then(|it| mapped_crm_user(&it.user_mappings, &rc_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_match_a_string_or_a_list() {
        let mappings = json!([{"crmUserId": "7", "rcExtensionId": ["1", "2"]}, {"crmUserId": 8, "rcExtensionId": 3}]);
        assert_eq!(mapped_crm_user(&mappings, "2").as_deref(), Some("7"));
        assert_eq!(mapped_crm_user(&mappings, "3").as_deref(), Some("8"));
        assert_eq!(mapped_crm_user(&mappings, "4"), None);
        assert_eq!(mapped_crm_user(&json!({"x": 1}), "1"), None);
    }

    #[test]
    fn only_well_formed_mappings_are_accepted() {
        let parsed = parse_mappings(&json!([{"crmUserId": 7, "rcExtensionId": [1, "2"], "extra": true}])).unwrap();
        assert_eq!(parsed, json!([{"crmUserId": "7", "rcExtensionId": ["1", "2"]}]));
        for bad in [
            json!({}),
            json!([{"rcExtensionId": "1"}]),
            json!([{"crmUserId": "1"}]),
            json!([{"crmUserId": {}, "rcExtensionId": "1"}]),
            json!([{"crmUserId": "1", "rcExtensionId": [{}]}]),
        ] {
            assert!(parse_mappings(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn users_are_matched_by_mapping_then_email_then_name() {
        let crm = |id: &str, name: &str, email: Option<&str>| CrmUser {
            id: id.to_owned(),
            name: name.to_owned(),
            email: email.map(str::to_owned),
        };
        let rc = |id: &str, name: &str, email: Option<&str>| Extension {
            extension_id: id.to_owned(),
            name: name.to_owned(),
            email: email.map(str::to_owned),
            extension_number: None,
        };
        let crm_users = [
            crm("1", "Ann", Some("ann@x.test")),
            crm("2", "Bob Stone", None),
            crm("3", "Cy", None),
            crm("4", "Di", None),
        ];
        let extensions =
            [rc("101", "Ann Other", Some("ANN@x.test")), rc("102", "bob stone", None), rc("104", "Di", None)];
        let existing = json!([{"crmUserId": "4", "rcExtensionId": "999"}]);
        let (rows, mappings) = map_users(&crm_users, &extensions, &existing);
        let mapped: Vec<&Value> = rows.as_array().unwrap().iter().map(|it| &it["rcUser"]["extensionId"]).collect();
        assert_eq!(mapped, [&json!("101"), &json!("102"), &Value::Null, &json!("999")]);
        assert_eq!(rows[2]["rcUser"], json!({}));
        assert_eq!(
            mappings,
            json!([
                {"crmUserId": "4", "rcExtensionId": "999"},
                {"crmUserId": "1", "rcExtensionId": "101"},
                {"crmUserId": "2", "rcExtensionId": "102"},
            ])
        );
    }
}
