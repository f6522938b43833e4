//! Shared set-up: a mock Insightly, the connector pointed at it, a logged-in user and the fallback mock.

use std::sync::Arc;

use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{Connector, ConnectorConfig, RequestContext, Secret, TimezoneOffset, User, UserSettings};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

/// The test user's API key and the `Authorization` header the host prepares for it: `Basic base64("<key>:")`.
pub const API_KEY: &str = "test-api-key";
pub const AUTH: &str = "Basic dGVzdC1hcGkta2V5Og==";
/// The API URL the user pasted at login, as saved.
pub const API_URL: &str = "https://api.na1.insightly.com/v3.1";

/// A handwritten Insightly answer from `tests/it/fixtures/`, in the shape of Insightly's documented objects.
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

/// A mock Insightly and the connector, built through the registry as the host builds it, pointed at the mock.
pub struct Harness {
    pub server: MockServer,
    pub connector: Arc<dyn Connector>,
}

pub async fn start() -> Harness {
    start_with(|config| config).await
}

/// A harness whose configuration `configure` fills; retries are off so that each mock sees exactly one request.
pub async fn start_with(configure: impl FnOnce(ConnectorConfig) -> ConnectorConfig) -> Harness {
    let server = MockServer::start().await;
    let connector = connector_at(&server.uri(), configure);
    Harness { server, connector }
}

/// The connector with every request sent to `origin`.
pub fn connector_at(origin: &str, configure: impl FnOnce(ConnectorConfig) -> ConnectorConfig) -> Arc<dyn Connector> {
    let http = HttpClient::new(&HttpSettings::default())
        .unwrap()
        .with_origin_override(Some(Url::parse(origin).unwrap()))
        .with_retry(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    let descriptor = callbridge_core::registry::get(connector_insightly::NAME).unwrap();
    (descriptor.build)(configure(ConnectorConfig::new(http))).unwrap()
}

/// The logged-in user: Insightly user 12345 on pod `na1`, in New York.
pub fn user() -> User {
    User {
        id: "12345-insightly".into(),
        platform: "insightly".into(),
        hostname: "crm.na1.insightly.com".into(),
        timezone_name: Some("America/New_York".into()),
        timezone_offset: Some(TimezoneOffset::Text("-5".into())),
        access_token: Secret::new(API_KEY),
        platform_additional_info: json!({ "apiUrl": API_URL }).as_object().unwrap().clone(),
        ..User::default()
    }
}

pub fn ctx() -> RequestContext {
    ctx_with_settings(json!({}))
}

/// The user's context with these user settings (`{settingId: {value}}`).
pub fn ctx_with_settings(settings: Value) -> RequestContext {
    let mut user = user();
    user.user_settings = serde_json::from_value::<UserSettings>(settings).unwrap();
    RequestContext {
        user,
        auth_header: Secret::new(AUTH),
        hashed_account_id: Some("hashed-account".into()),
        admin_settings: UserSettings::default(),
        is_from_sscl: false,
        assigned_crm_user_id: None,
    }
}

/// A mock of `http_method` on the API path `api_path` (after `/v3.1/`), sent with the user's API key.
pub fn insightly(http_method: &str, api_path: &str) -> MockBuilder {
    Mock::given(method(http_method)).and(path(format!("/v3.1/{api_path}"))).and(header("authorization", AUTH))
}

pub fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// After the real mocks: any other request gets a 500 naming it, so a missed expectation is easy to read.
pub async fn mount_fallback(server: &MockServer) {
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(500).set_body_string(format!("no mock for {} {}", request.method, request.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// The JSON bodies Insightly received for `http_method` on the API path `api_path`, in order.
pub async fn received(server: &MockServer, http_method: &str, api_path: &str) -> Vec<Value> {
    let full_path = format!("/v3.1/{api_path}");
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|it| it.method.as_str() == http_method && it.url.path() == full_path)
        .map(|it| serde_json::from_slice(&it.body).unwrap_or(Value::Null))
        .collect()
}

/// `field_name=value` of every search Insightly received on `collection`, in order.
pub async fn searches(server: &MockServer, collection: &str) -> Vec<String> {
    let full_path = format!("/v3.1/{collection}/Search");
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|it| it.url.path() == full_path)
        .map(|it| {
            let pairs: Vec<(String, String)> = it.url.query_pairs().into_owned().collect();
            let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
            format!("{}={}", get("field_name"), get("field_value"))
        })
        .collect()
}
