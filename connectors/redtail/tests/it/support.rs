//! Shared set-up: a mock Redtail, the connector pointed at it, a logged-in user, and the fallback mock.

use std::sync::Arc;

use base64::Engine as _;
use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{
    CallDuration, CallRecord, Connector, ConnectorConfig, CreateCallLogRequest, LogContact, RecordKey, RequestContext,
    Secret, StartTime, User, UserSettings,
};
use serde_json::{Value, json};
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

/// The partner key the server is configured with, and the user key Redtail gave the user at login.
pub const API_KEY: &str = "partner-key";
pub const USER_KEY: &str = "UK-3A1F-77";
/// The API root's path on the default server (`https://smf.crm3.redtailtechnology.com/api/public/v1`).
pub const API: &str = "/api/public/v1";

/// `Userkeyauth base64("partner-key:UK-3A1F-77")`: what every request after login carries.
pub fn user_auth() -> String {
    format!("Userkeyauth {}", base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:{USER_KEY}")))
}

/// A Redtail answer from `tests/it/fixtures/`.
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

pub struct Harness {
    pub server: MockServer,
    pub connector: Arc<dyn Connector>,
}

/// A mock Redtail and the connector built through the registry as the host builds it, with retries off so that
/// each mock sees exactly one request.
pub async fn start() -> Harness {
    start_with(|config| config.with_value("api_key", API_KEY)).await
}

pub async fn start_with(configure: impl FnOnce(ConnectorConfig) -> ConnectorConfig) -> Harness {
    let settings =
        HttpSettings { retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }, ..HttpSettings::default() };
    start_with_http(settings, configure).await
}

/// A harness whose HTTP client has `settings` (timeouts, retries) instead of the one-attempt default.
pub async fn start_with_http(
    settings: HttpSettings,
    configure: impl FnOnce(ConnectorConfig) -> ConnectorConfig,
) -> Harness {
    let server = MockServer::start().await;
    let http = HttpClient::new(&settings)
        .unwrap()
        .with_origin_override(Some(server.uri().parse().unwrap()))
        .with_retry(settings.retry.clone());
    let descriptor = callbridge_core::registry::get(connector_redtail::NAME).unwrap();
    let connector = (descriptor.build)(configure(ConnectorConfig::new(http))).unwrap();
    Harness { server, connector }
}

/// The logged-in user `ada`: the user key is stored as the access token; Redtail gives no time zone.
pub fn user() -> User {
    User {
        id: "ada-redtail".into(),
        platform: "redtail".into(),
        hostname: "crm.redtailtechnology.com".into(),
        access_token: Secret::new(USER_KEY),
        ..User::default()
    }
}

pub fn ctx() -> RequestContext {
    RequestContext {
        user: user(),
        // What `Redtail::authorization` makes for the user (`the_auth_hook_makes_userkeyauth` checks it).
        auth_header: Secret::new(user_auth()),
        hashed_account_id: Some("hashed-account".into()),
        admin_settings: UserSettings::default(),
        is_from_sscl: false,
        assigned_crm_user_id: None,
    }
}

/// A context whose user chose a custom time zone of `hours`.
pub fn ctx_in_timezone(hours: &str) -> RequestContext {
    let mut ctx = ctx();
    ctx.user.user_settings =
        UserSettings(json!({ "redtailCustomTimezone": { "value": hours } }).as_object().unwrap().clone());
    ctx
}

/// A request with the user's `Userkeyauth` header to `path` under the API root.
pub fn redtail(http_method: &str, request_path: &str) -> MockBuilder {
    Mock::given(method(http_method))
        .and(path(format!("{API}{request_path}")))
        .and(header("authorization", user_auth().as_str()))
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

/// Redtail taking one activity (id 5550) and its completion, then the fallback: what every log create needs.
pub async fn mount_create_and_complete(server: &MockServer) {
    redtail("POST", "/activities").respond_with(ok(fixture!("activity_created.json"))).expect(1).mount(server).await;
    redtail("PUT", "/activities/5550")
        .respond_with(ok(fixture!("activity_completed.json")))
        .expect(1)
        .mount(server)
        .await;
    mount_fallback(server).await;
}

/// The JSON bodies the mock received for `method path` (under the API root), in order.
pub async fn bodies(server: &MockServer, http_method: &str, request_path: &str) -> Vec<Value> {
    let full = format!("{API}{request_path}");
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|it| it.method.as_str() == http_method && it.url.path() == full)
        .map(|it| serde_json::from_slice(&it.body).unwrap())
        .collect()
}

/// An inbound call from Jane Doe (contact 9001) on 2024-01-15 at 10:30 UTC, 125 seconds long.
pub fn call_request(composed: &str) -> CreateCallLogRequest {
    CreateCallLogRequest {
        record_key: RecordKey("key-1".into()),
        contact: LogContact {
            id: "9001".into(),
            phone_number: Some("+14155551234".into()),
            kind: "contact".into(),
            name: "Jane Q Doe".into(),
        },
        call_log: CallRecord {
            session_id: Some("sess-1".into()),
            start_time: Some(StartTime::Text("2024-01-15T10:30:00.000Z".into())),
            duration: Some(CallDuration::Seconds(125.into())),
            direction: Some("Inbound".into()),
            ..CallRecord::default()
        },
        composed_log_details: composed.to_owned(),
        ..CreateCallLogRequest::default()
    }
}
