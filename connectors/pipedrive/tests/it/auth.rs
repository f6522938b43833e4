//! OAuth settings, login (user info), logout (token revocation), the user list and the manifest.

use callbridge_core::{ErrorKind, MessageType, OAuthInfoRequest, Operation, Secret, UserInfoRequest};
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{
    ACCESS_TOKEN, AUTH, CLIENT_BASIC, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, ctx, fixture, mount_fallback, ok,
    pipedrive, start, start_with,
};

fn login(hostname: &str) -> UserInfoRequest {
    UserInfoRequest { auth_header: Secret::new(AUTH), hostname: hostname.into(), ..UserInfoRequest::default() }
}

#[tokio::test]
async fn oauth_info_comes_from_the_configuration() {
    let harness = start_with(|config| {
        let mut config = config
            .with_value("client_id", CLIENT_ID)
            .with_value("client_secret", CLIENT_SECRET)
            .with_value("access_token_uri", "https://oauth.pipedrive.com/oauth/token");
        config.public_url = Some("https://calls.acme.example".into());
        config
    })
    .await;
    let info = harness.connector.oauth_info(&OAuthInfoRequest::default()).unwrap();
    assert_eq!(info.client_id, CLIENT_ID);
    assert_eq!(info.client_secret.expose(), CLIENT_SECRET);
    assert_eq!(info.token_url, "https://oauth.pipedrive.com/oauth/token");
    assert_eq!(info.redirect_uri, "https://calls.acme.example/pipedrive-redirect");
    assert_eq!(info.authorization_url.as_deref(), Some("https://oauth.pipedrive.com/oauth/authorize"));
    assert!(info.scopes.is_empty());
    assert_eq!(info.hostname, None);

    let manifest = harness.connector.manifest().to_json();
    assert_eq!(manifest["auth"]["type"], "oauth");
    assert_eq!(manifest["auth"]["oauth"]["clientId"], CLIENT_ID);
    assert_eq!(manifest["auth"]["oauth"]["redirectUri"], "https://calls.acme.example/pipedrive-redirect");
}

#[tokio::test]
async fn without_credentials_the_connector_builds_and_login_fails_clearly() {
    let harness = start_with(|config| config).await;
    assert_eq!(harness.connector.name(), "pipedrive");
    assert_eq!(harness.connector.log_format(), Some(callbridge_core::LogFormat::Html));
    assert_eq!(harness.connector.manifest().to_json()["auth"]["oauth"]["clientId"], "");
    let error = harness.connector.oauth_info(&OAuthInfoRequest::default()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert_eq!(error.message(), "client_id is not configured: set PIPEDRIVE_CLIENT_ID");
}

#[tokio::test]
async fn manifest_describes_the_platform() {
    let manifest = start().await.connector.manifest().to_json();
    assert_eq!(manifest["name"], "pipedrive");
    assert_eq!(manifest["displayName"], "Pipedrive");
    assert_eq!(
        manifest["environment"],
        json!({
            "type": "dynamic",
            "urlIdentifier": "*.pipedrive.com",
            "instructions": ["Login to your Pipedrive account", "Copy the whole url and paste it here"]
        })
    );
    assert_eq!(manifest["auth"]["oauth"]["authUrl"], "https://oauth.pipedrive.com/oauth/authorize");
    assert_eq!(manifest["canOpenLogPage"], false);
    assert_eq!(manifest["contactPageUrl"], "https://{hostname}/person/{contactId}");
    assert_eq!(manifest["logPageUrl"], "https://{hostname}/activities/{logId}");
    assert_eq!(manifest["page"]["useContactSearch"], true);
    let fields = json!([
        { "const": "deals", "title": "Deal", "type": "selection", "contactDependent": true },
        {
            "const": "leadWarning",
            "title": "Lead warning",
            "type": "warning",
            "description": "Lead assignment will be overridden by Deal assignment if any"
        },
        { "const": "leads", "title": "Lead", "type": "selection", "contactDependent": true }
    ]);
    assert_eq!(manifest["page"]["callLog"]["additionalFields"], fields);
    assert_eq!(manifest["page"]["messageLog"]["additionalFields"], fields);
    let admin_ids: Vec<_> = manifest["adminSettings"].as_array().unwrap().iter().map(|it| it["id"].clone()).collect();
    assert_eq!(admin_ids, [json!("pipedriveCallActivityType"), json!("pipedriveSMSActivityType")]);
    assert!(manifest["adminSettings"].as_array().unwrap().iter().all(|it| it["accountDataKey"] == "activityTypes"));
}

#[tokio::test]
async fn user_info_maps_the_current_user() {
    let harness = start().await;
    pipedrive("GET", "/v1/users/me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let info = harness.connector.user_info(login("acme.pipedrive.com")).await.unwrap();
    assert_eq!(info.user.id, "12345-pipedrive");
    assert_eq!(info.user.name, "Grace Hopper");
    assert_eq!(info.user.timezone_name.as_deref(), Some("Europe/Berlin"));
    assert_eq!(info.user.timezone_offset.as_deref(), Some("+02:00"));
    assert_eq!(
        serde_json::Value::Object(info.user.platform_additional_info),
        json!({ "companyId": 777, "companyName": "Acme GmbH", "companyDomain": "acme" })
    );
    assert_eq!(info.user.overriding_hostname, None);
    let message = info.return_message.unwrap();
    assert_eq!(
        (message.message.as_str(), message.message_type, message.ttl),
        ("Connected to Pipedrive.", MessageType::Success, 1000)
    );
}

#[tokio::test]
async fn marketplace_install_replaces_the_temp_hostname() {
    let harness = start().await;
    pipedrive("GET", "/v1/users/me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let info = harness.connector.user_info(login("temp")).await.unwrap();
    assert_eq!(info.user.overriding_hostname.as_deref(), Some("acme.pipedrive.com"));
}

#[tokio::test]
async fn user_info_failure_shows_the_reference_warning() {
    let harness = start().await;
    pipedrive("GET", "/v1/users/me")
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({ "success": false, "error": "Unauthorized" })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let error = harness.connector.user_info(login("acme.pipedrive.com")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    let message = error.to_return_message(Operation::GetUserInfo, "Pipedrive");
    assert_eq!(message.message, "Could not load user information");
    assert_eq!(message.message_type, MessageType::Warning);
    assert_eq!(message.ttl, 3000);
    let details = message.details.unwrap();
    assert_eq!(details[0].title, "Details");
    assert!(
        details[0].items[0]
            .text
            .starts_with("Pipedrive was unable to fetch information for the currently logged in user.")
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_then_the_access_token() {
    let harness = start().await;
    for token in [REFRESH_TOKEN, ACCESS_TOKEN] {
        Mock::given(method("POST"))
            .and(path("/oauth/revoke"))
            .and(header("authorization", CLIENT_BASIC))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string(format!("token={token}")))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&harness.server)
            .await;
    }
    mount_fallback(&harness.server).await;

    let result = harness.connector.unauthorize(&ctx()).await.unwrap();
    let message = result.return_message.unwrap();
    assert_eq!((message.message.as_str(), message.message_type), ("Logged out of Pipedrive", MessageType::Success));
    let order: Vec<String> = harness
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|it| String::from_utf8_lossy(&it.body).into_owned())
        .collect();
    assert_eq!(order, [format!("token={REFRESH_TOKEN}"), format!("token={ACCESS_TOKEN}")]);
}

#[tokio::test]
async fn logout_without_client_credentials_is_a_config_error() {
    let harness = start_with(|config| config).await;
    mount_fallback(&harness.server).await;
    let error = harness.connector.unauthorize(&ctx()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn user_list_leaves_out_deleted_users() {
    let harness = start().await;
    pipedrive("GET", "/api/v1/users").respond_with(ok(fixture!("users.json"))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let users = harness.connector.user_list(&ctx()).await.unwrap();
    let summary: Vec<_> = users.iter().map(|it| (it.id.as_str(), it.name.as_str(), it.email.as_deref())).collect();
    assert_eq!(
        summary,
        [("12345", "Grace Hopper", Some("grace@acme.example")), ("12347", "Alan Turing", Some("alan@acme.example"))]
    );
}
