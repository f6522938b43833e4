//! Login (username and password exchanged for a user key), logout and the user list.

use base64::Engine as _;
use callbridge_core::{ErrorKind, Secret, UserInfoRequest};
use serde_json::{Map, Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{API, API_KEY, USER_KEY, ctx, fixture, mount_fallback, ok, redtail, start, start_with};

fn login_form(username: &str, password: &str) -> Map<String, Value> {
    json!({ "apiKey": "apiKey", "username": username, "password": password }).as_object().unwrap().clone()
}

/// What the extension sends for Redtail's form: the literal `apiKey` and the form's fields.
fn login_request(username: &str, password: &str) -> UserInfoRequest {
    UserInfoRequest {
        api_key: Some(Secret::new("apiKey")),
        hostname: "crm.redtailtechnology.com".into(),
        additional_info: login_form(username, password),
        ..UserInfoRequest::default()
    }
}

fn login_auth(username: &str, password: &str) -> String {
    let credential = format!("{API_KEY}:{username}:{password}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credential))
}

#[tokio::test]
async fn login_exchanges_the_username_and_password_for_a_user_key() {
    let harness = start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/authentication")))
        .and(header("authorization", login_auth("ada", "s3cret:pass").as_str()))
        .respond_with(ok(fixture!("authentication.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let info = harness.connector.user_info(login_request(" ada ", "s3cret:pass")).await.unwrap();

    assert_eq!((info.user.id.as_str(), info.user.name.as_str()), ("ada-redtail", "ada"));
    assert_eq!(info.user.timezone_name.as_deref(), Some(""));
    assert_eq!(info.user.overriding_api_key.as_ref().map(Secret::expose), Some(USER_KEY));
    let expected = json!({
        "userResponse": { "id": 301, "first_name": "Ada", "last_name": "Lovelace", "database_id": 4400 },
        "password": null
    });
    assert_eq!(Value::Object(info.user.platform_additional_info), expected, "no user key, no password kept");
    let message = info.return_message.unwrap();
    assert_eq!((message.message.as_str(), message.ttl), ("Connected to Redtail.", 3000));
}

#[tokio::test]
async fn refused_credentials_show_the_reference_warning() {
    let harness = start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/authentication")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({ "message": "Invalid credentials" })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let error = harness.connector.user_info(login_request("ada", "wrong")).await.unwrap_err();

    assert_eq!((error.kind(), error.status()), (ErrorKind::Unauthorized, Some(401)));
    let message =
        serde_json::to_value(error.to_return_message(callbridge_core::Operation::GetUserInfo, "Redtail")).unwrap();
    assert_eq!(message["message"], "Could not load user information");
    assert_eq!(message["messageType"], "warning");
    assert_eq!(message["details"][0]["items"][0]["text"], "Please check your credentials.");
}

#[tokio::test]
async fn a_login_without_password_or_without_the_partner_key_asks_nothing_of_redtail() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let error = harness.connector.user_info(login_request("ada", " ")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized);

    let unconfigured = start_with(|config| config).await;
    mount_fallback(&unconfigured.server).await;
    let error = unconfigured.connector.user_info(login_request("ada", "s3cret")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    let message = error.to_return_message(callbridge_core::Operation::GetUserInfo, "Redtail");
    assert!(message.message.contains("REDTAIL_API_KEY"), "{}", message.message);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
    assert!(unconfigured.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn logout_is_local() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let answer = harness.connector.unauthorize(&ctx()).await.unwrap();
    assert_eq!(answer.return_message.unwrap().message, "Logged out of Redtail");
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_user_list_names_database_users() {
    let harness = start().await;
    redtail("GET", "/lists/database_users")
        .respond_with(ok(fixture!("database_users.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let users = harness.connector.user_list(&ctx()).await.unwrap();

    let pairs: Vec<_> = users.iter().map(|it| (it.id.as_str(), it.name.as_str(), it.email.as_deref())).collect();
    assert_eq!(pairs, [("301", "Ada Lovelace", None), ("302", "Grace Hopper", None)]);
}
