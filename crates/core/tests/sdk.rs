//! The small SDK pieces connectors share: request accessors, error reading, auth values, manifest builders,
//! contact options, connector routes and OAuth revocation.

use callbridge_core::http::{HeaderMap, HttpClient, HttpSettings, StatusCode};
use callbridge_core::manifest::{Environment, ManifestAuth, OAuthManifest, Pages, SettingItem, SettingKind};
use callbridge_core::oauth::{ClientCredentials, revoke_tokens};
use callbridge_core::rest::RestClient;
use callbridge_core::{
    Choice, ConnectorError, ConnectorRoute, CreateMessageLogRequest, ErrorKind, FindContactRequest, OAuthInfo,
    PlatformManifest, RequestContext, ReturnMessage, RouteRequest, RouteResponse, Secret, SharedSmsContent,
    UpdateMessageLogRequest, User,
};
use serde_json::json;
use wiremock::matchers::{basic_auth, body_string, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn context(assigned: Option<&str>) -> RequestContext {
    RequestContext {
        user: User { id: "12345-example".to_owned(), ..User::default() },
        auth_header: Secret::new("Bearer t"),
        hashed_account_id: None,
        admin_settings: Default::default(),
        is_from_sscl: false,
        assigned_crm_user_id: assigned.map(str::to_owned),
    }
}

#[test]
fn the_owner_is_the_assigned_user_else_the_session_user() {
    assert_eq!(context(None).owner_crm_user_id(), "12345");
    assert_eq!(context(Some("  ")).owner_crm_user_id(), "12345");
    assert_eq!(context(Some(" 777 ")).owner_crm_user_id(), "777");
    assert_eq!(context(Some(" 777 ")).assigned_user(), Some("777"));
}

#[test]
fn phone_queries_add_the_users_formats_once() {
    let request = FindContactRequest {
        phone_number: " 16505550100".to_owned(),
        overriding_format: Some("(***) ***-****,+1**********".to_owned()),
        ..FindContactRequest::default()
    };
    let (phone, queries) = request.phone_queries();
    assert_eq!(phone, "+16505550100");
    // `+1**********` gives the number itself, which is searched once.
    assert_eq!(queries, ["+16505550100", "(650) 555-0100"]);
    let plain = FindContactRequest { phone_number: "+16505550100".to_owned(), ..FindContactRequest::default() };
    assert_eq!(plain.phone_queries().1, ["+16505550100"]);
}

#[test]
fn shared_sms_content_replaces_the_composed_log_only_when_complete() {
    let shared = |subject: &str, body: &str| SharedSmsContent {
        subject: subject.to_owned(),
        body: body.to_owned(),
        conversation_created_date: Some("2024-05-01T07:30:00Z".to_owned()),
    };
    let create = |content| CreateMessageLogRequest { shared_sms_log_content: Some(content), ..Default::default() };
    let complete = create(shared("Subject", "Body"));
    let log = complete.shared_log().unwrap();
    assert_eq!(log.created_at().unwrap().to_rfc3339(), "2024-05-01T07:30:00+00:00");
    assert!(create(shared("", "Body")).shared_log().is_none());
    assert!(create(shared("Subject", "")).shared_log().is_none());
    let update = |content| UpdateMessageLogRequest { shared_sms_log_content: Some(content), ..Default::default() };
    assert_eq!(update(shared("", "Body")).shared_body(), Some("Body"));
    assert_eq!(update(shared("Subject", "")).shared_body(), None);
}

#[test]
fn json_error_bodies_give_the_detail() {
    let read = |body: &str| ConnectorError::from_json_response("example", StatusCode::BAD_REQUEST, body.as_bytes());
    assert_eq!(read(r#"{"message":"bad phone"}"#).message(), "example answered 400: bad phone");
    assert_eq!(read(r#"{"error":"invalid_grant"}"#).message(), "example answered 400: invalid_grant");
    assert_eq!(read(r#"{"error":{"code":1}}"#).message(), r#"example answered 400: {"error":{"code":1}}"#);
    assert_eq!(read("<html>no</html>").message(), "example answered 400: <html>no</html>");
    assert_eq!(read(r#"{"message":"x"}"#).kind(), ErrorKind::Rejected);
}

#[test]
fn auth_values_and_login_messages() {
    assert_eq!(callbridge_core::auth::api_key_as_username(&Secret::new("key-123")).expose(), "a2V5LTEyMzo=");
    let message = ReturnMessage::user_info_failed(&["Check the key."]);
    let shown = serde_json::to_value(&message).unwrap();
    assert_eq!(shown["message"], "Could not load user information");
    assert_eq!(shown["details"][0]["items"][0]["text"], "Check the key.");
    assert!(ReturnMessage::user_info_failed(&[]).details.is_none());
}

#[test]
fn manifest_builders_write_what_the_extension_reads() {
    let oauth = OAuthManifest::new("https://crm.example/authorize", Some("id"), Some(" a  b "), "https://cb.example");
    let manifest = PlatformManifest {
        environment: Some(Environment::dynamic("*.crm.example", &["Paste your URL"])),
        admin_settings: vec![
            SettingItem::new("type", SettingKind::Option, "Type").description("Which type").account_data("types"),
        ],
        page: Pages::logs(Vec::new()),
        ..PlatformManifest::new("example", "Example", ManifestAuth::OAuth { oauth })
    };
    let json = manifest.to_json();
    assert_eq!((json["name"].as_str(), json["displayName"].as_str()), (Some("example"), Some("Example")));
    assert_eq!(json["auth"]["oauth"]["scope"], "scope=a+b");
    assert_eq!(json["auth"]["oauth"]["redirectUri"], "https://cb.example");
    assert_eq!(
        json["environment"],
        json!({"type": "dynamic", "urlIdentifier": "*.crm.example", "instructions": ["Paste your URL"]})
    );
    assert_eq!(
        json["adminSettings"][0],
        json!({"id": "type", "type": "option", "name": "Type", "description": "Which type", "accountDataKey": "types"})
    );
    assert_eq!(json["page"]["callLog"], json["page"]["messageLog"]);
    let info = OAuthInfo::new(
        ClientCredentials { client_id: "id".into(), client_secret: Secret::new("s") },
        "https://crm.example/token",
        "https://cb.example",
        "https://crm.example/authorize",
    );
    assert_eq!(
        (info.client_id.as_str(), info.authorization_url.as_deref()),
        ("id", Some("https://crm.example/authorize"))
    );
    assert!(info.scopes.is_empty() && info.hostname.is_none());
}

#[test]
fn options_by_field_leave_out_empty_fields() {
    let info = Choice::by_field([("deals", vec![Choice::new(7, "Deal")]), ("leads", Vec::new())]);
    assert_eq!(info, json!({"deals": [{"const": 7, "title": "Deal"}]}));
}

#[tokio::test]
async fn plain_get_routes_answer_from_the_request() {
    struct NoHost;
    #[callbridge_core::async_trait]
    impl callbridge_core::HostServices for NoHost {
        async fn find_user(&self, _: &str) -> Result<Option<User>, ConnectorError> {
            Ok(None)
        }
        async fn context_for(&self, user: User) -> Result<RequestContext, ConnectorError> {
            Ok(RequestContext { user, ..context(None) })
        }
        async fn delete_user(&self, _: &str) -> Result<bool, ConnectorError> {
            Ok(false)
        }
    }
    let route = ConnectorRoute::get("/landing", |request| {
        RouteResponse::page("A <page>", &request.query_param("code").unwrap_or_default())
    });
    let request = |query: &str| RouteRequest {
        headers: HeaderMap::new(),
        query: Some(query.to_owned()),
        body: Default::default(),
    };
    let page = route.handler.handle(&NoHost, request("x=1&code=&code=a%20b")).await;
    let text = String::from_utf8(page.body.to_vec()).unwrap();
    assert_eq!(page.status, StatusCode::OK);
    assert!(text.contains("<title>A &lt;page&gt;</title>") && text.ends_with("<body>a b</body></html>"), "{text}");
    let empty = route.handler.handle(&NoHost, request("code=")).await;
    assert!(String::from_utf8(empty.body.to_vec()).unwrap().ends_with("<body></body></html>"));
}

#[tokio::test]
async fn revocation_sends_the_refresh_token_first_with_the_app_credentials() {
    let server = MockServer::start().await;
    for token in ["refresh-1", "access-1"] {
        Mock::given(method("POST"))
            .and(path("/revoke"))
            .and(basic_auth("id", "secret"))
            .and(body_string(format!("token={token}")))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
    }
    let http = HttpClient::new(&HttpSettings::default()).unwrap();
    let rest = RestClient::new(http, "https://crm.example", |status, body| {
        ConnectorError::from_json_response("example", status, body)
    });
    let app = ClientCredentials { client_id: "id".into(), client_secret: Secret::new("secret") };
    let user = User {
        access_token: Secret::new("access-1"),
        refresh_token: Some(Secret::new("refresh-1")),
        ..User::default()
    };
    revoke_tokens(&rest, &format!("{}/revoke", server.uri()), &app, &user).await.unwrap();
    let order: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|it| String::from_utf8(it.body.clone()).unwrap())
        .collect();
    assert_eq!(order, ["token=refresh-1", "token=access-1"]);

    // A refused revocation is the CRM's error.
    let server = MockServer::start().await;
    Mock::given(path("/revoke"))
        .respond_with(ResponseTemplate::new(400).set_body_string(r#"{"error":"nope"}"#))
        .mount(&server)
        .await;
    let error = revoke_tokens(&rest, &format!("{}/revoke", server.uri()), &app, &user).await.unwrap_err();
    assert_eq!(error.message(), "example answered 400: nope");
}
