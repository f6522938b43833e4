//! Login with an API key and the API URL from the login form, the user list, and logout.

use callbridge_core::{CrmUser, ErrorKind, Operation, Secret, UserInfoRequest};
use serde_json::{Map, Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::{header, method, path};

use crate::support::{AUTH, ctx, fixture, insightly, mount_fallback, ok, start, start_with};

fn login_request(api_url: &str) -> UserInfoRequest {
    let form: Map<String, Value> = json!({ "apiUrl": api_url }).as_object().unwrap().clone();
    UserInfoRequest {
        auth_header: Secret::new(AUTH),
        hostname: "crm.na1.insightly.com".into(),
        api_key: Some(Secret::new("test-api-key")),
        additional_info: form,
        token_response: None,
    }
}

#[tokio::test]
async fn logs_in_with_the_api_key_and_converts_the_windows_time_zone() {
    let harness = start().await;
    insightly("GET", "Users/Me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let info = harness.connector.user_info(login_request("https://api.na1.insightly.com/v3.1/")).await.unwrap();

    assert_eq!(info.user.id, "12345-insightly");
    assert_eq!(info.user.name, "Grace Hopper");
    assert_eq!(info.user.timezone_name.as_deref(), Some("Asia/Tokyo"));
    assert_eq!(info.user.timezone_offset.as_deref(), Some("9"));
    assert_eq!(
        Value::Object(info.user.platform_additional_info),
        json!({ "apiUrl": "https://api.na1.insightly.com/v3.1" })
    );
    assert_eq!(info.return_message.unwrap().message, "Connected to Insightly.");
}

#[tokio::test]
async fn the_configured_api_version_replaces_the_one_in_the_url() {
    let harness = start_with(|config| config.with_value("api_version", "v3.0")).await;
    wiremock::Mock::given(method("GET"))
        .and(path("/v3.0/Users/Me"))
        .and(header("authorization", AUTH))
        .respond_with(ok(fixture!("users_me.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let info = harness.connector.user_info(login_request("https://api.eu1.insightly.com/v3.1")).await.unwrap();

    assert_eq!(info.user.platform_additional_info["apiUrl"], "https://api.eu1.insightly.com/v3.0");
}

#[tokio::test]
async fn a_refused_api_key_shows_the_login_warning() {
    let harness = start().await;
    insightly("GET", "Users/Me")
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({ "Message": "Authorization has been denied" })))
        .expect(1)
        .mount(&harness.server)
        .await;

    let error = harness.connector.user_info(login_request("https://api.na1.insightly.com/v3.1")).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    let shown = error.to_return_message(Operation::GetUserInfo, "Insightly");
    assert_eq!(shown.message, "Could not load user information");
    assert_eq!(shown.details.unwrap()[0].items[0].text, "Please check your API key and try again.");
}

#[tokio::test]
async fn an_api_url_outside_insightly_gets_no_request() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    for url in ["https://attacker.example.com/v3.1", "", "http://api.na1.insightly.com/v3.1"] {
        let error = harness.connector.user_info(login_request(url)).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Rejected, "{url}");
        let shown = error.to_return_message(Operation::GetUserInfo, "Insightly");
        assert_eq!(shown.message, "Could not load user information");
    }
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn lists_the_accounts_users() {
    let harness = start().await;
    insightly("GET", "Users").respond_with(ok(fixture!("users.json"))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let users = harness.connector.user_list(&ctx()).await.unwrap();

    assert_eq!(
        users,
        [
            CrmUser { id: "12345".into(), name: "Grace Hopper".into(), email: Some("grace@example.com".into()) },
            CrmUser { id: "12346".into(), name: "Alan".into(), email: Some("alan@example.com".into()) },
        ]
    );
}

#[tokio::test]
async fn logout_is_local() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    let done = harness.connector.unauthorize(&ctx()).await.unwrap();

    assert_eq!(done.return_message.unwrap().message, "Logged out of Insightly");
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_user_without_a_saved_api_url_must_log_in_again() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let mut ctx = ctx();
    ctx.user.platform_additional_info.clear();

    let error = harness.connector.user_list(&ctx).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}
