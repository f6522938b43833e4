//! Clio against a wiremock of its API: login, contact lookup, and creating, reading and updating a call log.

use std::time::Duration;

use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{
    CallDuration, CallRecord, Connector, ConnectorConfig, CreateCallLogRequest, ErrorKind, FindContactRequest,
    GetCallLogRequest, LogContact, RequestContext, Secret, StartTime, UpdateCallLogRequest, User, UserInfoRequest,
    registry,
};
use serde_json::json;
use wiremock::matchers::{any, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// `Basic base64("key-123:")`, what the host sends for the API key `key-123`.
const AUTH: &str = "Basic a2V5LTEyMzo=";

/// The connector as the host builds it: through the registry, with every request redirected to `server`.
fn connector(server: &MockServer) -> std::sync::Arc<dyn Connector> {
    // One attempt, so error tests see each status once and stay fast.
    let retry = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    let http = HttpClient::new(&HttpSettings { retry, ..HttpSettings::default() })
        .unwrap()
        .with_origin_override(Some(server.uri().parse().unwrap()));
    let descriptor = registry::get(connector_clio::NAME).unwrap();
    (descriptor.build)(ConnectorConfig::new(http)).unwrap()
}

fn context() -> RequestContext {
    RequestContext {
        user: User { id: "u-1-clio".to_owned(), platform: "clio".to_owned(), ..User::default() },
        auth_header: Secret::new(AUTH),
        hashed_account_id: None,
        admin_settings: Default::default(),
        is_from_sscl: false,
    }
}

/// After the real mocks: any other request gets a 500 naming it, so a missed expectation is easy to read.
async fn mount_fallback(server: &MockServer) {
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(500).set_body_string(format!("no mock for {} {}", request.method, request.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// A JSON answer with `status`, the body taken from a fixture.
fn answer(status: u16, json: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(json.as_bytes().to_vec(), "application/json")
}

#[tokio::test]
async fn logs_in_with_an_api_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/me"))
        .and(header("authorization", AUTH))
        .respond_with(answer(200, include_str!("fixtures/me.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;

    let request = UserInfoRequest { api_key: Some(Secret::new("key-123")), ..UserInfoRequest::default() };
    let info = connector(&server).user_info(request).await.unwrap();

    assert_eq!(info.user.id, "u-1-clio");
    assert_eq!(info.user.name, "Ada Lovelace");
    assert_eq!(info.user.timezone_name.as_deref(), Some("Europe/London"));
    assert_eq!(info.return_message.unwrap().message, "Connected to Clio.");
}

#[tokio::test]
async fn a_refused_api_key_shows_the_login_warning() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "invalid api key"})))
        .expect(1)
        .mount(&server)
        .await;

    let request = UserInfoRequest { api_key: Some(Secret::new("wrong")), ..UserInfoRequest::default() };
    let error = connector(&server).user_info(request).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    let shown = error.to_return_message(callbridge_core::Operation::GetUserInfo, "clio");
    assert_eq!(shown.message, "Could not load user information");
}

#[tokio::test]
async fn finds_a_contact_by_phone_number_and_by_the_users_formats() {
    let server = MockServer::start().await;
    for query in ["+16505550100", "(650) 555-0100"] {
        Mock::given(method("GET"))
            .and(path("/v1/contacts/search"))
            .and(query_param("phone", query))
            .and(header("authorization", AUTH))
            .respond_with(
                answer(200, include_str!("fixtures/contacts_search.json")).insert_header("x-ratelimit-remaining", "99"),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    mount_fallback(&server).await;

    let request = FindContactRequest {
        // The `+` arrived as a space in the query string.
        phone_number: " 16505550100".to_owned(),
        overriding_format: Some("(***) ***-****".to_owned()),
        ..FindContactRequest::default()
    };
    let matches = connector(&server).find_contact(&context(), request).await.unwrap();

    assert!(matches.successful);
    assert_eq!(matches.contacts.len(), 1, "the same contact found twice is listed once");
    let contact = &matches.contacts[0];
    assert_eq!((contact.id.as_str(), contact.name.as_str()), ("c-42", "Grace Hopper"));
    assert_eq!(contact.phone.as_deref(), Some("+16505550100"));
    assert_eq!(contact.created_date.as_deref(), Some("2024-01-15T09:30:00Z"));
    assert_eq!(matches.rate_limit.unwrap().remaining.as_deref(), Some("99"));
}

#[tokio::test]
async fn an_extension_number_is_not_looked_up() {
    let server = MockServer::start().await;
    mount_fallback(&server).await;

    let request =
        FindContactRequest { phone_number: "101".to_owned(), is_extension: true, ..FindContactRequest::default() };
    let matches = connector(&server).find_contact(&context(), request).await.unwrap();

    assert!(!matches.successful);
    assert!(matches.contacts.is_empty());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn creates_a_call_log() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/activities"))
        .and(header("authorization", AUTH))
        .and(body_partial_json(json!({
            "type": "call",
            "contact_id": "c-42",
            "subject": "Inbound Call from Grace Hopper",
            "body": "- Note: asked about the renewal\n",
            "direction": "inbound",
            "started_at": "2024-03-01T16:00:00+00:00",
            "duration_seconds": 95,
            "external_id": "s-123"
        })))
        .respond_with(answer(201, include_str!("fixtures/activity_created.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;

    let request = CreateCallLogRequest {
        contact: LogContact {
            id: "c-42".to_owned(),
            name: "Grace Hopper".to_owned(),
            kind: "contact".to_owned(),
            phone_number: Some("+16505550100".to_owned()),
        },
        call_log: CallRecord {
            session_id: Some("s-123".to_owned()),
            direction: Some("Inbound".to_owned()),
            start_time: Some(StartTime::Text("2024-03-01T16:00:00Z".to_owned())),
            duration: Some(CallDuration::Seconds(95.into())),
            ..CallRecord::default()
        },
        composed_log_details: "- Note: asked about the renewal\n".to_owned(),
        ..CreateCallLogRequest::default()
    };
    let created = connector(&server).create_call_log(&context(), request).await.unwrap();

    assert_eq!(created.log_id, "act-7001");
    assert_eq!(created.return_message.unwrap().message, "Call logged");
}

#[tokio::test]
async fn reads_and_updates_a_call_log() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/activities/act-7001"))
        .and(header("authorization", AUTH))
        .respond_with(answer(200, include_str!("fixtures/activity.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v1/activities/act-7001"))
        .and(header("authorization", AUTH))
        .and(body_partial_json(json!({"subject": "Follow-up", "body": "- Note: renewal agreed\n"})))
        .respond_with(answer(200, r#"{"data": {"id": "act-7001"}}"#))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let connector = connector(&server);

    let request = GetCallLogRequest { log_id: "act-7001".to_owned(), ..GetCallLogRequest::default() };
    let details = connector.get_call_log(&context(), request).await.unwrap();
    assert_eq!(details.subject.as_deref(), Some("Inbound Call from Grace Hopper"));
    assert_eq!(details.contact_name.as_deref(), Some("Grace Hopper"));
    assert!(details.full_body.unwrap().starts_with("- Note: asked about the renewal"));
    assert_eq!(details.full_log_response["contact_id"], "c-42");

    let request = UpdateCallLogRequest {
        log_id: "act-7001".to_owned(),
        subject: Some("Follow-up".to_owned()),
        note: Some("renewal agreed".to_owned()),
        composed_log_details: "- Note: renewal agreed\n".to_owned(),
        existing_log_details: Some(details.full_log_response),
        ..UpdateCallLogRequest::default()
    };
    let updated = connector.update_call_log(&context(), request).await.unwrap();
    assert_eq!(updated.updated_note.as_deref(), Some("renewal agreed"));
    assert_eq!(updated.return_message.unwrap().message, "Call log updated.");
}

#[tokio::test]
async fn each_error_status_class_maps_to_its_kind() {
    #[rustfmt::skip]
    let table = [
        (401, ErrorKind::Unauthorized, false),
        (404, ErrorKind::NotFound, false),
        (422, ErrorKind::Rejected, false),
        (429, ErrorKind::RateLimited, true),
        (503, ErrorKind::Upstream, true),
    ];
    for (status, kind, temporary) in table {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/activities/act-1"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("retry-after", "7")
                    .set_body_json(json!({"message": "no luck"})),
            )
            .expect(1)
            .mount(&server)
            .await;

        let request = GetCallLogRequest { log_id: "act-1".to_owned(), ..GetCallLogRequest::default() };
        let error = connector(&server).get_call_log(&context(), request).await.unwrap_err();

        assert_eq!((error.kind(), error.is_temporary(), error.status()), (kind, temporary, Some(status)), "{status}");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
        assert!(error.message().contains("no luck"), "{error}");
    }
}
