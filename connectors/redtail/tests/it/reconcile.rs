//! Finding the activity an earlier create wrote, by the marker in its `location`, after an ambiguous outcome.

use callbridge_core::{CreateMessageLogRequest, ErrorKind, Message, RecordKey};
use serde_json::json;
use wiremock::matchers::{body_json, query_param};

use crate::support::{call_request, ctx, fixture, mount_create_and_complete, mount_fallback, ok, redtail, start};

fn activities_page(page: &str) -> wiremock::MockBuilder {
    redtail("GET", "/activities")
        .and(query_param("start_date", "2024-01-14"))
        .and(query_param("end_date", "2024-01-16"))
        .and(query_param("page", page))
}

#[tokio::test]
async fn finds_the_marked_activity_across_pages_and_finishes_its_completion() {
    let harness = start().await;
    activities_page("1").respond_with(ok(fixture!("activities_page1.json"))).expect(1).mount(&harness.server).await;
    activities_page("2").respond_with(ok(fixture!("activities_page2.json"))).expect(1).mount(&harness.server).await;
    redtail("PUT", "/activities/5550")
        .and(body_json(json!({ "completed": true })))
        .respond_with(ok(fixture!("activity_completed.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_created_call_log(&ctx(), &call_request("")).await.unwrap();

    assert_eq!(found.as_deref(), Some("5550"));
}

#[tokio::test]
async fn an_unmarked_day_means_no_record() {
    let harness = start().await;
    activities_page("1")
        .respond_with(ok(
            json!({ "activities": [{ "id": 1, "location": "callbridge:other-key" }], "meta": { "total_pages": 1 } }),
        ))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    assert_eq!(harness.connector.find_created_call_log(&ctx(), &call_request("")).await.unwrap(), None);
}

#[tokio::test]
async fn a_message_log_is_found_by_its_message_time() {
    let harness = start().await;
    activities_page("1")
        .respond_with(ok(json!({ "activities": [{ "id": 77, "completed": true, "location": "callbridge:msg-key" }] })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = CreateMessageLogRequest {
        record_key: RecordKey("msg-key".into()),
        message: Message { creation_time: Some("2024-01-15T09:00:00Z".into()), ..Message::default() },
        ..CreateMessageLogRequest::default()
    };
    assert_eq!(harness.connector.find_created_message_log(&ctx(), &request).await.unwrap().as_deref(), Some("77"));
}

#[tokio::test]
async fn without_a_record_key_nothing_is_looked_up() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let mut request = call_request("");
    request.record_key = RecordKey(String::new());
    let error = harness.connector.find_created_call_log(&ctx(), &request).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_create_without_a_record_key_writes_no_marker() {
    let harness = start().await;
    mount_create_and_complete(&harness.server).await;
    let mut request = call_request("<b>x</b>");
    request.record_key = RecordKey(String::new());
    harness.connector.create_call_log(&ctx(), request).await.unwrap();
    let sent = &crate::support::bodies(&harness.server, "POST", "/activities").await[0];
    assert!(sent.get("location").is_none(), "{sent}");
}
