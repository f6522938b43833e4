//! User settings, preload settings and hostname.

use axum::http::{Method, StatusCode};
use callbridge_core::UserSettings;
use callbridge_host::store::AdminConfig;
use serde_json::json;

use crate::both_backends;
use crate::support::{Backend, HASH_KEY, get, json_request, sandbox_app, sandbox_login, send, unique_key};

both_backends!(settings_round_trip, settings_merge_with_admin_policy, hostname_and_unknown_platform);

async fn settings_round_trip(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    assert_eq!(send(&app, get(&format!("/user/settings?jwtToken={jwt}&rcAccountId="))).await.ok_json(), json!({}));
    // The extension posts every settings item, UI-only ones included, plus `selectedRegion`.
    let posted = json!({"userSettings": {
        "autoLogCall": {"value": true},
        "logDateFormat": {"value": "MM/DD/YYYY HH:mm:ss"},
        "clickToDialEmbedWarning": {"value": ""},
        "numberFormatterTitle": {"value": null},
        "selectedRegion": {"value": "US"},
        "serverSideLogging": {"enable": false, "loggingLevel": "Disable", "doNotLogNumbers": ""},
    }});
    let answer =
        send(&app, json_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), &posted)).await.ok_json();
    assert_eq!(answer, json!({"userSettings": posted["userSettings"]}));
    let removed = json!({"userSettings": {"autoLogCall": {"value": false}}, "settingKeysToRemove": ["selectedRegion"]});
    let answer =
        send(&app, json_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), &removed)).await.ok_json();
    assert_eq!(answer["userSettings"]["autoLogCall"], json!({"value": false}));
    assert!(answer["userSettings"].get("selectedRegion").is_none());
    let stored = send(&app, get(&format!("/user/settings?jwtToken={jwt}"))).await.ok_json();
    assert_eq!(stored, answer["userSettings"]);
}

async fn settings_merge_with_admin_policy(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let hashed_account = callbridge_host::hashing::hash_id(&uuid::Uuid::new_v4().to_string(), HASH_KEY);
    let admin_settings = json!({
        "autoLogCall": {"value": true, "customizable": false},
        "logDateFormat": {"value": "YYYY-MM-DD HH:mm:ss", "customizable": true},
        "addCallLogNote": {"isRemoved": true},
    });
    let config = AdminConfig {
        id: hashed_account.clone(),
        user_settings: UserSettings(admin_settings.as_object().unwrap().clone()),
        user_mappings: json!([]),
        ..AdminConfig::default()
    };
    state.store.put_admin_config(&config).await.unwrap();
    let mine = json!({"userSettings": {"autoLogCall": {"value": false}, "logDateFormat": {"value": "DD/MM/YYYY HH:mm:ss"}, "addCallLogNote": {"value": true}}});
    send(&app, json_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), &mine)).await.ok_json();
    let merged =
        send(&app, get(&format!("/user/settings?jwtToken={jwt}&rcAccountId={hashed_account}"))).await.ok_json();
    assert_eq!(
        merged,
        json!({
            "autoLogCall": {"value": true, "customizable": false},
            "logDateFormat": {"customizable": true, "value": "DD/MM/YYYY HH:mm:ss"},
        })
    );
    let preload = send(&app, get(&format!("/user/preloadSettings?rcAccountId={hashed_account}"))).await.ok_json();
    assert_eq!(preload, json!({"userSettings": admin_settings}));
    let none = send(&app, get("/user/preloadSettings")).await;
    assert_eq!((none.status, none.text().as_str()), (StatusCode::BAD_REQUEST, "Cannot find rc user login"));
}

async fn hostname_and_unknown_platform(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let hostname = send(&app, get(&format!("/hostname?jwtToken={jwt}"))).await;
    assert_eq!((hostname.status, hostname.text().as_str()), (StatusCode::OK, "sandbox.test"));
    let stranger = state.jwt.issue("nobody-sandbox", Some("sandbox"), None).unwrap();
    // A well-signed token of a user that does not exist is refused like any invalid token.
    let missing = send(&app, get(&format!("/hostname?jwtToken={stranger}"))).await;
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (StatusCode::BAD_REQUEST, "Please go to Settings and authorize CRM platform")
    );
    let user_id = state.jwt.verify(&jwt).unwrap().id;
    let no_platform = state.jwt.issue(&user_id, None, None).unwrap();
    let answer = send(
        &app,
        json_request(Method::POST, &format!("/user/settings?jwtToken={no_platform}"), &json!({"userSettings": {}})),
    )
    .await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::BAD_REQUEST, "Unknown platform"));
}
