//! Message logs as events: a new SMS conversation, a shared SMS, appending a message, and the reconciliation lookup.

use callbridge_core::{
    CreateMessageLogRequest, LogContact, Message, RecordKey, SharedSmsContent, UpdateMessageLogRequest,
};
use serde_json::json;
use wiremock::matchers::{body_json, query_param};

use crate::support::{ctx, fixture, insightly, mount_fallback, ok, start};

/// The user is in New York (`-5`): 12:00 UTC is 07:00 AM.
const BODY: &str = concat!(
    "\nConversation summary\nThursday, February 01, 2024\nParticipants\n",
    "    Grace Hopper\n    Ada Lovelace\n    Unknown\n\n",
    "Conversation(1 messages)\nBEGIN\n------------\nAda Lovelace (+14155550100) 07:00 AM\nHello there\n\n",
    "------------\nEND\n\n--- Created via RingCentral App Connect"
);

fn contact() -> LogContact {
    LogContact {
        id: "101".into(),
        kind: "Contact".into(),
        name: "Ada Lovelace".into(),
        phone_number: Some("+14155550100".into()),
    }
}

fn message(direction: &str, text: &str, at: &str) -> Message {
    Message {
        id: Some("m-1".into()),
        direction: Some(direction.into()),
        subject: Some(text.into()),
        creation_time: Some(at.into()),
        ..Message::default()
    }
}

fn create_request() -> CreateMessageLogRequest {
    CreateMessageLogRequest {
        record_key: RecordKey("conv-1".into()),
        contact: contact(),
        correspondents: vec![json!({ "phoneNumber": "+14155550199" })],
        message: message("Inbound", "Hello there", "2024-02-01T12:00:00.000Z"),
        additional_submission: json!({ "opportunity": "6" }).as_object().unwrap().clone(),
        ..CreateMessageLogRequest::default()
    }
}

#[tokio::test]
async fn logs_a_new_sms_conversation() {
    let harness = start().await;
    insightly("GET", "Users/Me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
    insightly("POST", "Events")
        .and(body_json(json!({
            "TITLE": "SMS conversation with Ada Lovelace - 24/02/01",
            "DETAILS": BODY,
            "START_DATE_UTC": "2024-02-01T12:00:00.000Z",
            "END_DATE_UTC": "2024-02-01T12:00:00.000Z",
            "LOCATION": "callbridge:conv-1",
            "LINKS": [
                { "LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": 101 },
                { "LINK_OBJECT_NAME": "Opportunity", "LINK_OBJECT_ID": 6 }
            ]
        })))
        .respond_with(ok(json!({ "EVENT_ID": 9100 })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let created = harness.connector.create_message_log(&ctx(), create_request()).await.unwrap();

    assert_eq!(created.log_id, "9100");
    assert_eq!(created.return_message.unwrap().message, "Message logged");
}

#[tokio::test]
async fn a_shared_sms_keeps_its_prepared_subject_body_and_date() {
    let harness = start().await;
    insightly("POST", "Events")
        .and(body_json(json!({
            "TITLE": "Shared conversation",
            "DETAILS": "prepared body",
            "START_DATE_UTC": "2024-02-01T12:00:00.000Z",
            "END_DATE_UTC": "2024-02-01T12:00:00.000Z",
            "LOCATION": "callbridge:conv-1",
            "LINKS": [{ "LINK_OBJECT_NAME": "Lead", "LINK_OBJECT_ID": 201 }]
        })))
        .respond_with(ok(json!({ "EVENT_ID": 9101 })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let request = CreateMessageLogRequest {
        contact: LogContact { id: "201".into(), kind: "Lead".into(), ..contact() },
        shared_sms_log_content: Some(SharedSmsContent {
            subject: "Shared conversation".into(),
            body: "prepared body".into(),
            conversation_created_date: Some("2024-02-01T12:00:00.000Z".into()),
        }),
        message: message("Inbound", "Hello", "2024-02-03T08:00:00Z"),
        ..create_request()
    };

    let created = harness.connector.create_message_log(&ctx(), request).await.unwrap();

    assert_eq!(created.log_id, "9101");
}

#[tokio::test]
async fn appends_a_message_to_the_conversation() {
    let harness = start().await;
    insightly("GET", "Events/9100")
        .respond_with(ok(json!({ "EVENT_ID": 9100, "TITLE": "SMS conversation", "DETAILS": BODY })))
        .expect(1)
        .mount(&harness.server)
        .await;
    insightly("GET", "Users/Me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
    let appended = BODY.replace("Conversation(1 messages)", "Conversation(2 messages)").replace(
        "Hello there\n\n------------",
        "Hello there\n\nGrace Hopper 07:05 AM\nSee you at noon\n\n------------",
    );
    insightly("PUT", "Events")
        .and(body_json(json!({ "EVENT_ID": 9100, "DETAILS": appended, "END_DATE_UTC": "2024-02-01T12:05:00.000Z" })))
        .respond_with(ok(json!({ "EVENT_ID": 9100 })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateMessageLogRequest {
        contact: contact(),
        log_id: "9100".into(),
        message: message("Outbound", "See you at noon", "2024-02-01T12:05:00Z"),
        ..UpdateMessageLogRequest::default()
    };
    harness.connector.update_message_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn a_shared_sms_update_replaces_the_body() {
    let harness = start().await;
    insightly("PUT", "Events")
        .and(body_json(
            json!({ "EVENT_ID": 9101, "DETAILS": "whole new body", "END_DATE_UTC": "2024-02-01T12:05:00.000Z" }),
        ))
        .respond_with(ok(json!({ "EVENT_ID": 9101 })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateMessageLogRequest {
        contact: contact(),
        log_id: "9101".into(),
        shared_sms_log_content: Some(SharedSmsContent {
            subject: "s".into(),
            body: "whole new body".into(),
            ..SharedSmsContent::default()
        }),
        message: message("Outbound", "x", "2024-02-01T12:05:00Z"),
        ..UpdateMessageLogRequest::default()
    };
    harness.connector.update_message_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn finds_the_conversation_event_an_earlier_create_wrote() {
    let harness = start().await;
    insightly("GET", "Events/Search")
        .and(query_param("field_name", "LOCATION"))
        .and(query_param("field_value", "callbridge:conv-1"))
        .respond_with(ok(json!([{ "EVENT_ID": 9100 }])))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_created_message_log(&ctx(), &create_request()).await.unwrap();

    assert_eq!(found.as_deref(), Some("9100"));
}
