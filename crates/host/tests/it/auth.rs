//! Logging in and out: API-key login, the OAuth callback with the extension's unencoded `callbackUri`, logout,
//! auth validation, and the session token's sources, failures and sliding renewal.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use callbridge_host::jwt::Claims;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::both_backends;
use crate::mock_crm::{CLIENT_ID, CLIENT_SECRET};
use crate::oauth_env::{OAuthEnv, in_an_hour};
use crate::support::{
    Backend, JWT_SECRET, get, json_request, raw_request, sandbox_app, sandbox_login, send, unique_key,
};

both_backends!(
    api_key_login_answers_a_session_token,
    api_key_login_refusals,
    oauth_callback_exchanges_the_code_and_stores_encrypted_tokens,
    oauth_callback_reads_code_and_state_wherever_they_arrive,
    oauth_callback_refusals,
    logout_revokes_and_blanks_the_tokens,
    auth_validation_checks_with_the_crm,
    session_token_sources_and_failures,
    session_token_near_expiry_is_renewed,
);

async fn api_key_login_answers_a_session_token(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let body = json!({"platform": "sandbox", "apiKey": "secret-key-1", "hostname": "sandbox.test", "additionalInfo": {"apiKey": "secret-key-1", "region": "eu"}});
    let request = Request::post("/apiKeyLogin?state=platform=sandbox")
        .header("content-type", "application/json")
        .header("rc-extension-id", "hashed-ext")
        .body(Body::from(body.to_string()))
        .unwrap();
    let answer = send(&app, request).await.ok_json();
    assert!(answer["name"].as_str().unwrap().starts_with("Sandbox user"));
    assert_eq!(answer["returnMessage"]["messageType"], "success");
    let claims = state.jwt.verify(answer["jwtToken"].as_str().unwrap()).unwrap();
    assert_eq!(claims.platform.as_deref(), Some("sandbox"));
    assert_eq!(claims.exp - claims.iat, 14 * 24 * 3600);
    let user = state.store.user(&claims.id).await.unwrap().unwrap();
    assert_eq!(user.access_token.expose(), "secret-key-1");
    assert_eq!(user.hostname, "sandbox.test");
    assert_eq!(user.hashed_rc_extension_id.as_deref(), Some("hashed-ext"));
    assert_eq!(user.platform_additional_info.get("region"), Some(&json!("eu")));
    assert!(user.platform_additional_info.get("apiKey").is_none(), "the key is stored only encrypted");
}

async fn api_key_login_refusals(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let missing_platform = send(&app, json_request(Method::POST, "/apiKeyLogin", &json!({"apiKey": "k"}))).await;
    assert_eq!(
        (missing_platform.status, missing_platform.text().as_str()),
        (StatusCode::BAD_REQUEST, "Missing platform name")
    );
    let unknown =
        send(&app, json_request(Method::POST, "/apiKeyLogin", &json!({"platform": "nope", "apiKey": "k"}))).await;
    assert_eq!((unknown.status, unknown.text().as_str()), (StatusCode::BAD_REQUEST, "Unknown platform"));
    let no_key =
        send(&app, json_request(Method::POST, "/apiKeyLogin", &json!({"platform": "sandbox", "apiKey": ""}))).await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_key.json()["returnMessage"]["message"], "Missing API key.");
}

async fn mount_oauth(env: &OAuthEnv, code: &str, crm_user: &str) {
    let basic = base64_basic(CLIENT_ID, CLIENT_SECRET);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", basic.as_str()))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains(format!("code={code}")))
        .and(body_string_contains("redirect_uri=https%3A%2F%2Fringcentral.github.io%2Fringcentral-embeddable%2Fredirect.html"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": format!("access-{code}"), "refresh_token": format!("refresh-{code}"), "expires_in": 3600})))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", format!("Bearer access-{code}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": crm_user, "name": "Grace Hopper"})))
        .expect(1)
        .mount(&env.server)
        .await;
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

async fn oauth_callback_exchanges_the_code_and_stores_encrypted_tokens(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let crm_user = uuid::Uuid::new_v4().simple().to_string();
    mount_oauth(&env, "AbC", &crm_user).await;
    // Exactly as the extension sends it: nothing encoded.
    let uri = "/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=AbC&state=platform=mockcrm&hostname=crm.test&rcAccountId=37439510";
    let answer = send(&env.app, get(uri)).await.ok_json();
    assert_eq!(answer["name"], "Grace Hopper");
    assert_eq!(answer["returnMessage"]["message"], "Successfully authorized.");
    let claims = env.state.jwt.verify(answer["jwtToken"].as_str().unwrap()).unwrap();
    assert_eq!(claims.id, format!("{crm_user}-mockcrm"));
    let user = env.state.store.user(&claims.id).await.unwrap().unwrap();
    assert_eq!(user.access_token.expose(), "access-AbC");
    assert_eq!(user.refresh_token.unwrap().expose(), "refresh-AbC");
    assert!(user.token_expiry.unwrap() > chrono::Utc::now() + chrono::Duration::minutes(55));
    assert_eq!(user.hostname, "crm.test");
    assert_eq!(user.rc_account_id.as_deref(), Some("37439510"));
    env.server.verify().await;
}

async fn oauth_callback_reads_code_and_state_wherever_they_arrive(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    // The provider put `state` first: the callback URI carries it and `code` arrives on its own.
    mount_oauth(&env, "first", &uuid::Uuid::new_v4().simple().to_string()).await;
    let uri = "/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?state=platform%3Dmockcrm&code=first&hostname=crm.test";
    assert!(send(&env.app, get(uri)).await.ok_json()["jwtToken"].is_string());
    // A custom state (`filler,platform=<name>`), properly encoded this time.
    mount_oauth(&env, "second", &uuid::Uuid::new_v4().simple().to_string()).await;
    let inner = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=second&state=filler%2Cplatform%3Dmockcrm";
    let uri = format!(
        "/oauth-callback?callbackUri={}",
        url::form_urlencoded::byte_serialize(inner.as_bytes()).collect::<String>()
    );
    assert!(send(&env.app, get(&uri)).await.ok_json()["jwtToken"].is_string());
    // Pipedrive's style: `callbackUri` without a state, `state` beside it.
    mount_oauth(&env, "third", &uuid::Uuid::new_v4().simple().to_string()).await;
    let uri = "/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=third&state=platform=mockcrm";
    assert!(send(&env.app, get(uri)).await.ok_json()["jwtToken"].is_string());
    env.server.verify().await;
}

async fn oauth_callback_refusals(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let missing = send(&env.app, get("/oauth-callback?state=platform=mockcrm")).await;
    assert_eq!((missing.status, missing.text().as_str()), (StatusCode::BAD_REQUEST, "Missing callbackUri"));
    let no_platform = send(&env.app, get("/oauth-callback?callbackUri=https://x.test/cb?code=1")).await;
    assert_eq!((no_platform.status, no_platform.text().as_str()), (StatusCode::BAD_REQUEST, "Missing platform name"));
    let unknown = send(&env.app, get("/oauth-callback?callbackUri=https://x.test/cb?code=1&state=platform=nope")).await;
    assert_eq!((unknown.status, unknown.text().as_str()), (StatusCode::BAD_REQUEST, "Unknown platform"));
    // A refused code: a message for the user, no token, nothing stored.
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&env.server)
        .await;
    let refused = send(&env.app, get("/oauth-callback?callbackUri=https://x.test/cb?code=bad&state=platform=mockcrm"))
        .await
        .ok_json();
    assert!(refused.get("jwtToken").is_none());
    assert_eq!(refused["returnMessage"]["messageType"], "warning");
    env.server.verify().await;
}

/// The 400 text of a request without a usable session.
const AUTHORIZE: &str = "Please go to Settings and authorize CRM platform";

async fn logout_revokes_and_blanks_the_tokens(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&env.server)
        .await;
    let request = Request::post(format!("/unAuthorize?jwtToken={jwt}")).body(Body::empty()).unwrap();
    let answer = send(&env.app, request).await.ok_json();
    // The return message itself, not wrapped.
    assert_eq!(answer, json!({"message": "Logged out of Mock CRM", "messageType": "success", "ttl": 2000}));
    let user = env.state.store.user(&user_id).await.unwrap().unwrap();
    assert!(user.access_token.is_empty());
    assert!(user.refresh_token.is_none_or(|it| it.is_empty()));
    // Logged out: the session token itself is refused now.
    let found = send(&env.app, get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"))).await;
    assert_eq!((found.status, found.text().as_str()), (StatusCode::BAD_REQUEST, AUTHORIZE));
    env.server.verify().await;

    let gone = env.state.jwt.issue("nobody-mockcrm", Some("mockcrm"), None).unwrap();
    let request = Request::post(format!("/unAuthorize?jwtToken={gone}")).body(Body::empty()).unwrap();
    let missing = send(&env.app, request).await;
    assert_eq!((missing.status, missing.text().as_str()), (StatusCode::BAD_REQUEST, AUTHORIZE));
}

async fn auth_validation_checks_with_the_crm(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1", "name": "x"})))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET")).and(path("/me")).respond_with(ResponseTemplate::new(401)).mount(&env.server).await;
    let valid = send(&env.app, get(&format!("/authValidation?jwtToken={jwt}"))).await.ok_json();
    assert_eq!(valid, json!({"successful": true}));
    let invalid = send(&env.app, get(&format!("/authValidation?jwtToken={jwt}"))).await.ok_json();
    assert_eq!(invalid["successful"], false);
    assert_eq!(invalid["returnMessage"]["message"], "Authorization error");
}

async fn session_token_sources_and_failures(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let authorize = "Please go to Settings and authorize CRM platform";
    let forged = jsonwebtoken::encode(
        &Header::default(),
        &Claims {
            id: state.jwt.verify(&jwt).unwrap().id,
            platform: Some("sandbox".into()),
            sid: None,
            iat: 0,
            exp: 4_000_000_000,
        },
        &EncodingKey::from_secret(b"not-our-secret"),
    )
    .unwrap();
    let expired = jsonwebtoken::encode(
        &Header::default(),
        &Claims { id: "x".into(), platform: Some("sandbox".into()), sid: None, iat: 0, exp: 1_000 },
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    for token in ["", "undefined", "garbage", forged.as_str(), expired.as_str()] {
        for uri in [
            format!("/user/settings?jwtToken={token}"),
            format!("/contact?jwtToken={token}&phoneNumber=+14155550123"),
            format!("/callLog?jwtToken={token}&sessionIds=1"),
        ] {
            let answer = send(&app, get(&uri)).await;
            assert_eq!((answer.status, answer.text().as_str()), (StatusCode::BAD_REQUEST, authorize), "{uri}");
        }
    }
    let no_token = send(&app, json_request(Method::POST, "/callLog", &json!({}))).await;
    assert_eq!((no_token.status, no_token.text().as_str()), (StatusCode::BAD_REQUEST, authorize));
    let no_token = send(&app, raw_request(Method::POST, "/callLog/cacheNote", "{}")).await;
    assert_eq!((no_token.status, no_token.text().as_str()), (StatusCode::BAD_REQUEST, authorize));
    // The OpenAPI's preferred form works too.
    let request =
        Request::get("/user/settings").header("authorization", format!("Bearer {jwt}")).body(Body::empty()).unwrap();
    assert_eq!(send(&app, request).await.ok_json(), json!({}));
}

async fn session_token_near_expiry_is_renewed(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let fresh = send(&app, get(&format!("/user/settings?jwtToken={jwt}"))).await;
    assert!(fresh.headers.get("x-refreshed-jwt-token").is_none());
    let claims = state.jwt.verify(&jwt).unwrap();
    let now = chrono::Utc::now().timestamp();
    let aging = jsonwebtoken::encode(
        &Header::default(),
        &Claims { exp: now + 3 * 24 * 3600, iat: now - 11 * 24 * 3600, ..claims.clone() },
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let answer = send(&app, get(&format!("/user/settings?jwtToken={aging}"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let renewed = answer.headers.get("x-refreshed-jwt-token").unwrap().to_str().unwrap();
    let renewed = state.jwt.verify(renewed).unwrap();
    assert_eq!((renewed.id, renewed.platform), (claims.id, claims.platform));
    assert!(renewed.exp >= now + 13 * 24 * 3600);
}
