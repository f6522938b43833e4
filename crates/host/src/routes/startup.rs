//! The routes the extension calls as it starts: `/userInfoHash`, `/releaseNotes`, `/serverVersionInfo` and
//! `/licenseStatus`.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::extract::{MAX_ID_LEN, QueryParams};
use crate::hashing::hash_id;
use crate::routes::RouteResult;
use crate::routes::manifest::MANIFEST_VERSION;
use crate::session::SessionLookup;
use crate::state::AppState;

/// The release notes, by version: `global` notes and one list per connector, in the shape `/releaseNotes` serves.
const RELEASE_NOTES: &str = include_str!("../../release-notes.json");

/// `GET /userInfoHash?extensionId=<raw>&accountId=<raw>`: the ids hashed as App Connect hashes them. The extension
/// sends the hashes back as `rc-extension-id` and `rc-account-id` on every later request.
#[utoipa::path(get, path = "/userInfoHash", operation_id = "userInfoHash", tag = "discovery",
    params(
        ("extensionId" = Option<String>, Query, description = "A RingCentral extension id."),
        ("accountId" = Option<String>, Query, description = "A RingCentral account id."),
    ),
    responses((status = 200, description = "`extensionId` and `accountId`, each hashed; an id not given is left out.", body = Object)))]
pub async fn user_info_hash(State(state): State<AppState>, query: QueryParams) -> RouteResult {
    let mut hashes = Map::new();
    for field in ["extensionId", "accountId"] {
        // The reference hashes a missing id as the text `undefined`; a hash of nothing is left out instead.
        let Some(raw) = query.non_empty(field) else { continue };
        if raw.len() > MAX_ID_LEN {
            return Err(ApiError::bad_request(format!("Invalid {field}: too long.")));
        }
        hashes.insert(field.to_owned(), Value::String(hash_id(raw, state.hash_key.expose())));
    }
    Ok(Json(Value::Object(hashes)).into_response())
}

/// `GET /releaseNotes`: `{<version>: {global: [...], <platform>: [{type, description}]}}`. As App Connect does, a
/// version is listed only when one of this server's connectors has notes in it, and other connectors' notes are
/// left out.
#[utoipa::path(get, path = "/releaseNotes", operation_id = "releaseNotes", tag = "discovery",
    responses((status = 200, description = "Release notes by version: global notes and each connector's.", body = Object)))]
pub async fn release_notes(State(state): State<AppState>) -> RouteResult {
    Ok(Json(release_notes_for(&state)).into_response())
}

fn release_notes_for(state: &AppState) -> Value {
    let all: Map<String, Value> = match serde_json::from_str(RELEASE_NOTES) {
        Ok(Value::Object(all)) => all,
        // A unit test keeps the embedded file well-formed.
        _ => Map::new(),
    };
    let mut served = Map::new();
    for (version, sections) in all {
        let Value::Object(sections) = sections else { continue };
        let connectors: Map<String, Value> = sections
            .iter()
            .filter(|(name, _)| state.connectors.contains_key(name.as_str()))
            .map(|(name, notes)| (name.clone(), notes.clone()))
            .collect();
        if connectors.is_empty() {
            continue;
        }
        let mut entry = Map::new();
        entry.insert("global".to_owned(), sections.get("global").cloned().unwrap_or_else(|| json!([])));
        entry.extend(connectors);
        served.insert(version, Value::Object(entry));
    }
    Value::Object(served)
}

/// `GET /serverVersionInfo`: the version `/crmManifest` declares.
#[utoipa::path(get, path = "/serverVersionInfo", operation_id = "serverVersionInfo", tag = "discovery",
    responses((status = 200, description = "`{version}`.", body = Object)))]
pub async fn server_version_info() -> RouteResult {
    Ok(Json(json!({"version": MANIFEST_VERSION})).into_response())
}

/// `GET /licenseStatus`: `{isLicenseValid, licenseStatus, licenseStatusDescription}`. No connector here sells
/// licences (none declares `useLicense`, so the extension does not ask), and every answer is App Connect's for a
/// platform without a licence check: invalid, with the reason in `licenseStatus`.
#[utoipa::path(get, path = "/licenseStatus", operation_id = "licenseStatus", tag = "discovery", security((), ("bearer" = []), ("jwtToken" = [])),
    responses(
        (status = 200, description = "The licence state; `isLicenseValid: false` with the reason when there is none.", body = Object),
        (status = 400, description = "A session token that does not verify.", body = String, content_type = "text/plain"),
    ))]
pub async fn license_status(session: SessionLookup) -> RouteResult {
    let status = match session {
        // The extension sends `jwtToken=undefined` after logging out; the reference's no-token answer suits it.
        SessionLookup::Missing => "Invalid (Invalid user session)",
        SessionLookup::Invalid => return Err(ApiError::bad_request("Invalid JWT token")),
        SessionLookup::Unchecked(error) => return Err(ApiError::database(error)),
        // A valid session's user exists: the session check read it.
        SessionLookup::Valid(_) => "Invalid (Connect to get license status)",
    };
    Ok(Json(json!({"isLicenseValid": false, "licenseStatus": status, "licenseStatusDescription": ""})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_notes_file_has_the_served_shape() {
        let Value::Object(all) = serde_json::from_str::<Value>(RELEASE_NOTES).unwrap() else { panic!("not an object") };
        assert!(!all.is_empty());
        for (version, sections) in &all {
            let sections = sections.as_object().unwrap_or_else(|| panic!("{version} is not an object"));
            for (name, notes) in sections {
                for note in notes.as_array().unwrap_or_else(|| panic!("{version}.{name} is not a list")) {
                    assert!(note["type"].is_string() && note["description"].is_string(), "{version}.{name}: {note}");
                }
            }
        }
    }
}
