//! Call logs: create (activity, note, completion), read back, update, and the category as disposition.

use callbridge_core::{
    CallDuration, DispositionRequest, GetCallLogRequest, MessageType, StartTime, UpdateCallLogRequest,
};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, header, query_param};

use crate::support::{
    bodies, call_request, ctx, ctx_in_timezone, fixture, mount_create_and_complete, mount_fallback, ok, redtail, start,
};

const COMPOSED: &str = "<b>Agent notes</b><br>Wants a &lt;call&gt; back<br><br><b>Call details</b><br><li><b>Summary</b>: Inbound Call from Jane Q Doe</li><li><b>Date/time</b>: 2024-01-15 10:30:00 AM</li>";

#[tokio::test]
async fn creates_a_completed_activity_with_the_note() {
    let harness = start().await;
    redtail("POST", "/activities")
        .and(body_json(json!({
            "subject": "Inbound Call from Jane Q Doe",
            "description": COMPOSED,
            "start_date": "2024-01-15T10:30:00.000Z",
            "end_date": "2024-01-15T10:32:05.000Z",
            "activity_code_id": 3,
            "category_id": 2,
            "repeats": "never",
            "linked_contacts": [{ "contact_id": 9001 }],
            "location": "callbridge:key-1"
        })))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("POST", "/activities/5550/notes")
        .and(body_json(json!({ "category_id": 2, "note_type": 1, "body": "Wants a &lt;call&gt; back" })))
        .respond_with(ok(fixture!("note_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("PUT", "/activities/5550")
        .and(body_json(json!({ "completed": true })))
        .respond_with(ok(fixture!("activity_completed.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let mut request = call_request(COMPOSED);
    request.note = Some("Wants a <call> back".into());
    let created = harness.connector.create_call_log(&ctx(), request).await.unwrap();

    assert_eq!(created.log_id, "5550");
    let message = created.return_message.unwrap();
    assert_eq!((message.message.as_str(), message.message_type), ("Call logged", MessageType::Success));
}

#[tokio::test]
async fn the_custom_subject_category_and_time_zone_are_applied_and_no_empty_note_is_sent() {
    let harness = start().await;
    mount_create_and_complete(&harness.server).await;

    let mut request = call_request(COMPOSED);
    request.call_log.custom_subject = Some("Quarterly review".into());
    request.additional_submission = json!({ "category": "1" }).as_object().unwrap().clone();
    request.note = Some("  ".into());
    harness.connector.create_call_log(&ctx_in_timezone("-5"), request).await.unwrap();

    let sent = &bodies(&harness.server, "POST", "/activities").await[0];
    assert_eq!(sent["subject"], "Quarterly review");
    assert_eq!(sent["category_id"], 1);
    assert_eq!(sent["description"], COMPOSED.replace("2024-01-15 10:30:00 AM", "2024-01-15 05:30:00 AM"));
    assert_eq!(sent["start_date"], "2024-01-15T10:30:00.000Z", "activity dates stay UTC");
}

#[tokio::test]
async fn a_failed_completion_after_the_create_is_reported_not_repeated() {
    let harness = start().await;
    redtail("POST", "/activities")
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("PUT", "/activities/5550").respond_with(ResponseTemplate::new(503)).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let created = harness.connector.create_call_log(&ctx(), call_request(COMPOSED)).await.unwrap();

    assert_eq!(created.log_id, "5550", "the activity exists: its id is kept so the call is not logged twice");
    assert_eq!(created.return_message.unwrap().message_type, MessageType::Warning);
}

#[tokio::test]
async fn a_call_without_a_start_time_is_refused_before_redtail_is_asked() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let mut request = call_request(COMPOSED);
    request.call_log.start_time = Some(StartTime::Text("yesterday".into()));
    let error = harness.connector.create_call_log(&ctx(), request).await.unwrap_err();
    assert_eq!(error.kind(), callbridge_core::ErrorKind::Rejected);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn reads_a_call_log_back_with_its_note_contact_and_category() {
    let harness = start().await;
    redtail("GET", "/activities/5550")
        .and(header("include", "linked_contacts"))
        .and(query_param("include", "linked_contacts"))
        .respond_with(ok(fixture!("activity.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = GetCallLogRequest { log_id: "5550".into(), ..GetCallLogRequest::default() };
    let log = harness.connector.get_call_log(&ctx(), request).await.unwrap();

    assert_eq!(log.subject.as_deref(), Some("Inbound Call from Jane Q Doe"));
    assert_eq!(log.note.as_deref(), Some("Wants a <call> back"));
    assert_eq!(log.full_body.as_deref(), Some(COMPOSED));
    assert_eq!(log.contact_name.as_deref(), Some("Jane Doe"));
    assert_eq!(log.dispositions, Some(json!({ "category": 1 })));
    assert_eq!(log.full_log_response, fixture!("activity.json"));
}

#[tokio::test]
async fn an_activity_without_a_note_reads_back_verbatim() {
    let harness = start().await;
    let body = "<li><b>Summary</b>: x</li>";
    redtail("GET", "/activities/5550")
        .respond_with(ok(json!({ "activity": { "id": 5550, "description": body, "linked_contacts": [] } })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let request = GetCallLogRequest { log_id: "5550".into(), ..GetCallLogRequest::default() };
    let log = harness.connector.get_call_log(&ctx(), request).await.unwrap();
    assert_eq!((log.note.as_deref(), log.full_body.as_deref(), log.contact_name), (Some(""), Some(body), None));
}

#[tokio::test]
async fn updates_the_description_subject_and_dates() {
    let harness = start().await;
    let updated = format!(
        "{COMPOSED}<li><b>Call recording link</b>: <a target=\"_blank\" href=\"https://rec.example/1\">open</a></li>"
    );
    redtail("PUT", "/activities/5550")
        .and(body_json(json!({
            "subject": "Inbound Call from Jane Q Doe",
            "description": updated,
            "start_date": "2024-01-15T10:30:00.000Z",
            "end_date": "2024-01-15T10:31:00.000Z"
        })))
        .respond_with(ok(fixture!("activity_completed.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateCallLogRequest {
        log_id: "5550".into(),
        subject: Some("Inbound Call from Jane Q Doe".into()),
        note: Some("Wants a <call> back".into()),
        start_time: Some(StartTime::Text("2024-01-15T10:30:00Z".into())),
        duration: Some(CallDuration::Seconds(60.into())),
        composed_log_details: updated.clone(),
        ..UpdateCallLogRequest::default()
    };
    let answer = harness.connector.update_call_log(&ctx(), request).await.unwrap();
    assert_eq!(answer.updated_note.as_deref(), Some("Wants a <call> back"));
}

#[tokio::test]
async fn the_category_is_the_disposition() {
    let harness = start().await;
    redtail("PUT", "/activities/5550")
        .and(body_json(json!({ "category_id": 5 })))
        .respond_with(ok(fixture!("activity_completed.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let dispositions = json!({ "category": "5" }).as_object().unwrap().clone();
    let request = DispositionRequest { log_id: "5550".into(), dispositions };
    let answer = harness.connector.upsert_call_disposition(&ctx(), request).await.unwrap();
    assert_eq!(answer.log_id.as_deref(), Some("5550"));

    // No category: nothing to write, and Redtail is not asked.
    let request = DispositionRequest { log_id: "5550".into(), dispositions: serde_json::Map::new() };
    assert_eq!(harness.connector.upsert_call_disposition(&ctx(), request).await.unwrap().log_id, None);
    assert_eq!(bodies(&harness.server, "PUT", "/activities/5550").await, [json!({ "category_id": 5 })] as [Value; 1]);
}

#[tokio::test]
async fn a_create_hands_back_the_categories_as_the_default_category_options() {
    let harness = start().await;
    redtail("GET", "/lists/categories")
        .respond_with(ok(fixture!("categories.json")))
        .expect(2)
        .mount(&harness.server)
        .await;
    redtail("POST", "/activities").respond_with(ok(fixture!("activity_created.json"))).mount(&harness.server).await;
    redtail("PUT", "/activities/5550")
        .respond_with(ok(fixture!("activity_completed.json")))
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let options = json!([{ "id": 1, "name": "Client Service" }, { "id": 2, "name": "Phone Call" }]);

    // A user without the setting gets the reference's defaults with the options.
    let created = harness.connector.create_call_log(&ctx(), call_request(COMPOSED)).await.unwrap();
    let update = created.settings_update.expect("a settings update");
    assert_eq!(
        Value::Object(update.0),
        json!({ "defaultCategory": { "value": 2, "customizable": true, "options": options } })
    );

    // A user who chose a category: only the options are handed back, so the host's merge keeps the choice.
    let mut ctx = ctx();
    ctx.user.user_settings.0.insert("defaultCategory".into(), json!({ "value": "1", "customizable": false }));
    let created = harness.connector.create_call_log(&ctx, call_request(COMPOSED)).await.unwrap();
    assert_eq!(Value::Object(created.settings_update.unwrap().0), json!({ "defaultCategory": { "options": options } }));
}

#[tokio::test]
async fn unreadable_categories_after_a_create_store_nothing_and_the_call_is_logged() {
    let harness = start().await;
    redtail("GET", "/lists/categories").respond_with(ResponseTemplate::new(503)).mount(&harness.server).await;
    mount_create_and_complete(&harness.server).await;

    let created = harness.connector.create_call_log(&ctx(), call_request(COMPOSED)).await.unwrap();

    assert_eq!(created.log_id, "5550");
    assert_eq!(created.return_message.unwrap().message_type, MessageType::Success);
    assert!(created.settings_update.is_none());
}

#[tokio::test]
async fn an_assigned_user_is_the_attendee_of_the_created_and_updated_activity() {
    let harness = start().await;
    redtail("POST", "/activities").respond_with(ok(fixture!("activity_created.json"))).mount(&harness.server).await;
    redtail("PUT", "/activities/5550")
        .respond_with(ok(fixture!("activity_completed.json")))
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let mut ctx = ctx();
    ctx.assigned_crm_user_id = Some("777".into());
    let attendees = json!([{ "type": "Crm::Activity::Attendee::User", "user_id": 777 }]);

    harness.connector.create_call_log(&ctx, call_request(COMPOSED)).await.unwrap();
    assert_eq!(bodies(&harness.server, "POST", "/activities").await[0]["attendees"], attendees);

    let request = UpdateCallLogRequest {
        log_id: "5550".into(),
        composed_log_details: COMPOSED.into(),
        ..UpdateCallLogRequest::default()
    };
    harness.connector.update_call_log(&ctx, request).await.unwrap();
    let puts = bodies(&harness.server, "PUT", "/activities/5550").await;
    assert_eq!(puts.last().unwrap(), &json!({ "description": COMPOSED, "attendees": attendees }));
}
