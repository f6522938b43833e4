//! Call logs: the activity Pipedrive receives on create, the activity type choice and its cache, reading a log
//! back, updates and dispositions.

use callbridge_core::{
    CallDuration, CallRecord, CreateCallLogRequest, DispositionRequest, ErrorKind, GetCallLogRequest, LogContact,
    MessageType, Operation, StartTime, UpdateCallLogRequest,
};
use serde_json::{Map, Value, json};
use wiremock::matchers::body_json;

use crate::support::{ctx, ctx_with_admin_setting, fixture, mount_fallback, ok, pipedrive, start};

const NOTE: &str =
    "<b>Agent notes</b><br>Discussed &lt;pricing&gt;<br><br><b>Call details</b><br><li><b>Duration</b>: 5 minutes</li>";
const LEAD_ID: &str = "adf21080-0e10-11eb-879b-05d71fb426ec";

fn submission(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn ada() -> LogContact {
    LogContact {
        id: "101".into(),
        phone_number: Some("+14155550100".into()),
        kind: "contact".into(),
        name: "Ada Lovelace".into(),
    }
}

fn inbound_call(seconds: u64) -> CreateCallLogRequest {
    CreateCallLogRequest {
        contact: ada(),
        call_log: CallRecord {
            session_id: Some("931929965510".into()),
            start_time: Some(StartTime::Text("2024-05-01T07:30:00.000Z".into())),
            duration: Some(CallDuration::Seconds(seconds.into())),
            direction: Some("Inbound".into()),
            result: Some("Call connected".into()),
            ..CallRecord::default()
        },
        additional_submission: submission(json!({ "deals": 201 })),
        composed_log_details: NOTE.into(),
        ..CreateCallLogRequest::default()
    }
}

/// The activity `inbound_call(300)` must produce, with `changes` applied.
fn expected_activity(changes: Value) -> Value {
    let mut activity = json!({
        "owner_id": 12345,
        "subject": "Inbound Call from Ada Lovelace",
        "duration": "00:06",
        "deal_id": 201,
        "org_id": 55,
        "note": NOTE,
        "done": true,
        "due_date": "2024-05-01",
        "due_time": "07:30",
        "participants": [{ "person_id": 101, "primary": true }],
        "type": "call"
    });
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            activity.as_object_mut().unwrap().remove(key);
        } else {
            activity[key] = value.clone();
        }
    }
    activity
}

#[tokio::test]
async fn creates_a_call_activity() {
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
    pipedrive("POST", "/api/v2/activities")
        .and(body_json(expected_activity(json!({}))))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let created = harness.connector.create_call_log(&ctx(), inbound_call(300)).await.unwrap();
    assert_eq!(created.log_id, "401");
    let message = created.return_message.unwrap();
    assert_eq!(
        (message.message.as_str(), message.message_type, message.ttl),
        ("Call logged", MessageType::Success, 2000)
    );
}

#[tokio::test]
async fn a_lead_is_linked_when_no_deal_is_chosen() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/101")
        .respond_with(ok(fixture!("person_without_org.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("POST", "/api/v2/activities")
        .and(body_json(expected_activity(json!({
            "subject": "Outbound Call to Ada Lovelace",
            "duration": "00:00",
            "deal_id": null,
            "lead_id": LEAD_ID,
            "org_id": null
        }))))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let mut request = inbound_call(0);
    request.call_log.direction = Some("Outbound".into());
    // Server-side logging sends `pending` while the call goes on; App Connect writes 00:00 for it.
    request.call_log.duration = Some(CallDuration::Text("pending".into()));
    request.additional_submission = submission(json!({ "deals": "", "leads": LEAD_ID }));
    harness.connector.create_call_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn a_custom_subject_and_long_call_are_written_as_given() {
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
    pipedrive("POST", "/api/v2/activities")
        .and(body_json(expected_activity(json!({ "subject": "Quarterly review", "duration": "01:16" }))))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let mut request = inbound_call(4500);
    request.call_log.custom_subject = Some("Quarterly review".into());
    harness.connector.create_call_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn the_admin_chosen_activity_type_wins() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/101")
        .respond_with(ok(fixture!("person.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types_with_special.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("POST", "/api/v2/activities")
        .and(body_json(expected_activity(json!({ "type": "special_call" }))))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let ctx = ctx_with_admin_setting("pipedriveCallActivityType", "special_call");
    harness.connector.create_call_log(&ctx, inbound_call(300)).await.unwrap();
}

#[tokio::test]
async fn activity_types_are_cached_and_refreshed_once_when_the_admin_choice_is_missing() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/101")
        .respond_with(ok(fixture!("person.json")))
        .expect(3)
        .mount(&harness.server)
        .await;
    // The first list predates the admin's new type; the second has it.
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types.json")))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types_with_special.json")))
        .expect(1)
        .with_priority(2)
        .mount(&harness.server)
        .await;
    pipedrive("POST", "/api/v2/activities")
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(3)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    // Two logs share one fetch of the list.
    harness.connector.create_call_log(&ctx(), inbound_call(300)).await.unwrap();
    harness.connector.create_call_log(&ctx(), inbound_call(300)).await.unwrap();
    // The admin's choice is not in the cached list: fetched again once, then found.
    let ctx = ctx_with_admin_setting("pipedriveCallActivityType", "special_call");
    harness.connector.create_call_log(&ctx, inbound_call(300)).await.unwrap();

    let types: Vec<Value> = crate::support::bodies(&harness.server, "POST", "/api/v2/activities")
        .await
        .into_iter()
        .map(|it| it["type"].clone())
        .collect();
    assert_eq!(types, [json!("call"), json!("call"), json!("special_call")]);
}

#[tokio::test]
async fn without_a_call_activity_type_the_reference_error_is_shown_and_nothing_is_written() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/101")
        .respond_with(ok(fixture!("person.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    // A freshly fetched list is not fetched again.
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types_without_call.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("POST", "/api/v2/activities")
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(0)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let error = harness.connector.create_call_log(&ctx(), inbound_call(300)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected);
    let message = error.to_return_message(Operation::CreateCallLog, "Pipedrive");
    assert_eq!(
        message.message,
        "Call logging requires an active activity type containing the word \"call\" (case insensitive), or one explicitly assigned by an admin under Admin > Account settings."
    );
    assert_eq!((message.message_type, message.ttl), (MessageType::Error, 2000));
}

#[tokio::test]
async fn a_contact_id_that_is_not_a_person_id_is_refused_before_any_request() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let mut request = inbound_call(300);
    request.contact.id = "../deals/1".into();
    let error = harness.connector.create_call_log(&ctx(), request).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn reads_a_call_log_back() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/activities/401")
        .respond_with(ok(fixture!("activity.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request =
        GetCallLogRequest { log_id: "401".into(), session_id: "931929965510".into(), ..GetCallLogRequest::default() };
    let log = harness.connector.get_call_log(&ctx(), request).await.unwrap();
    let activity = fixture!("activity.json");
    assert_eq!(log.subject.as_deref(), Some("Inbound Call from Ada Lovelace"));
    assert_eq!(log.note.as_deref(), Some("Test note & <follow-up>second line"));
    assert_eq!(log.contact_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(log.dispositions, Some(json!({ "deals": 201, "leads": null })));
    assert_eq!(log.full_body.as_deref(), activity["data"]["note"].as_str());
    assert_eq!(log.full_log_response, activity["data"]);
}

#[tokio::test]
async fn a_log_without_related_person_reads_as_unknown() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/activities/402")
        .respond_with(ok(fixture!("activity_without_related.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = GetCallLogRequest { log_id: "402".into(), ..GetCallLogRequest::default() };
    let log = harness.connector.get_call_log(&ctx(), request).await.unwrap();
    assert_eq!(log.contact_name.as_deref(), Some("Unknown"));
    assert_eq!(log.note.as_deref(), Some(""));
    assert_eq!(log.dispositions, Some(json!({ "deals": null, "leads": LEAD_ID })));
}

#[tokio::test]
async fn updates_note_subject_and_duration() {
    let harness = start().await;
    pipedrive("PATCH", "/api/v2/activities/401")
        .and(body_json(json!({ "note": NOTE, "subject": "Follow-up", "duration": "00:03" })))
        .respond_with(ok(fixture!("activity_updated.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateCallLogRequest {
        log_id: "401".into(),
        subject: Some("Follow-up".into()),
        duration: Some(CallDuration::Seconds(125.into())),
        composed_log_details: NOTE.into(),
        ..UpdateCallLogRequest::default()
    };
    let updated = harness.connector.update_call_log(&ctx(), request).await.unwrap();
    assert_eq!(updated.updated_note.as_deref(), Some(NOTE));
    let message = updated.return_message.unwrap();
    assert_eq!((message.message.as_str(), message.ttl), ("Call log updated.", 2000));
}

#[tokio::test]
async fn an_update_without_subject_or_duration_sends_only_the_note() {
    let harness = start().await;
    pipedrive("PATCH", "/api/v2/activities/401")
        .and(body_json(json!({ "note": NOTE })))
        .respond_with(ok(fixture!("activity_updated.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateCallLogRequest {
        log_id: "401".into(),
        subject: Some(String::new()),
        duration: Some(CallDuration::Seconds(0.into())),
        composed_log_details: NOTE.into(),
        ..UpdateCallLogRequest::default()
    };
    harness.connector.update_call_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn a_deal_disposition_clears_the_lead_and_the_other_way_round() {
    let harness = start().await;
    pipedrive("PATCH", "/api/v2/activities/401")
        .and(body_json(json!({ "deal_id": 202, "lead_id": null })))
        .respond_with(ok(fixture!("activity_updated.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("PATCH", "/api/v2/activities/401")
        .and(body_json(json!({ "lead_id": LEAD_ID, "deal_id": null })))
        .respond_with(ok(fixture!("activity_updated.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let deal = DispositionRequest {
        log_id: "401".into(),
        dispositions: submission(json!({ "deals": "202", "leads": LEAD_ID })),
    };
    assert_eq!(harness.connector.upsert_call_disposition(&ctx(), deal).await.unwrap().log_id.as_deref(), Some("401"));
    let lead = DispositionRequest { log_id: "401".into(), dispositions: submission(json!({ "leads": LEAD_ID })) };
    assert_eq!(harness.connector.upsert_call_disposition(&ctx(), lead).await.unwrap().log_id.as_deref(), Some("401"));
}

#[tokio::test]
async fn no_disposition_means_no_request() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let none =
        DispositionRequest { log_id: "401".into(), dispositions: submission(json!({ "note": "x", "deals": null })) };
    assert_eq!(harness.connector.upsert_call_disposition(&ctx(), none).await.unwrap().log_id, None);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}
