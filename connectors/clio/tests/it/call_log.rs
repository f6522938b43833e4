//! Call logs: the communication and its time entry, reconciliation by record key, read back, update, disposition.

use callbridge_core::{
    CallDuration, CallRecord, CreateCallLogRequest, DispositionRequest, GetCallLogRequest, LogContact, MessageType,
    RecordKey, StartTime, UpdateCallLogRequest,
};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, query_param};

use crate::support::{clio, context, context_with, data, mount_fallback, received, start};

const BODY: &str = "- Note: Wants a quote\n- Summary: Inbound Call from Ada Lovelace\n- Duration: 5 minutes\n";

fn create_request() -> CreateCallLogRequest {
    CreateCallLogRequest {
        record_key: RecordKey("call:931929965510:ext-1".into()),
        contact: LogContact {
            id: "101".into(),
            phone_number: Some("+14155550100".into()),
            kind: "Person".into(),
            name: "Ada Lovelace".into(),
        },
        call_log: CallRecord {
            session_id: Some("931929965510".into()),
            direction: Some("Inbound".into()),
            start_time: Some(StartTime::Text("2024-05-01T07:30:00.000Z".into())),
            duration: Some(CallDuration::Seconds(300.into())),
            ..Default::default()
        },
        additional_submission: json!({ "matters": 201 }).as_object().unwrap().clone(),
        composed_log_details: BODY.into(),
        ..Default::default()
    }
}

fn expected_communication() -> Value {
    json!({ "data": {
        "subject": "[Call] Inbound Call from Ada Lovelace [+14155550100]",
        "body": BODY,
        "type": "PhoneCommunication",
        "received_at": "2024-05-01T07:30:00Z",
        "senders": [{ "id": 101, "type": "Contact" }],
        "receivers": [{ "id": 12345, "type": "User" }],
        "notification_event_subscribers": [{ "user_id": 12345 }],
        "matter": { "id": 201 },
        "external_properties": [{ "name": "callbridge_record_key", "value": "call:931929965510:ext-1" }]
    }})
}

#[tokio::test]
async fn creates_a_communication_and_its_time_entry() {
    let (server, connector) = start().await;
    clio("POST", "/api/v4/communications.json")
        .and(body_json(expected_communication()))
        .respond_with(data(json!({ "id": 301 })))
        .expect(1)
        .mount(&server)
        .await;
    clio("POST", "/api/v4/activities.json")
        .and(body_json(json!({ "data": {
            "communication": { "id": 301 },
            "quantity": 300,
            "date": "2024-05-01T07:30:00Z",
            "type": "TimeEntry",
            "non_billable": true,
            "note": BODY,
            "matter": { "id": 201 }
        }})))
        .respond_with(data(json!({ "id": 401 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let ctx = context_with(json!({ "clioDefaultNonBillableTick": { "value": "non-billable" } }));
    let created = connector.create_call_log(&ctx, create_request()).await.unwrap();
    assert_eq!(created.log_id, "301");
    assert_eq!(created.return_message.unwrap().message, "Call logged");
}

#[tokio::test]
async fn an_outbound_call_with_time_entries_off_is_one_request() {
    let (server, connector) = start().await;
    let mut request = create_request();
    request.call_log.direction = Some("Outbound".into());
    request.call_log.custom_subject = Some("Quote follow-up".into());
    request.composed_log_details = String::new();
    request.additional_submission.clear();
    clio("POST", "/api/v4/communications.json")
        .and(body_json(json!({ "data": {
            "subject": "Quote follow-up",
            "body": "No details available",
            "type": "PhoneCommunication",
            "received_at": "2024-05-01T07:30:00Z",
            "senders": [{ "id": 12345, "type": "User" }],
            "receivers": [{ "id": 101, "type": "Contact" }],
            "notification_event_subscribers": [{ "user_id": 12345 }],
            "external_properties": [{ "name": "callbridge_record_key", "value": "call:931929965510:ext-1" }]
        }})))
        .respond_with(data(json!({ "id": 302 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let ctx = context_with(json!({ "clioTimeEntriesEnabled": { "value": "false" } }));
    assert_eq!(connector.create_call_log(&ctx, request).await.unwrap().log_id, "302");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_time_entry_keeps_the_logged_call() {
    let (server, connector) = start().await;
    clio("POST", "/api/v4/communications.json").respond_with(data(json!({ "id": 301 }))).expect(1).mount(&server).await;
    clio("POST", "/api/v4/activities.json")
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({ "error": { "type": "InvalidRequest", "message": "quantity" } })),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let created = connector.create_call_log(&context(), create_request()).await.unwrap();
    assert_eq!(created.log_id, "301", "the communication exists: the call must not be released and created again");
    let shown = created.return_message.unwrap();
    assert_eq!(shown.message_type, MessageType::Warning);
    assert_eq!(shown.message, "Call logged, but its time entry could not be created.");
}

#[tokio::test]
async fn finds_the_communication_an_earlier_create_wrote() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/communications.json")
        .and(query_param("external_property_name", "callbridge_record_key"))
        .and(query_param("external_property_value", "call:931929965510:ext-1"))
        .and(query_param("fields", "id"))
        .respond_with(data(json!([{ "id": 301 }])))
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/communications.json")
        .and(query_param("external_property_value", "call:other:ext-1"))
        .respond_with(data(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let found = connector.find_created_call_log(&context(), &create_request()).await.unwrap();
    assert_eq!(found.as_deref(), Some("301"));
    let mut other = create_request();
    other.record_key = RecordKey("call:other:ext-1".into());
    assert_eq!(connector.find_created_call_log(&context(), &other).await.unwrap(), None);
}

#[tokio::test]
async fn reads_a_call_log_back_with_its_contact_and_matter() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/communications/301.json")
        .and(query_param("fields", "subject,body,matter,senders,receivers,id"))
        .respond_with(data(json!({
            "id": 301,
            "subject": "[Call] Outbound Call to Analytical Engines [+14155550100]",
            "body": "- Agent notes: Old style note\n- Result: Call connected\n",
            "matter": { "id": 201 },
            "senders": [{ "id": 12345, "type": "User" }],
            "receivers": [{ "id": 102, "type": "Company" }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/contacts/102.json")
        .and(query_param("fields", "name"))
        .respond_with(data(json!({ "id": 102, "name": "Analytical Engines" })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let request = GetCallLogRequest { log_id: "301.1".into(), ..Default::default() };
    let details = connector.get_call_log(&context(), request).await.unwrap();
    assert_eq!(details.note.as_deref(), Some("Old style note"));
    assert_eq!(details.contact_name.as_deref(), Some("Analytical Engines"));
    assert_eq!(details.dispositions, Some(json!({ "matters": 201 })));
    assert_eq!(details.full_body.as_deref(), Some("- Agent notes: Old style note\n- Result: Call connected\n"));
    assert_eq!(details.full_log_response["id"], 301);
}

fn update_request() -> UpdateCallLogRequest {
    UpdateCallLogRequest {
        log_id: "301".into(),
        session_id: "931929965510".into(),
        duration: Some(CallDuration::Seconds(320.into())),
        start_time: Some(StartTime::Text("2024-05-01T07:30:00.000Z".into())),
        composed_log_details: format!("{BODY}- Call recording link: https://media.example.com/r/7\n"),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_update_rewrites_the_body_and_the_time_entry() {
    let (server, connector) = start().await;
    let composed = update_request().composed_log_details;
    clio("GET", "/api/v4/activities")
        .and(query_param("communication_id", "301"))
        .and(query_param("fields", "quantity,id"))
        .respond_with(data(json!([{ "id": 401, "quantity": 300 }])))
        .expect(1)
        .mount(&server)
        .await;
    clio("PATCH", "/api/v4/activities/401.json")
        .and(body_json(json!({ "data": { "quantity": 320, "note": composed, "date": "2024-05-01T07:30:00Z" } })))
        .respond_with(data(json!({ "id": 401 })))
        .expect(1)
        .mount(&server)
        .await;
    clio("PATCH", "/api/v4/communications/301.json")
        .and(body_json(json!({ "data": { "body": composed, "received_at": "2024-05-01T07:30:00Z" } })))
        .respond_with(data(json!({ "id": 301 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let updated = connector.update_call_log(&context(), update_request()).await.unwrap();
    assert_eq!(updated.updated_note.as_deref(), Some(composed.as_str()));
}

#[tokio::test]
async fn an_update_adds_the_time_entry_a_create_could_not_write() {
    let (server, connector) = start().await;
    let composed = update_request().composed_log_details;
    clio("GET", "/api/v4/activities").respond_with(data(json!([]))).expect(1).mount(&server).await;
    clio("POST", "/api/v4/activities.json")
        .and(body_json(json!({ "data": {
            "quantity": 320, "note": composed, "date": "2024-05-01T07:30:00Z",
            "communication": { "id": 301 }, "type": "TimeEntry", "non_billable": false
        }})))
        .respond_with(data(json!({ "id": 402 })))
        .expect(1)
        .mount(&server)
        .await;
    clio("PATCH", "/api/v4/communications/301.json")
        .respond_with(data(json!({ "id": 301 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    connector.update_call_log(&context(), update_request()).await.unwrap();
}

#[tokio::test]
async fn a_disposition_moves_the_communication_to_the_matter() {
    let (server, connector) = start().await;
    clio("PATCH", "/api/v4/communications/301.json")
        .and(body_json(json!({ "data": { "matter": { "id": 202 } } })))
        .respond_with(data(json!({ "id": 301 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let request = DispositionRequest {
        log_id: "301".into(),
        dispositions: json!({ "matters": "202" }).as_object().unwrap().clone(),
    };
    let done = connector.upsert_call_disposition(&context(), request).await.unwrap();
    assert_eq!(done.log_id.as_deref(), Some("301"));
    let nothing = DispositionRequest { log_id: "301".into(), dispositions: Default::default() };
    assert_eq!(connector.upsert_call_disposition(&context(), nothing).await.unwrap().log_id, None);
    assert_eq!(received(&server, "PATCH", "/api/v4/communications/301.json").await.len(), 1);
}

#[tokio::test]
async fn an_assigned_user_takes_the_user_side_of_the_communication_and_its_time() {
    let (server, connector) = start().await;
    let mut expected = expected_communication();
    expected["data"]["receivers"] = json!([{ "id": 777, "type": "User" }]);
    clio("POST", "/api/v4/communications.json")
        .and(body_json(expected))
        .respond_with(data(json!({ "id": 301 })))
        .expect(1)
        .mount(&server)
        .await;
    clio("POST", "/api/v4/activities.json").respond_with(data(json!({ "id": 401 }))).expect(1).mount(&server).await;
    mount_fallback(&server).await;
    let mut ctx = context();
    ctx.assigned_crm_user_id = Some("777".into());

    connector.create_call_log(&ctx, create_request()).await.unwrap();

    let entry = &received(&server, "POST", "/api/v4/activities.json").await[0];
    assert_eq!(entry["data"]["user"], json!({ "id": 777 }));
}

#[tokio::test]
async fn an_update_moves_whichever_side_is_the_user_to_the_assignee() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/activities").respond_with(data(json!([{ "id": 401 }]))).mount(&server).await;
    clio("PATCH", "/api/v4/activities/401.json").respond_with(data(json!({ "id": 401 }))).mount(&server).await;
    clio("GET", "/api/v4/communications/301.json")
        .and(query_param("fields", "senders,receivers"))
        .respond_with(data(json!({
            "id": 301,
            "senders": [{ "id": 12345, "type": "User" }],
            "receivers": [{ "id": 101, "type": "Person" }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    clio("PATCH", "/api/v4/communications/301.json").respond_with(data(json!({ "id": 301 }))).mount(&server).await;
    mount_fallback(&server).await;
    let mut ctx = context();
    ctx.assigned_crm_user_id = Some("777".into());

    // An outbound log read from Clio: the sender is the user.
    connector.update_call_log(&ctx, update_request()).await.unwrap();
    // An inbound log the host already read back: the receiver is the user, and Clio is not asked again.
    let mut request = update_request();
    request.existing_log_details = Some(json!({
        "id": 301,
        "senders": [{ "id": 101, "type": "Person" }],
        "receivers": [{ "id": 12345, "type": "User" }]
    }));
    connector.update_call_log(&ctx, request).await.unwrap();

    let patches = received(&server, "PATCH", "/api/v4/communications/301.json").await;
    let parties = |patch: &Value| (patch["data"]["senders"].clone(), patch["data"]["receivers"].clone());
    assert_eq!(
        parties(&patches[0]),
        (json!([{ "id": 777, "type": "User" }]), json!([{ "id": 101, "type": "Person" }]))
    );
    assert_eq!(
        parties(&patches[1]),
        (json!([{ "id": 101, "type": "Person" }]), json!([{ "id": 777, "type": "User" }]))
    );
}
