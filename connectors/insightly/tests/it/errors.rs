//! One test per error class Insightly answers with, and a CRM that cannot be reached: the error kind, whether it is
//! temporary (the host may retry later), `Retry-After`, and what the user sees in App Connect.

use std::time::Duration;

use callbridge_core::{ConnectorError, ErrorKind, MessageType, Operation};
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::call_log::create_request;
use crate::support::{connector_at, ctx, insightly, mount_fallback, start};

/// Creates a call log whose `POST /Events` gets `answer`.
async fn create_answered_with(answer: ResponseTemplate) -> ConnectorError {
    let harness = start().await;
    insightly("POST", "Events").respond_with(answer).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;
    harness.connector.create_call_log(&ctx(), create_request("contact", "101")).await.unwrap_err()
}

fn insightly_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "Message": message }))
}

#[track_caller]
fn assert_user_sees(error: &ConnectorError, headline: &str) {
    let message = error.to_return_message(Operation::CreateCallLog, "Insightly");
    assert_eq!(message.message, headline);
    assert_eq!(message.message_type, MessageType::Warning);
}

#[tokio::test]
async fn unauthorized_401() {
    let error = create_answered_with(insightly_error(401, "Authorization has been denied for this request.")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Unauthorized, false, Some(401)));
    assert!(error.message().contains("Authorization has been denied"), "{error}");
    assert_user_sees(&error, "Authorization error");
}

#[tokio::test]
async fn forbidden_403() {
    let error = create_answered_with(insightly_error(403, "User does not have permission")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Unauthorized, false, Some(403)));
    assert_user_sees(&error, "Authorization error");
}

#[tokio::test]
async fn not_found_404() {
    let error = create_answered_with(insightly_error(404, "Not Found")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::NotFound, false, Some(404)));
    assert_user_sees(&error, "Authorization error");
}

#[tokio::test]
async fn unprocessable_422() {
    let error = create_answered_with(insightly_error(422, "START_DATE_UTC is invalid")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Rejected, false, Some(422)));
    assert!(error.message().contains("START_DATE_UTC is invalid"), "{error}");
    assert_user_sees(&error, "Error creating call log");
}

#[tokio::test]
async fn rate_limited_429_with_retry_after() {
    let answer = insightly_error(429, "API request limit exceeded").insert_header("retry-after", "30");
    let error = create_answered_with(answer).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::RateLimited, true, Some(429)));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_user_sees(&error, "Rate limit exceeded");
}

#[tokio::test]
async fn server_error_5xx() {
    let error =
        create_answered_with(ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Upstream, true, Some(503)));
    assert!(error.message().contains("Service Unavailable"), "{error}");
    assert_user_sees(&error, "Error creating call log");
}

#[tokio::test]
async fn an_unreachable_insightly_is_a_temporary_error() {
    // A port that was just free: nothing listens on it.
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let connector = connector_at(&format!("http://{address}"), |config| config);
    let error = connector.create_call_log(&ctx(), create_request("contact", "101")).await.unwrap_err();
    assert!(error.is_temporary(), "{error}");
    assert_eq!(error.status(), None);
}
