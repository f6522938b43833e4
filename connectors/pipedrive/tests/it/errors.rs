//! One test per error class Pipedrive answers with: the error kind, whether it is temporary, and what the user
//! sees in App Connect.

use std::time::Duration;

use callbridge_core::{
    CallDuration, CallRecord, ConnectorError, CreateCallLogRequest, ErrorKind, LogContact, MessageType, Operation,
    StartTime,
};
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::{ctx, fixture, mount_fallback, ok, pipedrive, start};

/// Creates a call log whose final `POST /api/v2/activities` gets `answer`.
async fn create_call_log_answered_with(answer: ResponseTemplate) -> ConnectorError {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/101")
        .respond_with(ok(fixture!("person.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("POST", "/api/v2/activities").respond_with(answer).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;
    let request = CreateCallLogRequest {
        contact: LogContact {
            id: "101".into(),
            kind: "contact".into(),
            name: "Ada Lovelace".into(),
            phone_number: None,
        },
        call_log: CallRecord {
            start_time: Some(StartTime::Text("2024-05-01T07:30:00Z".into())),
            duration: Some(CallDuration::Seconds(60.into())),
            direction: Some("Inbound".into()),
            ..CallRecord::default()
        },
        composed_log_details: "<b>Agent notes</b><br>x<br><br><b>Call details</b><br>".into(),
        ..CreateCallLogRequest::default()
    };
    harness.connector.create_call_log(&ctx(), request).await.unwrap_err()
}

fn pipedrive_error(status: u16, error: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "success": false, "error": error, "data": null }))
}

#[track_caller]
fn assert_user_sees(error: &ConnectorError, headline: &str, detail_start: &str) {
    let message = error.to_return_message(Operation::CreateCallLog, "Pipedrive");
    assert_eq!(message.message, headline);
    assert_eq!(message.message_type, MessageType::Warning);
    let detail = &message.details.unwrap()[0].items[0].text;
    assert!(detail.starts_with(detail_start), "{detail}");
}

#[tokio::test]
async fn unauthorized_asks_the_user_to_reconnect() {
    let error = create_call_log_answered_with(pipedrive_error(401, "Unauthorized")).await;
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert!(!error.is_temporary());
    assert_eq!(error.message(), "pipedrive answered 401: Unauthorized");
    assert_user_sees(
        &error,
        "Authorization error",
        "It seems like there's something wrong with your authorization of Pipedrive.",
    );
}

#[tokio::test]
async fn not_found_is_reported_with_app_connect_wording() {
    let error = create_call_log_answered_with(pipedrive_error(404, "Person not found")).await;
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(!error.is_temporary());
    // App Connect reads every 400 to 409 as an authorization problem.
    assert_user_sees(&error, "Authorization error", "It seems like there's something wrong");
}

#[tokio::test]
async fn validation_failure_is_rejected() {
    let error = create_call_log_answered_with(pipedrive_error(422, "Invalid deal_id")).await;
    assert_eq!(error.kind(), ErrorKind::Rejected);
    assert!(!error.is_temporary());
    assert_eq!(error.message(), "pipedrive answered 422: Invalid deal_id");
    assert_user_sees(&error, "Error creating call log", "Please check if your account has permission to CREATE logs.");
}

#[tokio::test]
async fn rate_limit_is_temporary_and_keeps_retry_after() {
    let answer = pipedrive_error(429, "Too many requests").insert_header("retry-after", "7");
    let error = create_call_log_answered_with(answer).await;
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert!(error.is_temporary());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert_user_sees(
        &error,
        "Rate limit exceeded",
        "You have exceeded the maximum number of requests allowed by Pipedrive.",
    );
}

#[tokio::test]
async fn server_error_is_temporary() {
    let error = create_call_log_answered_with(ResponseTemplate::new(500).set_body_string("upstream exploded")).await;
    assert_eq!(error.kind(), ErrorKind::Upstream);
    assert!(error.is_temporary());
    assert_eq!(error.status(), Some(500));
    assert_eq!(error.message(), "pipedrive answered 500: upstream exploded");
    assert_user_sees(&error, "Error creating call log", "Please check if your account has permission to CREATE logs.");
}

#[tokio::test]
async fn an_unreadable_success_body_is_an_upstream_error() {
    let error =
        create_call_log_answered_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>")).await;
    assert_eq!(error.kind(), ErrorKind::Upstream);
}
