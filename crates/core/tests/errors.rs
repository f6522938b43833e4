//! `ConnectorError::to_return_message` against App Connect's standard handler error mapping (spec section 1.1),
//! text by text, plus the error's kind, status and temporary rules.

use std::time::Duration;

use callbridge_core::{ConnectorError, ErrorKind, MessageType, Operation, ReturnMessage};
use serde_json::{Value, json};

/// The wire JSON of the message the extension gets when `error` ends `operation` on Pipedrive.
fn shown(error: &ConnectorError, operation: Operation) -> Value {
    serde_json::to_value(error.to_return_message(operation, "pipedrive")).unwrap()
}

fn warning(message: &str, detail: &str) -> Value {
    json!({
        "message": message,
        "messageType": "warning",
        "ttl": 5000,
        "details": [{"title": "Details", "items": [{"id": "1", "type": "text", "text": detail}]}]
    })
}

fn rate_limit_message() -> Value {
    warning(
        "Rate limit exceeded",
        "You have exceeded the maximum number of requests allowed by pipedrive. Please try again in the next minute. \
         If the problem persists please contact support.",
    )
}

fn authorization_message() -> Value {
    warning(
        "Authorization error",
        "It seems like there's something wrong with your authorization of pipedrive. \
         Please Logout and then Connect your pipedrive account within this extension.",
    )
}

#[test]
fn an_upstream_429_is_rate_limit_exceeded_for_every_operation() {
    let error = ConnectorError::from_status(429, "too many requests");
    for operation in Operation::ALL {
        assert_eq!(shown(&error, operation), rate_limit_message(), "{operation}");
    }
}

#[test]
fn an_upstream_400_to_409_is_an_authorization_error() {
    for status in 400..=409 {
        let error = ConnectorError::from_status(status, "refused");
        assert_eq!(shown(&error, Operation::CreateCallLog), authorization_message(), "status {status}");
        assert_eq!(shown(&error, Operation::FindContact), authorization_message(), "status {status}");
    }
}

/// Every operation's own headline and detail, as spec section 1.1 lists them.
fn operation_texts() -> Vec<(Operation, &'static str, &'static str)> {
    let edit = "Please check if the log entity still exists on pipedrive and your account has permission to EDIT logs.";
    let necessary = "Please check if your account has the necessary permissions.";
    vec![
        (
            Operation::CreateCallLog,
            "Error creating call log",
            "Please check if your account has permission to CREATE logs.",
        ),
        (Operation::UpdateCallLog, "Error updating call log", edit),
        (Operation::GetCallLog, "Error getting call log", "Please check if your account has permission to READ logs."),
        (
            Operation::CreateMessageLog,
            "Error creating message log",
            "Please check if your account has permission to CREATE logs.",
        ),
        (Operation::UpdateMessageLog, "Error updating message log", edit),
        (
            Operation::FindContact,
            "Error finding contact",
            "Please check if your account has permission to GET contacts.",
        ),
        (
            Operation::CreateContact,
            "Error creating contact",
            "Please check if your account has permission to CREATE contacts.",
        ),
        (
            Operation::FindContactWithName,
            "Error searching contacts",
            "Please check if your account has permission to GET contacts.",
        ),
        (Operation::GetOauthInfo, "Error performing getOauthInfo", necessary),
        (Operation::GetBasicAuth, "Error performing getBasicAuth", necessary),
        (Operation::GetUserInfo, "Error performing getUserInfo", necessary),
        (Operation::UpsertCallDisposition, "Error performing upsertCallDisposition", necessary),
        (Operation::Unauthorize, "Error performing unAuthorize", necessary),
        (Operation::GetUserList, "Error performing getUserList", necessary),
        (Operation::RefreshToken, "Error performing checkAndRefreshAccessToken", necessary),
        (Operation::FindCreatedRecord, "Error performing findCreatedRecord", necessary),
    ]
}

#[test]
fn the_table_covers_every_operation() {
    let covered: Vec<Operation> = operation_texts().iter().map(|it| it.0).collect();
    for operation in Operation::ALL {
        assert!(covered.contains(&operation), "{operation} has no expected texts");
    }
}

#[test]
fn other_statuses_get_the_operations_own_message() {
    for status in [410, 422, 500, 502, 503] {
        let error = ConnectorError::from_status(status, "failed");
        for (operation, message, detail) in operation_texts() {
            assert_eq!(shown(&error, operation), warning(message, detail), "{operation} after {status}");
        }
    }
}

#[test]
fn errors_without_a_status_fall_back_on_their_kind() {
    let rate_limited = ConnectorError::new(ErrorKind::RateLimited, "slow down");
    assert_eq!(shown(&rate_limited, Operation::CreateCallLog), rate_limit_message());

    let unauthorized = ConnectorError::new(ErrorKind::Unauthorized, "no token");
    assert_eq!(shown(&unauthorized, Operation::GetCallLog), authorization_message());

    let check = "Please check if your account has permission to READ logs.";
    for kind in
        [ErrorKind::NotFound, ErrorKind::Rejected, ErrorKind::Upstream, ErrorKind::Config, ErrorKind::Unsupported]
    {
        let error = ConnectorError::new(kind, "something");
        assert_eq!(shown(&error, Operation::GetCallLog), warning("Error getting call log", check), "{kind}");
    }
}

#[test]
fn the_status_wins_over_the_kind() {
    // A connector may call a 401 "rejected" or a 503 "rate limited"; the extension shows what the status means.
    let error = ConnectorError::new(ErrorKind::RateLimited, "busy").with_status(503);
    assert_eq!(
        shown(&error, Operation::FindContact),
        warning("Error finding contact", "Please check if your account has permission to GET contacts.")
    );
    let error = ConnectorError::new(ErrorKind::Upstream, "odd").with_status(401);
    assert_eq!(shown(&error, Operation::FindContact), authorization_message());
}

#[test]
fn the_connectors_own_return_message_wins() {
    let own = ReturnMessage::warning("Could not find a deal for this contact", 3000).with_details("Hint", &["a", "b"]);
    for status in [429, 401, 500] {
        let error = ConnectorError::from_status(status, "anything").with_return_message(own.clone());
        assert_eq!(error.to_return_message(Operation::CreateCallLog, "pipedrive"), own, "status {status}");
    }
    let wire = serde_json::to_value(&own).unwrap();
    assert_eq!(wire["details"][0]["items"][1], json!({"id": "2", "type": "text", "text": "b"}));
}

#[test]
fn the_platform_name_is_inserted_as_given() {
    let message = ConnectorError::from_status(429, "x").to_return_message(Operation::FindContact, "clio");
    assert_eq!(message.message_type, MessageType::Warning);
    let detail = &message.details.unwrap()[0].items[0].text;
    assert!(detail.contains("allowed by clio."), "{detail}");
}

#[test]
fn kind_and_temporary_follow_the_status() {
    #[rustfmt::skip]
    let table = [
        (400, ErrorKind::Rejected, false),
        (401, ErrorKind::Unauthorized, false),
        (403, ErrorKind::Unauthorized, false),
        (404, ErrorKind::NotFound, false),
        (409, ErrorKind::Rejected, false),
        (422, ErrorKind::Rejected, false),
        (429, ErrorKind::RateLimited, true),
        (500, ErrorKind::Upstream, true),
        (502, ErrorKind::Upstream, true),
        (503, ErrorKind::Upstream, true),
        (504, ErrorKind::Upstream, true),
    ];
    for (status, kind, temporary) in table {
        let error = ConnectorError::from_status(status, "x");
        assert_eq!((error.kind(), error.is_temporary(), error.status()), (kind, temporary, Some(status)), "{status}");
    }
}

#[test]
fn display_names_kind_message_and_status() {
    let error = ConnectorError::from_status(404, "person 7 not found");
    assert_eq!(error.to_string(), "not_found: person 7 not found (upstream status 404)");
    assert_eq!(ConnectorError::config("client_id is missing").to_string(), "config: client_id is missing");
}

#[test]
fn builders_keep_what_they_are_given() {
    let error = ConnectorError::upstream("socket closed")
        .temporary(true)
        .with_retry_after(Some(Duration::from_secs(3)))
        .with_source(std::io::Error::other("reset"));
    assert!(error.is_temporary());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(std::error::Error::source(&error).unwrap().to_string(), "reset");
    assert!(ConnectorError::new(ErrorKind::RateLimited, "x").is_temporary());
    assert_eq!(
        ConnectorError::unsupported(Operation::GetUserList).to_string(),
        "unsupported: getUserList is not supported by this connector"
    );
}

#[test]
fn a_crm_response_maps_its_status_to_kind_and_temporary_flag() {
    #[rustfmt::skip]
    let rows: [(u16, ErrorKind, bool); 12] = [
        (400, ErrorKind::Rejected, false), (401, ErrorKind::Unauthorized, false), (402, ErrorKind::Rejected, false),
        (403, ErrorKind::Unauthorized, false), (404, ErrorKind::NotFound, false), (409, ErrorKind::Rejected, false),
        (410, ErrorKind::Rejected, false), (422, ErrorKind::Rejected, false), (429, ErrorKind::RateLimited, true),
        (500, ErrorKind::Upstream, true), (503, ErrorKind::Upstream, true), (302, ErrorKind::Upstream, false),
    ];
    for (status, kind, temporary) in rows {
        let error = ConnectorError::from_crm_response("acme", http::StatusCode::from_u16(status).unwrap(), b"{}", None);
        assert_eq!((error.kind(), error.is_temporary(), error.status()), (kind, temporary, Some(status)), "{status}");
    }
}

#[test]
fn a_crm_response_message_prefers_the_detail_then_an_excerpt_then_the_reason() {
    use http::StatusCode;
    let error =
        ConnectorError::from_crm_response("acme", StatusCode::UNPROCESSABLE_ENTITY, b"{}", Some("bad id".into()));
    assert_eq!(error.message(), "acme answered 422: bad id");
    let error = ConnectorError::from_crm_response("acme", StatusCode::BAD_GATEWAY, b" <html>bad</html>\n", None);
    assert_eq!(error.message(), "acme answered 502: <html>bad</html>");
    let error = ConnectorError::from_crm_response("acme", StatusCode::SERVICE_UNAVAILABLE, b"", Some(String::new()));
    assert_eq!(error.message(), "acme answered 503: Service Unavailable");
    let long = "é".repeat(1000);
    let error = ConnectorError::from_crm_response("acme", StatusCode::INTERNAL_SERVER_ERROR, long.as_bytes(), None);
    let excerpt = error.message().strip_prefix("acme answered 500: ").unwrap();
    assert_eq!(excerpt.chars().count(), callbridge_core::error::BODY_EXCERPT_CHARS + 3);
    assert!(excerpt.ends_with("..."));
}

#[tokio::test]
async fn a_crm_response_through_the_client_carries_retry_after() {
    use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .mount(&server)
        .await;
    let client = HttpClient::new(&HttpSettings::default())
        .unwrap()
        .with_retry(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    let error = client
        .get(&format!("{}/x", server.uri()))
        .send()
        .await
        .unwrap()
        .error_for_status(|status, body| ConnectorError::from_crm_response("acme", status, body, None))
        .unwrap_err();
    assert_eq!((error.kind(), error.retry_after()), (ErrorKind::RateLimited, Some(Duration::from_secs(7))));
}
