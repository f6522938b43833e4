//! The admin plane through its routes, with a mock RingCentral: who is an admin, what is stored and answered,
//! admin settings enforced on call logs, user mapping, server logging settings, account data, and logs assigned
//! to another CRM user (Pipedrive's `owner_id`).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use callbridge_core::{Connector, ConnectorConfig, Secret, User, registry};
use callbridge_host::hashing::hash_id;
use callbridge_host::ringcentral::RingCentral;
use callbridge_host::state::AppState;
use callbridge_host::store::AdminConfig;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request as MockRequest, ResponseTemplate};

use crate::both_backends;
use crate::support::{
    Backend, HASH_KEY, JWT_SECRET, TestDb, call_record, get, json_request, sandbox, sandbox_login, send, test_http,
    unique_key,
};

both_backends!(
    only_admins_read_and_save_admin_settings,
    admin_settings_take_effect_on_the_next_call_log,
    user_mapping_matches_stores_and_reinitializes,
    server_logging_settings_need_a_confirmed_admin,
    assigned_logs_are_owned_by_the_mapped_pipedrive_user,
    login_and_preload_accept_a_ringcentral_token,
);

const ACCOUNT: &str = "37439510";
const ADMIN_TOKEN: &str = "rc-admin-token";
const USER_TOKEN: &str = "rc-user-token";

fn hashed_account() -> String {
    hash_id(ACCOUNT, HASH_KEY)
}

/// A RingCentral whose admin token belongs to extension 1001 (an admin), user token to 1002 (not an admin), and
/// whose account lists three extensions over two pages.
async fn mock_ringcentral() -> MockServer {
    let server = MockServer::start().await;
    for (token, id, admin) in [(ADMIN_TOKEN, 1001, true), (USER_TOKEN, 1002, false)] {
        Mock::given(method("GET"))
            .and(path("/restapi/v1.0/account/~/extension/~"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": id, "extensionNumber": "101", "name": "Someone",
                "account": {"id": ACCOUNT, "uri": "https://platform.ringcentral.com/restapi/v1.0/account/37439510"},
                "permissions": {"admin": {"enabled": admin}, "internationalCalling": {"enabled": false}},
            })))
            .mount(&server)
            .await;
    }
    let pages = [
        (
            1,
            json!([{"id": 1001, "extensionNumber": "101", "name": "Ann Admin", "contact": {"email": "ann@acme.test"}}]),
        ),
        (
            2,
            json!([{"id": 1003, "extensionNumber": "103", "contact": {"firstName": "Cy", "lastName": "Lee", "email": "cy@acme.test"}}]),
        ),
    ];
    for (page, records) in pages {
        Mock::given(method("GET"))
            .and(path("/restapi/v1.0/account/~/extension"))
            .and(query_param("page", page.to_string().as_str()))
            .and(header("authorization", format!("Bearer {ADMIN_TOKEN}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "records": records, "paging": {"page": page, "totalPages": 2, "perPage": 1000},
            })))
            .mount(&server)
            .await;
    }
    // Any other token is refused, as RingCentral does.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errorCode": "TokenInvalid"})))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// A state with `connectors`, RingCentral at `ringcentral`, and the delivery worker.
async fn admin_app(
    backend: Backend,
    connectors: Vec<Arc<dyn Connector>>,
    ringcentral: &MockServer,
) -> (TestDb, AppState, Router) {
    let db = TestDb::new(backend).await;
    let origin = url::Url::parse(&ringcentral.uri()).unwrap();
    let mut builder = AppState::builder(db.store().await, &Secret::new(JWT_SECRET), Secret::new(HASH_KEY))
        .ringcentral(RingCentral::new(test_http(), origin));
    for connector in connectors {
        builder = builder.connector(connector, test_http());
    }
    let state = builder.build();
    callbridge_host::delivery::spawn_worker(&state, tokio_util::sync::CancellationToken::new());
    let app = callbridge_host::app(state.clone());
    (db, state, app)
}

fn with_account(mut request: Request<Body>, hashed_account_id: &str) -> Request<Body> {
    request.headers_mut().insert("rc-account-id", hashed_account_id.parse().unwrap());
    request
}

async fn only_admins_read_and_save_admin_settings(backend: Backend) {
    let ringcentral = mock_ringcentral().await;
    let (_db, state, app) = admin_app(backend, vec![sandbox()], &ringcentral).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let save = json!({"adminSettings": {
        "userSettings": {"addCallLogNote": {"value": false, "customizable": false}},
        "userMappings": [{"crmUserId": 7, "rcExtensionId": [1002, "1003"]}],
        // Fields that are not ours to set: the row's key, RingCentral tokens, an obsolete adapter.
        "id": "someone-elses-account", "adminAccessToken": "stolen", "adminRefreshToken": "stolen",
        "customAdapter": {"url": "https://evil.test"},
    }});

    // Non-admins: a user's token, a token RingCentral refuses, no token. Nothing is stored.
    for token in [format!("&rcAccessToken={USER_TOKEN}"), "&rcAccessToken=forged".to_owned(), String::new()] {
        let read = send(&app, get(&format!("/admin/settings?jwtToken={jwt}{token}"))).await;
        assert_eq!((read.status, read.text().as_str()), (StatusCode::FORBIDDEN, "Admin validation failed"));
        let write =
            send(&app, json_request(Method::POST, &format!("/admin/settings?jwtToken={jwt}{token}"), &save)).await;
        assert_eq!((write.status, write.text().as_str()), (StatusCode::FORBIDDEN, "Admin validation failed"));
    }
    assert_eq!(state.store.admin_config(&hashed_account()).await.unwrap(), None);
    // An admin's RingCentral token without a session is not enough either.
    let anonymous = send(&app, get(&format!("/admin/settings?rcAccessToken={ADMIN_TOKEN}"))).await;
    assert_eq!(anonymous.status, StatusCode::BAD_REQUEST);

    let admin = |uri: &str| format!("{uri}?jwtToken={jwt}&rcAccessToken={ADMIN_TOKEN}");
    let empty = send(&app, get(&admin("/admin/settings"))).await.ok_json();
    assert_eq!(empty, json!({"userSettings": {}, "userMappings": []}));
    let saved = send(&app, json_request(Method::POST, &admin("/admin/settings"), &save)).await;
    assert_eq!((saved.status, saved.text().as_str()), (StatusCode::OK, "Admin settings updated"));
    let read = send(&app, get(&admin("/admin/settings"))).await;
    assert_eq!(
        read.ok_json(),
        json!({
            "userSettings": {"addCallLogNote": {"value": false, "customizable": false}},
            "userMappings": [{"crmUserId": "7", "rcExtensionId": ["1002", "1003"]}],
        })
    );
    assert!(!read.text().contains("stolen") && !read.text().contains("evil"), "{}", read.text());
    assert_eq!(state.store.admin_config("someone-elses-account").await.unwrap(), None);

    // Malformed parts are refused whole, with a clear text, and change nothing.
    let before = state.store.admin_config(&hashed_account()).await.unwrap();
    for (bad, text) in [
        (json!({"adminSettings": {"userSettings": "all of them"}}), "adminSettings.userSettings must be an object"),
        (json!({"adminSettings": {"userSettings": {"a": 1}}}), "adminSettings.userSettings.a must be an object"),
        (
            json!({"adminSettings": {"userMappings": [{"crmUserId": "7"}]}}),
            "adminSettings.userMappings: each needs an rcExtensionId",
        ),
        (json!({"adminSettings": 3}), "Missing adminSettings"),
        (json!({}), "Missing adminSettings"),
    ] {
        let refused = send(&app, json_request(Method::POST, &admin("/admin/settings"), &bad)).await;
        assert_eq!((refused.status, refused.text().as_str()), (StatusCode::BAD_REQUEST, text), "{bad}");
    }
    assert_eq!(state.store.admin_config(&hashed_account()).await.unwrap(), before);

    // Saving only settings keeps the mappings.
    let settings_only = json!({"adminSettings": {"userSettings": {}}});
    send(&app, json_request(Method::POST, &admin("/admin/settings"), &settings_only)).await.text();
    let read = send(&app, get(&admin("/admin/settings"))).await.ok_json();
    assert_eq!(read["userMappings"], json!([{"crmUserId": "7", "rcExtensionId": ["1002", "1003"]}]));
}

async fn admin_settings_take_effect_on_the_next_call_log(backend: Backend) {
    let ringcentral = mock_ringcentral().await;
    let (_db, _state, app) = admin_app(backend, vec![sandbox()], &ringcentral).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let note = "Discussed the renewal";
    let log_call = |account: String| {
        let app = app.clone();
        let jwt = jwt.clone();
        async move {
            let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
            let create = json!({
                "logInfo": call_record(&session_id, "+14155550123"),
                "contactId": "c-2", "contactName": "Grace Hopper", "contactType": "contact", "note": note,
            });
            let request =
                with_account(json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create), &account);
            let created = send(&app, request).await.ok_json();
            assert_eq!(created["successful"], true, "{created}");
            let uri = format!("/callLog?jwtToken={jwt}&sessionIds={session_id}&requireDetails=true");
            let details = send(&app, get(&uri)).await.ok_json();
            details["logs"][0]["logData"]["fullBody"].as_str().unwrap().to_owned()
        }
    };
    // The user's own settings log the note.
    assert!(log_call(hashed_account()).await.contains(note));

    let enforce = json!({"adminSettings": {"userSettings": {
        "addCallLogNote": {"value": false, "customizable": false},
        // A customizable entry leaves the user's own choice alone.
        "addCallLogResult": {"value": false, "customizable": true},
    }}});
    let uri = format!("/admin/settings?jwtToken={jwt}&rcAccessToken={ADMIN_TOKEN}");
    assert_eq!(send(&app, json_request(Method::POST, &uri, &enforce)).await.status, StatusCode::OK);
    let mine = json!({"userSettings": {"addCallLogNote": {"value": true}, "addCallLogResult": {"value": true}}});
    send(&app, json_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), &mine)).await.ok_json();

    let body = log_call(hashed_account()).await;
    assert!(!body.contains(note), "the admin turned notes off: {body}");
    assert!(body.contains("Accepted"), "the user's result setting stays: {body}");
    // Another account's users are not affected.
    assert!(log_call(hash_id("another-account", HASH_KEY)).await.contains(note));
}

async fn user_mapping_matches_stores_and_reinitializes(backend: Backend) {
    let ringcentral = mock_ringcentral().await;
    let (_db, state, app) = admin_app(backend, vec![sandbox()], &ringcentral).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let user_id = state.jwt.verify(&jwt).unwrap().id;
    let name = state.store.user(&user_id).await.unwrap().unwrap();
    let crm_name = format!("Sandbox user {}", &name.id[..6]);
    let uri = |route: &str, token: &str| format!("{route}?jwtToken={jwt}&rcAccessToken={token}");

    let refused = send(&app, json_request(Method::POST, &uri("/admin/userMapping", USER_TOKEN), &json!({}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // The extension's directory records: matched by name (no email in the sandbox).
    let directory = json!({"rcExtensionList": [
        {"id": 2001, "name": "Nobody Else", "extensionNumber": "201", "email": "x@acme.test"},
        {"id": 2002, "name": crm_name.to_uppercase(), "extensionNumber": "202", "email": "me@acme.test"},
    ]});
    let mapped =
        send(&app, json_request(Method::POST, &uri("/admin/userMapping", ADMIN_TOKEN), &directory)).await.ok_json();
    let row = mapped.as_array().unwrap().iter().find(|it| it["crmUser"]["id"] == user_id.as_str()).unwrap().clone();
    assert_eq!(
        row,
        json!({
            "crmUser": {"id": user_id, "name": crm_name, "email": null},
            "rcUser": {"extensionId": "2002", "name": crm_name.to_uppercase(), "email": "me@acme.test", "extensionNumber": "202"},
        })
    );
    let stored = state.store.admin_config(&hashed_account()).await.unwrap().unwrap().user_mappings;
    assert!(stored.as_array().unwrap().contains(&json!({"crmUserId": user_id, "rcExtensionId": "2002"})), "{stored}");

    // A stored mapping wins over matching, even against another list.
    let other = json!({"rcExtensionList": [{"id": 3003, "name": crm_name}]});
    let mapped =
        send(&app, json_request(Method::POST, &uri("/admin/userMapping", ADMIN_TOKEN), &other)).await.ok_json();
    let row = mapped.as_array().unwrap().iter().find(|it| it["crmUser"]["id"] == user_id.as_str()).unwrap().clone();
    assert_eq!(row["rcUser"]["extensionId"], "2002");

    // Reinitialize forgets it; with no list the account's extensions come from RingCentral, every page.
    let fresh = send(&app, json_request(Method::POST, &uri("/admin/reinitializeUserMapping", ADMIN_TOKEN), &json!({})))
        .await
        .ok_json();
    let row = fresh.as_array().unwrap().iter().find(|it| it["crmUser"]["id"] == user_id.as_str()).unwrap().clone();
    assert_eq!(row["rcUser"], json!({}), "unmapped users get an empty rcUser: {fresh}");
    let stored = state.store.admin_config(&hashed_account()).await.unwrap().unwrap().user_mappings;
    assert!(!stored.to_string().contains(&user_id), "{stored}");
    let pages: Vec<String> = ringcentral
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|it| it.url.path() == "/restapi/v1.0/account/~/extension")
        .filter_map(|it| it.url.query_pairs().find(|(k, _)| k == "page").map(|(_, v)| v.into_owned()))
        .collect();
    assert_eq!(pages, ["1", "2"]);
}

async fn server_logging_settings_need_a_confirmed_admin(backend: Backend) {
    let ringcentral = mock_ringcentral().await;
    let (_db, _state, app) = admin_app(backend, vec![sandbox()], &ringcentral).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let other = sandbox_login(&app, &unique_key()).await;
    let account = hashed_account();
    let route = |jwt: &str| format!("/admin/serverLoggingSettings?jwtToken={jwt}&rcAccountId={account}");
    let values = json!({"additionalFieldValues": {"activityOwner": "12", "deals": null}});

    // Not yet confirmed by RingCentral: refused, as is a plain user with a RingCentral token.
    assert_eq!(send(&app, get(&route(&jwt))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, json_request(Method::POST, &route(&jwt), &values)).await.status, StatusCode::FORBIDDEN);
    let with_user_token = format!("{}&rcAccessToken={USER_TOKEN}", route(&jwt));
    assert_eq!(send(&app, get(&with_user_token)).await.status, StatusCode::FORBIDDEN);

    // The extension's start-up `GET /admin/settings` confirms the admin.
    let confirm = format!("/admin/settings?jwtToken={jwt}&rcAccessToken={ADMIN_TOKEN}");
    assert_eq!(send(&app, get(&confirm)).await.status, StatusCode::OK);
    assert_eq!(send(&app, get(&route(&jwt))).await.ok_json(), json!({}));
    let saved = send(&app, json_request(Method::POST, &route(&jwt), &values)).await.ok_json();
    assert_eq!(saved["successful"], true, "{saved}");
    assert_eq!(send(&app, get(&route(&jwt))).await.ok_json(), values["additionalFieldValues"]);
    let missing = send(&app, json_request(Method::POST, &route(&jwt), &json!({"other": 1}))).await;
    assert_eq!((missing.status, missing.text().as_str()), (StatusCode::BAD_REQUEST, "Missing additionalFieldValues"));

    // Another user of the same account, never confirmed, still cannot read or change them.
    assert_eq!(send(&app, get(&route(&other))).await.status, StatusCode::FORBIDDEN);
    let other_account = format!("/admin/serverLoggingSettings?jwtToken={jwt}&rcAccountId=not-my-account");
    assert_eq!(send(&app, get(&other_account)).await.status, StatusCode::FORBIDDEN);
}

/// A Pipedrive that records the activities it is sent.
async fn mock_pipedrive() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/activityTypes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": [
            {"id": 1, "name": "Meeting", "key_string": "meeting", "active_flag": true},
            {"id": 3, "name": "Phone Call", "key_string": "call", "active_flag": true},
            {"id": 4, "name": "Old", "key_string": "old", "active_flag": false},
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/persons/101"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": {"id": 101, "name": "Ada"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/activities"))
        .respond_with(|request: &MockRequest| {
            let mut created: Value = serde_json::from_slice(&request.body).unwrap();
            created["id"] = json!(400 + created["owner_id"].as_u64().unwrap_or(0) % 100);
            ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": created}))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/activities/412"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "data": {"id": 412, "note": "<b>Call details</b><br>"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/activities/412"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": {"id": 412}})))
        .mount(&server)
        .await;
    server
}

/// A signed-in Pipedrive user with CRM id `crm_id`.
async fn pipedrive_user(state: &AppState, crm_id: u64) -> String {
    let user = User {
        id: format!("{crm_id}-pipedrive"),
        platform: "pipedrive".to_owned(),
        hostname: "acme.pipedrive.com".to_owned(),
        access_token: Secret::new(format!("token-{crm_id}")),
        ..User::default()
    };
    state.store.upsert_user(&user).await.unwrap();
    let sid = uuid::Uuid::new_v4().to_string();
    state.store.start_session(&sid, &user.id, chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    state.jwt.issue(&user.id, Some("pipedrive"), Some(&sid)).unwrap()
}

async fn assigned_logs_are_owned_by_the_mapped_pipedrive_user(backend: Backend) {
    let ringcentral = mock_ringcentral().await;
    let pipedrive = mock_pipedrive().await;
    let http = test_http().with_origin_override(Some(url::Url::parse(&pipedrive.uri()).unwrap()));
    let connector = (registry::get("pipedrive").unwrap().build)(ConnectorConfig::new(http)).unwrap();
    let (_db, state, app) = admin_app(backend, vec![connector], &ringcentral).await;
    let jwt = pipedrive_user(&state, 12345).await;
    let teammate = pipedrive_user(&state, 888).await;
    let account = hashed_account();
    let config = AdminConfig {
        id: account.clone(),
        user_mappings: json!([{"crmUserId": "712", "rcExtensionId": ["2002", "2003"]}]),
        ..AdminConfig::default()
    };
    state.store.put_admin_config(&config).await.unwrap();

    let log_call = |submission: Value| {
        let (app, jwt, account) = (app.clone(), jwt.clone(), account.clone());
        async move {
            let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
            let create = json!({
                "logInfo": call_record(&session_id, "+14155550100"),
                "contactId": 101, "contactName": "Ada", "contactType": "contact", "additionalSubmission": submission,
            });
            let request =
                with_account(json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create), &account);
            let created = send(&app, request).await.ok_json();
            assert_eq!(created["successful"], true, "{created}");
            session_id
        }
    };
    let owners = || async {
        let requests = pipedrive.received_requests().await.unwrap();
        let posted = requests.iter().filter(|it| it.method.as_str() == "POST" && it.url.path() == "/api/v2/activities");
        posted.map(|it| serde_json::from_slice::<Value>(&it.body).unwrap()["owner_id"].clone()).collect::<Vec<_>>()
    };

    log_call(json!({})).await;
    log_call(json!({"isAssignedToUser": true, "adminAssignedUserRcId": "2003"})).await;
    log_call(json!({"isAssignedToUser": true, "adminAssignedUserToken": teammate, "adminAssignedUserRcId": "2003"}))
        .await;
    // Not assigned (the flag is off), and assigned to an extension nobody mapped: the session's user.
    log_call(json!({"isAssignedToUser": false, "adminAssignedUserRcId": "2003"})).await;
    log_call(json!({"isAssignedToUser": true, "adminAssignedUserRcId": "9999"})).await;
    // A token that is not a live session is ignored (the mapping decides).
    log_call(json!({"isAssignedToUser": true, "adminAssignedUserToken": "forged", "adminAssignedUserRcId": "2002"}))
        .await;
    assert_eq!(owners().await, [json!(12345), json!(712), json!(888), json!(12345), json!(12345), json!(712)]);

    // An update of an assigned log moves the activity to the mapped owner.
    let session_id = log_call(json!({"isAssignedToUser": true, "adminAssignedUserRcId": "2002"})).await;
    let update = json!({"sessionId": session_id, "note": "Later", "additionalSubmission": {"isAssignedToUser": true, "adminAssignedUserRcId": "2002"}});
    let request = with_account(json_request(Method::PATCH, &format!("/callLog?jwtToken={jwt}"), &update), &account);
    let updated = send(&app, request).await.ok_json();
    assert_eq!(updated["successful"], true, "{updated}");
    let requests = pipedrive.received_requests().await.unwrap();
    let patch = requests.iter().rfind(|it| it.method.as_str() == "PATCH").expect("the activity was patched");
    assert_eq!(serde_json::from_slice::<Value>(&patch.body).unwrap()["owner_id"], 712);

    // The admin's choice of activity type offers the account's active types.
    let data =
        send(&app, get(&format!("/accountData?jwtToken={jwt}&keys=activityTypes&forceRefresh=true"))).await.ok_json();
    assert_eq!(
        data,
        json!({"successful": true, "data": {"activityTypes": [{"const": "meeting", "title": "Meeting"}, {"const": "call", "title": "Phone Call"}]}})
    );
    let unknown = send(&app, get(&format!("/accountData?jwtToken={jwt}&keys=activityTypes,nope"))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["returnMessage"]["message"], "Unknown keys: nope");
    let missing = send(&app, get(&format!("/accountData?jwtToken={jwt}"))).await;
    assert_eq!((missing.status, missing.text().as_str()), (StatusCode::BAD_REQUEST, "Missing keys"));
}

async fn login_and_preload_accept_a_ringcentral_token(backend: Backend) {
    let ringcentral = mock_ringcentral().await;
    let (_db, state, app) = admin_app(backend, vec![sandbox()], &ringcentral).await;
    let key = unique_key();
    let login = |token: &str| {
        let body = json!({"platform": "sandbox", "apiKey": key, "hostname": "sandbox.test", "rcAccessToken": token});
        json_request(Method::POST, "/apiKeyLogin", &body)
    };
    // RingCentral names the account and extension of the login.
    let answer = send(&app, login(USER_TOKEN)).await.ok_json();
    let user_id = state.jwt.verify(answer["jwtToken"].as_str().unwrap()).unwrap().id;
    let user = state.store.user(&user_id).await.unwrap().unwrap();
    assert_eq!(user.rc_account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(user.hashed_rc_extension_id, Some(hash_id("1002", HASH_KEY)));
    // A token RingCentral refuses refuses the login.
    let refused = send(&app, login("forged")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["returnMessage"]["message"], "RingCentral did not accept the access token.");

    let config = AdminConfig {
        id: hashed_account(),
        user_settings: serde_json::from_value(json!({"autoLogCall": {"value": true, "customizable": false}})).unwrap(),
        ..AdminConfig::default()
    };
    state.store.put_admin_config(&config).await.unwrap();
    let mut request = get("/user/preloadSettings?rcAccountId=ignored-when-a-token-is-given");
    request.headers_mut().insert("x-rc-access-token", format!("Bearer {USER_TOKEN}").parse().unwrap());
    let preload = send(&app, request).await.ok_json();
    assert_eq!(preload, json!({"userSettings": {"autoLogCall": {"value": true, "customizable": false}}}));
}
