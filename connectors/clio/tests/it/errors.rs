//! One test per error class Clio answers with: what kind of error each becomes and what the extension shows.

use std::time::Duration;

use callbridge_core::{ErrorKind, FindContactRequest, Operation};
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::{clio, context, mount_fallback, start};

/// Looks a number up against a Clio that answers `answer`, and returns the error.
async fn lookup_error(answer: ResponseTemplate) -> callbridge_core::ConnectorError {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/contacts.json").respond_with(answer).expect(1).mount(&server).await;
    mount_fallback(&server).await;
    let request = FindContactRequest { phone_number: "+14155550100".into(), ..Default::default() };
    connector.find_contact(&context(), request).await.unwrap_err()
}

fn clio_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": { "type": kind, "message": message } }))
}

#[tokio::test]
async fn unauthorized_401_asks_to_reconnect() {
    let error = lookup_error(clio_error(401, "Unauthorized", "The access token is invalid")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Unauthorized, false, Some(401)));
    assert_eq!(error.to_return_message(Operation::FindContact, "clio").message, "Authorization error");
}

#[tokio::test]
async fn forbidden_403_is_an_authorization_error() {
    let error = lookup_error(clio_error(403, "Forbidden", "Missing contacts scope")).await;
    assert_eq!((error.kind(), error.is_temporary()), (ErrorKind::Unauthorized, false));
    assert!(error.message().contains("Missing contacts scope"), "{error}");
    assert_eq!(error.to_return_message(Operation::FindContact, "clio").message, "Authorization error");
}

#[tokio::test]
async fn not_found_404_is_not_temporary() {
    let error = lookup_error(clio_error(404, "RecordNotFound", "Not found")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::NotFound, false, Some(404)));
}

#[tokio::test]
async fn unprocessable_422_is_rejected() {
    let error = lookup_error(clio_error(422, "InvalidRequest", "query is invalid")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Rejected, false, Some(422)));
    assert_eq!(error.message(), "clio answered 422: InvalidRequest: query is invalid");
}

#[tokio::test]
async fn rate_limited_429_carries_retry_after() {
    let answer = ResponseTemplate::new(429)
        .insert_header("retry-after", "7")
        .set_body_json(json!({ "message": "Too Many Requests" }));
    let error = lookup_error(answer).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::RateLimited, true, Some(429)));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(error.to_return_message(Operation::FindContact, "clio").message, "Rate limit exceeded");
}

#[tokio::test]
async fn server_errors_5xx_are_temporary() {
    let error = lookup_error(ResponseTemplate::new(503).set_body_string("<html>down</html>")).await;
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Upstream, true, Some(503)));
    assert_eq!(error.to_return_message(Operation::FindContact, "clio").message, "Error finding contact");
}
