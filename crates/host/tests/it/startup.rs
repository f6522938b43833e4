//! The start-up routes: `/userInfoHash`, `/releaseNotes`, `/serverVersionInfo`, `/licenseStatus`.

use axum::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::support::{Backend, get, sandbox_app, sandbox_login, send, unique_key};

both_backends!(user_info_hash_uses_the_hash_key, release_notes_and_version, license_status_answers);

async fn user_info_hash_uses_the_hash_key(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let hashes = send(&app, get("/userInfoHash?extensionId=101&accountId=2002")).await.ok_json();
    // Computed independently: `printf '101:test-hash-key' | sha256sum`, and the same for 2002.
    assert_eq!(
        hashes,
        json!({
            "extensionId": "c68271aafaa598572ce9feaaa98871b71a92bf665d9c13081d18e4d9a7027174",
            "accountId": "89215a6d69575d384ed333ead602f5e93451ccff9ac5ca819bd1cb6112b88769",
        })
    );
    let only_account = send(&app, get("/userInfoHash?accountId=2002")).await.ok_json();
    assert_eq!(only_account.as_object().unwrap().keys().collect::<Vec<_>>(), ["accountId"]);
    let too_long = send(&app, get(&format!("/userInfoHash?extensionId={}", "9".repeat(300)))).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
}

async fn release_notes_and_version(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let version = send(&app, get("/serverVersionInfo")).await.ok_json();
    let manifest = send(&app, get("/crmManifest")).await.ok_json();
    assert_eq!(version, json!({"version": manifest["version"]}));
    let notes = send(&app, get("/releaseNotes")).await.ok_json();
    let current = &notes[manifest["version"].as_str().unwrap()];
    assert!(!current["global"].as_array().unwrap().is_empty(), "{notes}");
    assert!(current["sandbox"][0]["type"].is_string() && current["sandbox"][0]["description"].is_string());
    // Only the connectors this server runs.
    assert!(current.get("pipedrive").is_none(), "{notes}");
}

async fn license_status_answers(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let invalid =
        |status: &str| json!({"isLicenseValid": false, "licenseStatus": status, "licenseStatusDescription": ""});
    for uri in ["/licenseStatus", "/licenseStatus?jwtToken=undefined"] {
        assert_eq!(send(&app, get(uri)).await.ok_json(), invalid("Invalid (Invalid user session)"), "{uri}");
    }
    let forged = send(&app, get("/licenseStatus?jwtToken=not-a-jwt")).await;
    assert_eq!((forged.status, forged.text().as_str()), (StatusCode::BAD_REQUEST, "Invalid JWT token"));
    let jwt = sandbox_login(&app, &unique_key()).await;
    let connected = send(&app, get(&format!("/licenseStatus?jwtToken={jwt}"))).await.ok_json();
    assert_eq!(connected, invalid("Invalid (Connect to get license status)"));
    // A token whose user the store does not know has no session: it is refused like a forged one.
    let stranger = state.jwt.issue("nobody-sandbox", Some("sandbox"), None).unwrap();
    let answer = send(&app, get(&format!("/licenseStatus?jwtToken={stranger}"))).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::BAD_REQUEST, "Invalid JWT token"));
}
