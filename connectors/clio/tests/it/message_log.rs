//! Message logs: an SMS conversation with its time entry, a voicemail, appending a message, reconciliation.

use callbridge_core::{CreateMessageLogRequest, LogContact, Message, MessageMedia, RecordKey, UpdateMessageLogRequest};
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, query_param};

use crate::support::{clio, context, context_with, data, mount_fallback, start};

const SMS_BODY: &str = "\nConversation summary\nWednesday, May 01, 2024\nParticipants\n    Grace Hopper\n    Ada Lovelace\n\
\nConversation(1 messages)\nBEGIN\n------------\nGrace Hopper 09:30 AM\nHello Ada\n------------\nEND\n\n\
--- Created via RingCentral App Connect";

fn contact() -> LogContact {
    LogContact {
        id: "101".into(),
        phone_number: Some("+14155550100".into()),
        kind: "Person".into(),
        name: "Ada Lovelace".into(),
    }
}

fn message(direction: &str, time: &str, text: &str) -> Message {
    Message {
        id: Some("m-1".into()),
        creation_time: Some(time.into()),
        direction: Some(direction.into()),
        subject: Some(text.into()),
        extra: json!({ "typingDurationMs": 45000 }).as_object().unwrap().clone(),
        ..Default::default()
    }
}

fn create_request() -> CreateMessageLogRequest {
    CreateMessageLogRequest {
        record_key: RecordKey("message:m-1".into()),
        contact: contact(),
        message: message("Outbound", "2024-05-01T13:30:00Z", "Hello Ada"),
        additional_submission: json!({ "matters": 555 }).as_object().unwrap().clone(),
        ..Default::default()
    }
}

async fn mount_who_am_i(server: &wiremock::MockServer, times: u64) {
    clio("GET", "/api/v4/users/who_am_i.json")
        .and(query_param("fields", "name"))
        .respond_with(data(json!({ "id": 12345, "name": "Grace Hopper" })))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn logs_an_sms_conversation_and_bills_the_typing_time() {
    let (server, connector) = start().await;
    mount_who_am_i(&server, 1).await;
    clio("POST", "/api/v4/communications.json")
        .and(body_json(json!({ "data": {
            "subject": "SMS conversation with Ada Lovelace - 05/01/2024",
            "body": SMS_BODY,
            "type": "PhoneCommunication",
            "received_at": "2024-05-01T13:30:00Z",
            "senders": [{ "id": 101, "type": "Contact" }],
            "receivers": [{ "id": 12345, "type": "User" }],
            "matter": { "id": 555 },
            "external_properties": [{ "name": "callbridge_record_key", "value": "message:m-1" }]
        }})))
        .respond_with(data(json!({ "id": 8810 })))
        .expect(1)
        .mount(&server)
        .await;
    clio("POST", "/api/v4/activities.json")
        .and(body_json(json!({ "data": {
            "date": "2024-05-01",
            "quantity": 45,
            "note": "SMS message with Ada Lovelace sent on 05/01/2024 at 09:30:00",
            "type": "TimeEntry",
            "communication": { "id": 8810 },
            "non_billable": true,
            "matter": { "id": 555 }
        }})))
        .respond_with(data(json!({ "id": 9001 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let ctx = context_with(json!({
        "smsTimeTrackingEnabled": { "value": true },
        "smsTimeTrackingDefaultBillable": { "value": "non-billable" }
    }));
    let created = connector.create_message_log(&ctx, create_request()).await.unwrap();
    assert_eq!(created.log_id, "8810");
    assert_eq!(created.return_message.unwrap().message, "Message logged");
}

#[tokio::test]
async fn a_failed_sms_time_entry_does_not_fail_the_log() {
    let (server, connector) = start().await;
    mount_who_am_i(&server, 1).await;
    clio("POST", "/api/v4/communications.json")
        .respond_with(data(json!({ "id": 8810 })))
        .expect(1)
        .mount(&server)
        .await;
    clio("POST", "/api/v4/activities.json").respond_with(ResponseTemplate::new(500)).expect(1).mount(&server).await;
    mount_fallback(&server).await;
    let ctx = context_with(json!({ "smsTimeTrackingEnabled": { "value": "true" } }));
    assert_eq!(connector.create_message_log(&ctx, create_request()).await.unwrap().log_id, "8810");
}

#[tokio::test]
async fn logs_a_voicemail_with_its_recording_link() {
    let (server, connector) = start().await;
    mount_who_am_i(&server, 1).await;
    clio("POST", "/api/v4/communications.json")
        .and(wiremock::matchers::body_partial_json(json!({ "data": {
            "subject": "Voicemail left by Ada Lovelace - 05/01/2024",
            "body": "Voicemail recording link: https://app.ringcentral.com/vm/1\n\n--- Created via RingCentral App Connect"
        }})))
        .respond_with(data(json!({ "id": 8811 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let mut request = create_request();
    request.message.direction = Some("Inbound".into());
    request.media =
        MessageMedia { recording_link: Some("https://app.ringcentral.com/vm/1".into()), ..Default::default() };
    assert_eq!(connector.create_message_log(&context(), request).await.unwrap().log_id, "8811");
}

#[tokio::test]
async fn appends_a_message_to_the_conversation() {
    let (server, connector) = start().await;
    mount_who_am_i(&server, 1).await;
    clio("GET", "/api/v4/communications/8810.json")
        .and(query_param("fields", "body"))
        .respond_with(data(json!({ "id": 8810, "body": SMS_BODY })))
        .expect(1)
        .mount(&server)
        .await;
    let appended = SMS_BODY
        .replace("Conversation(1 messages)", "Conversation(2 messages)")
        .replace("Hello Ada\n------------", "Hello Ada\nAda Lovelace (+14155550100) 09:35 AM\nHi Grace\n[Image]: https://media.example.com/i/1\n------------");
    clio("PATCH", "/api/v4/communications/8810.json")
        .and(body_json(json!({ "data": { "body": appended } })))
        .respond_with(data(json!({ "id": 8810 })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let request = UpdateMessageLogRequest {
        contact: contact(),
        log_id: "8810".into(),
        message: message("Inbound", "2024-05-01T13:35:00Z", "Hi Grace"),
        media: MessageMedia { image_link: Some("https://media.example.com/i/1".into()), ..Default::default() },
        ..Default::default()
    };
    // Inbound: no SMS time entry even with tracking on.
    let ctx = context_with(json!({ "smsTimeTrackingEnabled": { "value": true } }));
    connector.update_message_log(&ctx, request).await.unwrap();
}

#[tokio::test]
async fn finds_the_message_log_an_earlier_create_wrote() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/communications.json")
        .and(query_param("external_property_name", "callbridge_record_key"))
        .and(query_param("external_property_value", "message:m-1"))
        .respond_with(data(json!([{ "id": 8810 }])))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let found = connector.find_created_message_log(&context(), &create_request()).await.unwrap();
    assert_eq!(found.as_deref(), Some("8810"));
}
