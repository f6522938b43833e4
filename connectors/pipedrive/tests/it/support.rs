//! Shared set-up: a mock Pipedrive, the connector pointed at it, a logged-in user and the fallback mock.

use std::sync::Arc;

use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{Connector, ConnectorConfig, RequestContext, Secret, TimezoneOffset, User, UserSettings};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

/// The `Authorization` header the host prepares for the test user.
pub const AUTH: &str = "Bearer test-access-token";
pub const ACCESS_TOKEN: &str = "test-access-token";
pub const REFRESH_TOKEN: &str = "test-refresh-token";
pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "test-client-secret";
/// `base64("test-client-id:test-client-secret")`.
pub const CLIENT_BASIC: &str = "Basic dGVzdC1jbGllbnQtaWQ6dGVzdC1jbGllbnQtc2VjcmV0";

/// A recorded or handwritten Pipedrive response from `tests/it/fixtures/`.
macro_rules! fixture {
    ($name:literal) => {
        serde_json::from_str::<serde_json::Value>(include_str!(concat!("fixtures/", $name))).expect(concat!(
            "fixture ",
            $name,
            " is valid JSON"
        ))
    };
}
pub(crate) use fixture;

/// A mock Pipedrive and the connector, built through the registry as the host builds it, pointed at the mock.
pub struct Harness {
    pub server: MockServer,
    pub connector: Arc<dyn Connector>,
}

pub async fn start() -> Harness {
    start_with(|config| config.with_value("client_id", CLIENT_ID).with_value("client_secret", CLIENT_SECRET)).await
}

/// A harness whose configuration `configure` fills; retries are off so that each mock sees exactly one request.
pub async fn start_with(configure: impl FnOnce(ConnectorConfig) -> ConnectorConfig) -> Harness {
    let server = MockServer::start().await;
    let http = HttpClient::new(&HttpSettings::default())
        .unwrap()
        .with_origin_override(Some(Url::parse(&server.uri()).unwrap()))
        .with_retry(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    let descriptor = callbridge_core::registry::get(connector_pipedrive::NAME).unwrap();
    let connector = (descriptor.build)(configure(ConnectorConfig::new(http))).unwrap();
    Harness { server, connector }
}

/// The logged-in user: Pipedrive user 12345 of company 777 on `acme.pipedrive.com`, two hours east of UTC.
pub fn user() -> User {
    User {
        id: "12345-pipedrive".into(),
        platform: "pipedrive".into(),
        hostname: "acme.pipedrive.com".into(),
        timezone_name: Some("Europe/Berlin".into()),
        timezone_offset: Some(TimezoneOffset::Text("+02:00".into())),
        access_token: Secret::new(ACCESS_TOKEN),
        refresh_token: Some(Secret::new(REFRESH_TOKEN)),
        platform_additional_info: json!({ "companyId": 777, "companyName": "Acme GmbH", "companyDomain": "acme" })
            .as_object()
            .unwrap()
            .clone(),
        ..User::default()
    }
}

pub fn ctx() -> RequestContext {
    RequestContext {
        user: user(),
        auth_header: Secret::new(AUTH),
        hashed_account_id: Some("hashed-account".into()),
        admin_settings: UserSettings::default(),
        is_from_sscl: false,
        assigned_crm_user_id: None,
    }
}

/// A context whose account admin chose `activity_type` under `setting`.
pub fn ctx_with_admin_setting(setting: &str, activity_type: &str) -> RequestContext {
    let mut ctx = ctx();
    ctx.admin_settings = UserSettings(json!({ setting: { "value": activity_type } }).as_object().unwrap().clone());
    ctx
}

/// A request with the user's bearer token to `path` on the mock.
pub fn pipedrive(http_method: &str, request_path: &str) -> MockBuilder {
    Mock::given(method(http_method)).and(path(request_path)).and(header("authorization", AUTH))
}

pub fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Answers every request no other mock took with a 500 that names it; mount after the real mocks.
pub async fn mount_fallback(server: &MockServer) {
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(500).set_body_string(format!(
                "no mock for {} {}?{}",
                request.method,
                request.url.path(),
                request.url.query().unwrap_or_default()
            ))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// The JSON bodies of the requests the mock received for `method path`, in order.
pub async fn bodies(server: &MockServer, http_method: &str, request_path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|it| it.method.as_str() == http_method && it.url.path() == request_path)
        .map(|it| serde_json::from_slice(&it.body).unwrap())
        .collect()
}
