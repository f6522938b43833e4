//! Sessions end: logging out refuses the token it was called with on every route (and, on request, every other
//! token of the user); a token whose user is gone is refused too; concurrent settings writes all survive.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use callbridge_host::jwt::Claims;
use callbridge_host::session::REFRESHED_TOKEN_HEADER;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use tokio::task::JoinSet;

use crate::both_backends;
use crate::support::{
    Backend, JWT_SECRET, call_record, get, json_request, sandbox_app, sandbox_login, send, unique_key,
};

both_backends!(
    logout_ends_the_session_on_every_route,
    orphaned_tokens_are_refused,
    concurrent_settings_writes_all_survive
);

const AUTHORIZE: &str = "Please go to Settings and authorize CRM platform";

/// One request of every kind a session opens, with `jwt`.
fn every_route(jwt: &str) -> Vec<Request<Body>> {
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    vec![
        get(&format!("/user/settings?jwtToken={jwt}")),
        json_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), &json!({"userSettings": {"k": 1}})),
        json_request(
            Method::POST,
            &format!("/callLog/cacheNote?jwtToken={jwt}"),
            &json!({"sessionId": session_id, "note": "after logout"}),
        ),
        json_request(
            Method::POST,
            &format!("/callLog?jwtToken={jwt}"),
            &json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-1"}),
        ),
        get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123")),
        get(&format!("/hostname?jwtToken={jwt}")),
        get(&format!("/authValidation?jwtToken={jwt}")),
        Request::get("/user/settings").header("authorization", format!("Bearer {jwt}")).body(Body::empty()).unwrap(),
        Request::post(format!("/unAuthorize?jwtToken={jwt}")).body(Body::empty()).unwrap(),
    ]
}

/// How many of [`every_route`]'s requests `jwt` gets through (anything but the "authorize" 400).
async fn routes_accepting(app: &axum::Router, jwt: &str) -> usize {
    let mut accepted = 0;
    for request in every_route(jwt) {
        let answer = send(app, request).await;
        if (answer.status, answer.text().as_str()) != (StatusCode::BAD_REQUEST, AUTHORIZE) {
            accepted += 1;
        }
    }
    accepted
}

/// A token of the same session as `jwt` that is due for renewal (four days left).
fn due_for_renewal(jwt: &str, state: &callbridge_host::AppState) -> String {
    let mut claims: Claims = state.jwt.verify(jwt).unwrap();
    claims.exp = chrono::Utc::now().timestamp() + 4 * 24 * 3600;
    jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap()
}

async fn logout_ends_the_session_on_every_route(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let api_key = unique_key();
    let (first, second) = (sandbox_login(&app, &api_key).await, sandbox_login(&app, &api_key).await);
    let aging = due_for_renewal(&first, &state);
    let renewed = send(&app, get(&format!("/user/settings?jwtToken={aging}"))).await;
    let renewed = renewed.headers[REFRESHED_TOKEN_HEADER].to_str().unwrap().to_owned();
    assert_eq!(state.jwt.verify(&renewed).unwrap().sid, state.jwt.verify(&first).unwrap().sid);

    let logout = Request::post(format!("/unAuthorize?jwtToken={first}")).body(Body::empty()).unwrap();
    assert_eq!(send(&app, logout).await.ok_json()["messageType"], "success");
    // The logged-out session is refused everywhere, in every form (renewed, aging), without renewal.
    for token in [&first, &renewed, &aging] {
        assert_eq!(routes_accepting(&app, token).await, 0, "{backend:?}");
    }
    let refused = send(&app, get(&format!("/user/settings?jwtToken={aging}"))).await;
    assert!(!refused.headers.contains_key(REFRESHED_TOKEN_HEADER));
    // The user's other session goes on.
    assert_eq!(send(&app, get(&format!("/user/settings?jwtToken={second}"))).await.status, StatusCode::OK);

    // Logging out of everything ends every other session too.
    let third = sandbox_login(&app, &api_key).await;
    let everywhere = Request::post(format!("/unAuthorize?jwtToken={second}&allSessions=true")).body(Body::empty());
    assert_eq!(send(&app, everywhere.unwrap()).await.status, StatusCode::OK);
    for token in [&second, &third] {
        assert_eq!(routes_accepting(&app, token).await, 0, "{backend:?}");
    }
    // Logging in again opens a new session.
    let fourth = sandbox_login(&app, &api_key).await;
    assert_eq!(send(&app, get(&format!("/user/settings?jwtToken={fourth}"))).await.status, StatusCode::OK);
}

async fn orphaned_tokens_are_refused(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let legacy = state.jwt.issue(&state.jwt.verify(&jwt).unwrap().id, Some("sandbox"), None).unwrap();
    assert_eq!(send(&app, get(&format!("/hostname?jwtToken={legacy}"))).await.status, StatusCode::OK);
    assert!(state.store.delete_user(&state.jwt.verify(&jwt).unwrap().id).await.unwrap());
    for token in [&jwt, &legacy] {
        assert_eq!(routes_accepting(&app, token).await, 0, "{backend:?}");
    }
}

async fn concurrent_settings_writes_all_survive(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let mut writes = JoinSet::new();
    for index in 0..50 {
        let (app, jwt) = (app.clone(), jwt.clone());
        writes.spawn(async move {
            let body = json!({"userSettings": {format!("key{index}"): {"value": index}}});
            send(&app, json_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), &body)).await.ok_json();
        });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap();
    }
    let settings = send(&app, get(&format!("/user/settings?jwtToken={jwt}"))).await.ok_json();
    assert_eq!(settings.as_object().unwrap().len(), 50, "{backend:?}: {settings}");
}
