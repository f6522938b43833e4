//! Login (who_am_i), logout (deauthorize) and the account's user list.

use callbridge_core::{Secret, UserInfoRequest};
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_string, query_param};

use crate::support::{BEARER, HOST, clio, context, data, mount_fallback, received, start};

#[tokio::test]
async fn logs_in_with_the_user_clio_reports() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/users/who_am_i.json")
        .and(query_param("fields", "id,name,time_zone"))
        .respond_with(data(json!({ "id": 12345, "name": "Grace Hopper", "time_zone": "UTC" })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let info = connector
        .user_info(UserInfoRequest { auth_header: Secret::new(BEARER), hostname: HOST.into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(info.user.id, "12345-clio");
    assert_eq!(info.user.name, "Grace Hopper");
    assert_eq!(info.user.timezone_name.as_deref(), Some("UTC"));
    assert_eq!(info.user.timezone_offset.as_deref(), Some("0"));
    assert_eq!(info.user.overriding_hostname, None);
    assert_eq!(info.return_message.unwrap().message, "Connected to Clio.");
}

#[tokio::test]
async fn a_refused_token_shows_the_login_warning() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/users/who_am_i.json")
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({ "error": { "type": "Unauthorized", "message": "Bad token" } })),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let error = connector
        .user_info(UserInfoRequest { auth_header: Secret::new(BEARER), hostname: HOST.into(), ..Default::default() })
        .await
        .unwrap_err();
    let shown = error.to_return_message(callbridge_core::Operation::GetUserInfo, "clio");
    assert_eq!((shown.message.as_str(), error.status()), ("Could not load user information", Some(401)));
}

#[tokio::test]
async fn a_login_on_a_host_that_is_not_clio_calls_nothing() {
    let (server, connector) = start().await;
    mount_fallback(&server).await;
    let request =
        UserInfoRequest { auth_header: Secret::new(BEARER), hostname: "evil.example.com".into(), ..Default::default() };
    assert!(connector.user_info(request).await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn logout_deauthorizes_the_access_token() {
    let (server, connector) = start().await;
    clio("POST", "/oauth/deauthorize")
        .and(body_string("token=test-access-token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let done = connector.unauthorize(&context()).await.unwrap();
    assert_eq!(done.return_message.unwrap().message, "Logged out of Clio");
}

#[tokio::test]
async fn lists_enabled_users_by_name() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/users.json")
        .and(query_param("enabled", "true"))
        .and(query_param("order", "name(asc)"))
        .and(query_param("fields", "id,name,email"))
        .respond_with(data(json!([
            { "id": 1, "name": "Ada Lovelace", "email": "ada@example.com" },
            { "id": 2, "name": "", "first_name": "Grace", "last_name": "Hopper", "email": null }
        ])))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let users = connector.user_list(&context()).await.unwrap();
    assert_eq!(
        users.iter().map(|it| (it.id.as_str(), it.name.as_str(), it.email.as_deref())).collect::<Vec<_>>(),
        [("1", "Ada Lovelace", Some("ada@example.com")), ("2", "Grace Hopper", None)]
    );
    assert_eq!(received(&server, "GET", "/api/v4/users.json").await.len(), 1);
}
