//! Redtail down, slow or briefly rate limiting: what reaches Redtail, and how an ambiguous create is found again
//! instead of being made twice.

use std::time::Duration;

use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{ConnectorConfig, ErrorKind, FindContactRequest};
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::query_param;

use crate::support::{API_KEY, bodies, call_request, ctx, fixture, mount_fallback, ok, redtail, start_with_http};

fn retrying(request_timeout: Duration) -> HttpSettings {
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    HttpSettings { request_timeout, retry, ..HttpSettings::default() }
}

#[tokio::test]
async fn a_create_that_timed_out_is_not_repeated_and_is_found_by_its_marker() {
    let harness = start_with_http(retrying(Duration::from_millis(300)), |it| it.with_value("api_key", API_KEY)).await;
    // Redtail takes the activity but answers too late.
    redtail("POST", "/activities")
        .respond_with(ok(fixture!("activity_created.json")).set_delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/activities")
        .and(query_param("start_date", "2024-01-14"))
        .respond_with(ok(json!({ "activities": [{ "id": 5550, "completed": true, "location": "callbridge:key-1" }] })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let error = harness.connector.create_call_log(&ctx(), call_request("<b>x</b>")).await.unwrap_err();
    assert!(error.is_temporary(), "{error}");
    assert_eq!(bodies(&harness.server, "POST", "/activities").await.len(), 1, "a POST is never repeated blindly");
    assert_eq!(bodies(&harness.server, "POST", "/activities").await[0]["location"], "callbridge:key-1");

    let found = harness.connector.find_created_call_log(&ctx(), &call_request("<b>x</b>")).await.unwrap();
    assert_eq!(found.as_deref(), Some("5550"));
}

#[tokio::test]
async fn a_lookup_rides_out_a_brief_rate_limit() {
    let harness = start_with_http(retrying(Duration::from_secs(5)), |it| it.with_value("api_key", API_KEY)).await;
    redtail("GET", "/contacts/search_basic")
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/contacts/search_basic")
        .respond_with(ok(fixture!("contacts_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/lists/categories")
        .respond_with(ok(fixture!("categories.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = FindContactRequest { phone_number: "+14155551234".into(), ..FindContactRequest::default() };
    let found = harness.connector.find_contact(&ctx(), request).await.unwrap();
    assert_eq!(found.contacts.len(), 3);
}

#[tokio::test]
async fn redtail_down_is_a_temporary_error() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = retrying(Duration::from_secs(1));
    let http = HttpClient::new(&settings)
        .unwrap()
        .with_origin_override(Some(format!("http://127.0.0.1:{port}").parse().unwrap()))
        .with_retry(settings.retry.clone());
    let descriptor = callbridge_core::registry::get(connector_redtail::NAME).unwrap();
    let connector = (descriptor.build)(ConnectorConfig::new(http).with_value("api_key", API_KEY)).unwrap();
    let error = connector.create_call_log(&ctx(), call_request("<b>x</b>")).await.unwrap_err();
    assert_eq!((error.kind(), error.is_temporary()), (ErrorKind::Upstream, true), "{error}");
}
