//! Faults on the write path: Clio down, slow (an ambiguous outcome the host reconciles) and rate limiting.

use std::time::Duration;

use callbridge_core::http::{HttpSettings, RetryPolicy};
use callbridge_core::{CallRecord, CreateCallLogRequest, ErrorKind, LogContact, RecordKey};
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::query_param;

use crate::support::{clio, context, data, mount_fallback, received, start, start_with};

fn create_request() -> CreateCallLogRequest {
    CreateCallLogRequest {
        record_key: RecordKey("call:s-1:ext-1".into()),
        contact: LogContact { id: "101".into(), phone_number: None, kind: "Person".into(), name: "Ada".into() },
        call_log: CallRecord { direction: Some("Inbound".into()), ..Default::default() },
        composed_log_details: "- Note: hi\n".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn clio_down_on_create_writes_no_time_entry() {
    let (server, connector) = start().await;
    clio("POST", "/api/v4/communications.json").respond_with(ResponseTemplate::new(503)).expect(1).mount(&server).await;
    mount_fallback(&server).await;
    let error = connector.create_call_log(&context(), create_request()).await.unwrap_err();
    assert_eq!((error.kind(), error.is_temporary(), error.status()), (ErrorKind::Upstream, true, Some(503)));
    assert!(received(&server, "POST", "/api/v4/activities.json").await.is_empty());
}

#[tokio::test]
async fn a_slow_create_is_not_repeated_and_reconciliation_finds_it() {
    // Retries on, and a timeout shorter than Clio's answer: the create may have happened, so it must not be sent
    // again; the host then asks for the record by its key.
    let settings = HttpSettings { request_timeout: Duration::from_millis(300), ..HttpSettings::default() };
    let (server, connector) = start_with(settings).await;
    clio("POST", "/api/v4/communications.json")
        .respond_with(data(json!({ "id": 301 })).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    clio("GET", "/api/v4/communications.json")
        .and(query_param("external_property_value", "call:s-1:ext-1"))
        .respond_with(data(json!([{ "id": 301 }])))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let error = connector.create_call_log(&context(), create_request()).await.unwrap_err();
    assert!(error.is_temporary(), "{error}");
    assert_eq!(received(&server, "POST", "/api/v4/communications.json").await.len(), 1, "a POST is not retried");
    let found = connector.find_created_call_log(&context(), &create_request()).await.unwrap();
    assert_eq!(found.as_deref(), Some("301"));
}

#[tokio::test]
async fn a_rate_limited_create_is_sent_again_after_retry_after() {
    let retry = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
    let (server, connector) = start_with(HttpSettings { retry, ..HttpSettings::default() }).await;
    clio("POST", "/api/v4/communications.json")
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    clio("POST", "/api/v4/communications.json").respond_with(data(json!({ "id": 301 }))).mount(&server).await;
    clio("POST", "/api/v4/activities.json").respond_with(data(json!({ "id": 401 }))).expect(1).mount(&server).await;
    mount_fallback(&server).await;
    let created = connector.create_call_log(&context(), create_request()).await.unwrap();
    assert_eq!(created.log_id, "301");
    assert_eq!(received(&server, "POST", "/api/v4/communications.json").await.len(), 2);
}
