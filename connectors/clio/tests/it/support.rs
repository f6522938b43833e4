//! Shared test setup: the connector built through the registry against a fresh `MockServer`, the logged-in user,
//! mocks that match the user's bearer token, and a reader for what Clio received.

use std::sync::Arc;

use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{Connector, ConnectorConfig, RequestContext, Secret, User, UserSettings, registry};
use serde_json::Value;
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub const ACCESS_TOKEN: &str = "test-access-token";
pub const BEARER: &str = "Bearer test-access-token";
pub const HOST: &str = "app.clio.com";

/// A fresh mock Clio and the connector as the host builds it, every request redirected to the mock.
pub async fn start() -> (MockServer, Arc<dyn Connector>) {
    // One attempt, so each mock sees each request once and error tests stay fast.
    let retry = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    start_with(HttpSettings { retry, ..HttpSettings::default() }).await
}

/// As [`start`], with the host's HTTP settings (timeouts, retries) chosen by the test.
pub async fn start_with(settings: HttpSettings) -> (MockServer, Arc<dyn Connector>) {
    let server = MockServer::start().await;
    let http = HttpClient::new(&settings).unwrap().with_origin_override(Some(server.uri().parse().unwrap()));
    let config = ConnectorConfig::new(http).with_value("client_id", "us-id").with_value("client_secret", "us-secret");
    let connector = (registry::get(connector_clio::NAME).unwrap().build)(config).unwrap();
    (server, connector)
}

/// User 12345 on the US host, with the given settings.
pub fn context_with(settings: Value) -> RequestContext {
    RequestContext {
        user: User {
            id: "12345-clio".to_owned(),
            platform: "clio".to_owned(),
            hostname: HOST.to_owned(),
            timezone_offset: Some(callbridge_core::TimezoneOffset::Text("-4".to_owned())),
            access_token: Secret::new(ACCESS_TOKEN),
            user_settings: UserSettings(settings.as_object().cloned().unwrap_or_default()),
            ..User::default()
        },
        auth_header: Secret::new(BEARER),
        hashed_account_id: None,
        admin_settings: UserSettings::default(),
        is_from_sscl: false,
        assigned_crm_user_id: None,
    }
}

pub fn context() -> RequestContext {
    context_with(Value::Null)
}

/// A mock of `http_method request_path` that also requires the user's bearer token.
pub fn clio(http_method: &str, request_path: &str) -> MockBuilder {
    Mock::given(method(http_method)).and(path(request_path)).and(header("authorization", BEARER))
}

/// `{"data": data}` with status 200 and Clio's rate-limit headers.
pub fn data(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({ "data": data }))
        .insert_header("x-ratelimit-limit", "50")
        .insert_header("x-ratelimit-remaining", "49")
        .insert_header("x-ratelimit-reset", "1714550400")
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

/// The JSON bodies Clio received for `http_method request_path`, in order.
pub async fn received(server: &MockServer, http_method: &str, request_path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|it| it.method.as_str() == http_method && it.url.path() == request_path)
        .map(|it| serde_json::from_slice(&it.body).unwrap_or(Value::Null))
        .collect()
}
