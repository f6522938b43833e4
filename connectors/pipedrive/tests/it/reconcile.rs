//! Reconciliation: a created activity carries the host's record key, and a later lookup finds it by that key
//! among the person's newest activities of the user, so a retry after an unknown outcome never makes a second one.

use callbridge_core::connector::RecordKey;
use callbridge_core::{CallRecord, CreateCallLogRequest, LogContact};
use serde_json::json;
use wiremock::matchers::{body_partial_json, query_param};

use crate::support::{ctx, fixture, mount_fallback, ok, pipedrive, start};

const KEY: &str = "cb1d0e1f2a3b4c5d6e7f8091a2b3c4d5";

fn call_with_key() -> CreateCallLogRequest {
    CreateCallLogRequest {
        record_key: RecordKey(KEY.to_owned()),
        contact: LogContact { id: "101".into(), name: "Ada Lovelace".into(), ..LogContact::default() },
        call_log: CallRecord { direction: Some("Inbound".into()), ..CallRecord::default() },
        composed_log_details: "<b>Agent notes</b><br>hi".into(),
        ..CreateCallLogRequest::default()
    }
}

fn listing(ids_and_markers: &[(u64, Option<&str>)]) -> serde_json::Value {
    let data: Vec<_> = ids_and_markers
        .iter()
        .map(
            |(id, marker)| json!({"id": id, "subject": "Inbound Call from Ada Lovelace", "public_description": marker}),
        )
        .collect();
    json!({"success": true, "data": data, "additional_data": {"next_cursor": null}})
}

#[tokio::test]
async fn the_key_travels_with_the_activity_outside_the_note() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/101").respond_with(ok(fixture!("person.json"))).mount(&harness.server).await;
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types.json")))
        .mount(&harness.server)
        .await;
    pipedrive("POST", "/api/v2/activities")
        .and(body_partial_json(json!({
            "note": "<b>Agent notes</b><br>hi",
            "public_description": format!("callbridge:{KEY}"),
        })))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let created = harness.connector.create_call_log(&ctx(), call_with_key()).await.unwrap();
    assert_eq!(created.log_id, "401");
}

#[tokio::test]
async fn finds_the_activity_with_the_key_among_the_persons_newest() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/activities")
        .and(query_param("person_id", "101"))
        .and(query_param("owner_id", "12345"))
        .and(query_param("sort_by", "id"))
        .and(query_param("sort_direction", "desc"))
        .respond_with(ok(listing(&[(9, None), (8, Some("callbridge:other")), (7, Some(&format!("callbridge:{KEY}")))])))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let found = harness.connector.find_created_call_log(&ctx(), &call_with_key()).await.unwrap();
    assert_eq!(found.as_deref(), Some("7"));
}

#[tokio::test]
async fn no_activity_with_the_key_means_none_was_made() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/activities")
        .respond_with(ok(listing(&[(9, None), (8, Some("callbridge:other"))])))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    assert_eq!(harness.connector.find_created_call_log(&ctx(), &call_with_key()).await.unwrap(), None);
}

#[tokio::test]
async fn an_empty_listing_reads_as_none_and_a_failure_is_reported() {
    let harness = start().await;
    // Pipedrive answers `data: null` for a person without activities.
    pipedrive("GET", "/api/v2/activities")
        .respond_with(ok(json!({"success": true, "data": null})))
        .up_to_n_times(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    assert_eq!(harness.connector.find_created_call_log(&ctx(), &call_with_key()).await.unwrap(), None);
    // The fallback answers 500: the host must learn that it could not tell, not that nothing exists.
    let error = harness.connector.find_created_call_log(&ctx(), &call_with_key()).await.unwrap_err();
    assert!(error.is_temporary(), "{error}");
}

#[tokio::test]
async fn the_lookup_follows_the_cursor_to_older_pages() {
    let harness = start().await;
    let mut first = listing(&[(9, None), (8, Some("callbridge:other"))]);
    first["additional_data"]["next_cursor"] = json!("page-2");
    pipedrive("GET", "/api/v2/activities")
        .and(query_param("limit", "100"))
        .and(wiremock::matchers::query_param_is_missing("cursor"))
        .respond_with(ok(first))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/api/v2/activities")
        .and(query_param("cursor", "page-2"))
        .respond_with(ok(listing(&[(7, Some(&format!("callbridge:{KEY}")))])))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let found = harness.connector.find_created_call_log(&ctx(), &call_with_key()).await.unwrap();
    assert_eq!(found.as_deref(), Some("7"));
}
