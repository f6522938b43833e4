//! One test per error class Redtail answers with: what the user sees, and whether the host may retry later.

use std::time::Duration;

use callbridge_core::{ErrorKind, Operation};
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::{call_request, ctx, mount_fallback, redtail, start};

/// Creates a call log against a Redtail that answers the create with `answer`.
async fn create_with(answer: ResponseTemplate) -> callbridge_core::ConnectorError {
    let harness = start().await;
    redtail("POST", "/activities").respond_with(answer).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;
    harness.connector.create_call_log(&ctx(), call_request("<b>x</b>")).await.unwrap_err()
}

fn headline(error: &callbridge_core::ConnectorError) -> String {
    error.to_return_message(Operation::CreateCallLog, "Redtail").message
}

#[tokio::test]
async fn unauthorized_401() {
    let error = create_with(ResponseTemplate::new(401).set_body_json(json!({ "message": "Invalid user key" }))).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Unauthorized, false, Some(401)));
    assert_eq!(error.message(), "redtail answered 401: Invalid user key");
    assert_eq!(headline(&error), "Authorization error");
}

#[tokio::test]
async fn forbidden_403() {
    let error = create_with(ResponseTemplate::new(403).set_body_string("Forbidden")).await;
    assert_eq!((error.kind(), error.is_temporary()), (ErrorKind::Unauthorized, false));
    assert_eq!(headline(&error), "Authorization error");
}

#[tokio::test]
async fn not_found_404() {
    let error = create_with(ResponseTemplate::new(404)).await;
    assert_eq!((error.kind(), error.is_temporary()), (ErrorKind::NotFound, false));
    assert_eq!(headline(&error), "Authorization error", "App Connect's mapping: 400 to 409 read as authorization");
}

#[tokio::test]
async fn unprocessable_422() {
    let error =
        create_with(ResponseTemplate::new(422).set_body_json(json!({ "errors": { "start_date": ["is invalid"] } })))
            .await;
    assert_eq!((error.kind(), error.is_temporary()), (ErrorKind::Rejected, false));
    assert!(error.message().contains("start_date"), "{}", error.message());
    assert_eq!(headline(&error), "Error creating call log");
}

#[tokio::test]
async fn rate_limited_429_keeps_retry_after() {
    let error = create_with(ResponseTemplate::new(429).insert_header("retry-after", "7")).await;
    assert_eq!((error.kind(), error.is_temporary()), (ErrorKind::RateLimited, true));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(headline(&error), "Rate limit exceeded");
}

#[tokio::test]
async fn server_error_5xx_is_temporary() {
    let error = create_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Upstream, true, Some(500)));
    assert_eq!(headline(&error), "Error creating call log");
}
