//! `/crmManifest` (the multi-platform manifest 1.6 extensions load) and `/implementedInterfaces`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use callbridge_core::{AuthType, Operation};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::routes::RouteResult;
use crate::state::AppState;

/// The version `/crmManifest` and `/serverVersionInfo` declare; `/releaseNotes` is keyed by it.
pub(super) const MANIFEST_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the extension's OAuth popup lands; its service worker watches for this prefix.
const EMBEDDABLE_REDIRECT: &str = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html";

/// The server's base URL: `CALLBRIDGE_PUBLIC_URL`, else what the request's `Host` says.
fn server_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = state.public_url.as_deref().filter(|it| !it.is_empty()) {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers.get("host").and_then(|it| it.to_str().ok()).unwrap_or("127.0.0.1:6066");
    format!("http://{host}")
}

/// `GET /crmManifest[?platformName=<name>]`.
#[utoipa::path(get, path = "/crmManifest", operation_id = "crmManifest", tag = "discovery",
    params(("platformName" = Option<String>, Query, description = "One connector's entry only; `default` for all.")),
    responses((status = 200, description = "The manifest: server URL and one entry per connector.", body = Object)))]
pub async fn crm_manifest(State(state): State<AppState>, headers: HeaderMap, query: QueryParams) -> RouteResult {
    let wanted = query.non_empty("platformName").filter(|it| *it != "default");
    let mut platforms = Map::new();
    for (name, connector) in &state.connectors {
        if wanted.is_some_and(|it| it != *name) {
            continue;
        }
        let mut entry = match connector.manifest().to_json() {
            Value::Object(entry) => entry,
            _ => Map::new(),
        };
        // The extension uses the key as the platform name: they must agree.
        entry.insert("name".to_owned(), Value::String((*name).to_owned()));
        platforms.insert((*name).to_owned(), Value::Object(entry));
    }
    if wanted.is_some() && platforms.is_empty() {
        return Err(ApiError::bad_request("Platform not found"));
    }
    Ok(Json(json!({
        "serverUrl": server_url(&state, &headers),
        "redirectUri": EMBEDDABLE_REDIRECT,
        "author": {"name": "callbridge", "websiteUrl": "https://github.com/callbridge/callbridge"},
        "platforms": platforms,
        "version": MANIFEST_VERSION,
    }))
    .into_response())
}

/// `GET /implementedInterfaces?platform=<name>`: App Connect's interface names, each `true` when implemented.
#[utoipa::path(get, path = "/implementedInterfaces", operation_id = "implementedInterfaces", tag = "discovery",
    params(("platform" = String, Query, description = "The connector's name.")),
    responses((status = 200, description = "Interface name to whether the connector implements it.", body = Object)))]
pub async fn implemented_interfaces(State(state): State<AppState>, query: QueryParams) -> RouteResult {
    let platform = query.non_empty("platform").ok_or_else(|| ApiError::bad_request("Please provide platform."))?;
    let connector = state.connectors.get(platform).ok_or_else(|| ApiError::bad_request("Platform not found"))?;
    let operations = connector.operations();
    let has = |operation: Operation| operations.contains(&operation);
    let mut interfaces = Map::new();
    let mut set = |name: &str, value: bool| {
        interfaces.insert(name.to_owned(), Value::Bool(value));
    };
    set("getAuthType", true);
    match connector.auth_type() {
        AuthType::OAuth => set("getOauthInfo", true),
        AuthType::ApiKey => set("getBasicAuth", true),
    }
    set("getUserInfo", true);
    set("createCallLog", true);
    set("updateCallLog", true);
    set("getCallLog", has(Operation::GetCallLog));
    set("createMessageLog", has(Operation::CreateMessageLog));
    set("updateMessageLog", has(Operation::UpdateMessageLog));
    set("createContact", has(Operation::CreateContact));
    set("findContact", true);
    for appointment in [
        "listAppointments",
        "createAppointment",
        "updateAppointment",
        "refreshAppointment",
        "confirmAppointment",
        "cancelAppointment",
    ] {
        set(appointment, false);
    }
    set("unAuthorize", true);
    set("upsertCallDisposition", has(Operation::UpsertCallDisposition));
    set("findContactWithName", has(Operation::FindContactWithName));
    set("getUserList", has(Operation::GetUserList));
    set("getManagedAuthOptions", false);
    set("getLicenseStatus", false);
    set("getLogFormatType", true);
    set("refreshUserInfo", false);
    // Notes cached with /callLog/cacheNote are always used by the next create.
    set("cacheCallNote", true);
    Ok(Json(Value::Object(interfaces)).into_response())
}
