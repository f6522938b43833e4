//! Message logs: the SMS conversation activity, voicemail, shared SMS, and appending to a conversation.

use callbridge_core::{
    CreateMessageLogRequest, ErrorKind, LogContact, Message, MessageMedia, MessageType, Operation, SharedSmsContent,
    UpdateMessageLogRequest,
};
use serde_json::{Map, Value, json};
use wiremock::matchers::body_json;

use crate::support::{ctx, fixture, mount_fallback, ok, pipedrive, start};

const LEAD_ID: &str = "adf21080-0e10-11eb-879b-05d71fb426ec";
const FIRST_NOTE: &str = "<br><b>SMS conversation with Ada Lovelace - 24/05/01</b><br><b>Conversation summary</b><br>\
Wednesday, May 01, 2024<br>Participants<br><ul><li><b>Grace Hopper</b><br></li><li><b>Ada Lovelace</b></li></ul><br>\
Conversation(1 messages)<br>BEGIN<br>------------<br><ul><li>Ada Lovelace (+14155550100) 09:30 AM<br>\
<b>Is the engine ready?</b></li></ul>------------<br>END<br><br>--- Created via RingCentral App Connect";

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

fn message(direction: &str, text: &str, at: &str) -> Message {
    Message {
        id: Some("9001".into()),
        direction: Some(direction.into()),
        subject: Some(text.into()),
        creation_time: Some(at.into()),
        ..Message::default()
    }
}

fn inbound_sms() -> CreateMessageLogRequest {
    CreateMessageLogRequest {
        contact: ada(),
        message: message("Inbound", "Is the engine ready?", "2024-05-01T07:30:00.000Z"),
        additional_submission: submission(json!({ "deals": 201 })),
        ..CreateMessageLogRequest::default()
    }
}

async fn mount_create_lookups(harness: &crate::support::Harness, person: Value) {
    pipedrive("GET", "/v1/users/me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
    pipedrive("GET", "/api/v2/persons/101").respond_with(ok(person)).expect(1).mount(&harness.server).await;
    pipedrive("GET", "/v1/activityTypes")
        .respond_with(ok(fixture!("activity_types.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
}

#[tokio::test]
async fn creates_an_sms_conversation_activity() {
    let harness = start().await;
    mount_create_lookups(&harness, fixture!("person.json")).await;
    pipedrive("POST", "/api/v2/activities")
        .and(body_json(json!({
            "owner_id": 12345,
            "subject": "SMS conversation with Ada Lovelace - 24/05/01",
            "deal_id": 201,
            "org_id": 55,
            "note": FIRST_NOTE,
            "done": true,
            "due_date": "2024-05-01",
            "due_time": "07:30",
            "type": "sms_message",
            "participants": [{ "person_id": 101, "primary": true }]
        })))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let created = harness.connector.create_message_log(&ctx(), inbound_sms()).await.unwrap();
    assert_eq!(created.log_id, "401");
    let message = created.return_message.unwrap();
    assert_eq!(
        (message.message.as_str(), message.message_type, message.ttl),
        ("Message logged", MessageType::Success, 1000)
    );
}

#[tokio::test]
async fn message_text_and_names_are_html_escaped() {
    let harness = start().await;
    mount_create_lookups(&harness, fixture!("person.json")).await;
    pipedrive("POST", "/api/v2/activities")
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let mut request = inbound_sms();
    request.contact.name = "Ada <img src=x>".into();
    request.message.subject = Some("<script>alert(1)</script>".into());
    harness.connector.create_message_log(&ctx(), request).await.unwrap();

    let sent = crate::support::bodies(&harness.server, "POST", "/api/v2/activities").await;
    let note = sent[0]["note"].as_str().unwrap();
    assert!(!note.contains("<script>") && !note.contains("<img"), "{note}");
    assert!(note.contains("<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>"));
    assert!(note.contains("<li><b>Ada &lt;img src=x&gt;</b></li>"));
    // The subject is a plain-text field in Pipedrive: it stays as typed.
    assert_eq!(sent[0]["subject"], "SMS conversation with Ada <img src=x> - 24/05/01");
}

#[tokio::test]
async fn creates_a_voicemail_activity() {
    let harness = start().await;
    mount_create_lookups(&harness, fixture!("person.json")).await;
    pipedrive("POST", "/api/v2/activities")
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let mut request = inbound_sms();
    request.media = MessageMedia { recording_link: Some("https://rc.example/vm/1".into()), ..MessageMedia::default() };
    harness.connector.create_message_log(&ctx(), request).await.unwrap();

    let sent = crate::support::bodies(&harness.server, "POST", "/api/v2/activities").await;
    assert_eq!(sent[0]["subject"], "Voicemail left by Ada Lovelace - 24/05/01");
    assert_eq!(
        sent[0]["note"],
        "<br><b>Voicemail left by Ada Lovelace - 24/05/01</b><br>Voicemail recording link: https://rc.example/vm/1 <br><br>--- Created via RingCentral App Connect"
    );
}

#[tokio::test]
async fn a_shared_sms_uses_the_prepared_body_and_links_the_lead() {
    let harness = start().await;
    mount_create_lookups(&harness, fixture!("person_without_org.json")).await;
    pipedrive("POST", "/api/v2/activities")
        .and(body_json(json!({
            "owner_id": 12345,
            "subject": "Shared conversation",
            "lead_id": LEAD_ID,
            "note": "<b>prepared body</b>",
            "done": true,
            "due_date": "2024-05-02",
            "due_time": "10:00",
            "type": "sms_message",
            "participants": [{ "person_id": 101, "primary": true }]
        })))
        .respond_with(ok(fixture!("activity_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let mut request = inbound_sms();
    request.additional_submission = submission(json!({ "leads": LEAD_ID }));
    request.shared_sms_log_content = Some(SharedSmsContent {
        subject: "Shared conversation".into(),
        body: "<b>prepared body</b>".into(),
        conversation_created_date: Some("2024-05-02T10:00:00Z".into()),
    });
    harness.connector.create_message_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn without_an_sms_activity_type_the_reference_error_is_shown() {
    let harness = start().await;
    pipedrive("GET", "/v1/users/me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
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
    mount_fallback(&harness.server).await;

    let error = harness.connector.create_message_log(&ctx(), inbound_sms()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected);
    let message = error.to_return_message(Operation::CreateMessageLog, "Pipedrive");
    assert_eq!(
        message.message,
        "Message logging requires an active activity type containing the word \"sms\" (case insensitive), or one explicitly assigned by an admin under Admin > Account settings."
    );
    assert_eq!(message.message_type, MessageType::Error);
    assert!(crate::support::bodies(&harness.server, "POST", "/api/v2/activities").await.is_empty());
}

#[tokio::test]
async fn appends_a_reply_to_the_conversation() {
    let harness = start().await;
    pipedrive("GET", "/v1/users/me").respond_with(ok(fixture!("users_me.json"))).expect(1).mount(&harness.server).await;
    pipedrive("GET", "/api/v2/activities/401")
        .respond_with(ok(json!({ "success": true, "data": { "id": 401, "note": FIRST_NOTE } })))
        .expect(1)
        .mount(&harness.server)
        .await;
    let expected_note = FIRST_NOTE.replace("Conversation(1 messages)", "Conversation(2 messages)").replace(
        "</li></ul>------------<br>END",
        "</li><li>Grace Hopper 09:45 AM<br><b>Yes, ships Friday &amp; on time</b></li></ul>------------<br>END",
    );
    pipedrive("PATCH", "/api/v2/activities/401")
        .and(body_json(json!({ "note": expected_note, "deal_id": 201 })))
        .respond_with(ok(fixture!("activity_updated.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateMessageLogRequest {
        contact: ada(),
        log_id: "401".into(),
        message: message("Outbound", "Yes, ships Friday & on time", "2024-05-01T07:45:00Z"),
        additional_submission: submission(json!({ "deals": 201 })),
        ..UpdateMessageLogRequest::default()
    };
    let updated = harness.connector.update_message_log(&ctx(), request).await.unwrap();
    assert_eq!(updated.return_message, None);
}

#[tokio::test]
async fn a_shared_sms_update_replaces_the_body_without_reading_it() {
    let harness = start().await;
    pipedrive("PATCH", "/api/v2/activities/401")
        .and(body_json(json!({ "note": "<b>whole conversation</b>", "lead_id": LEAD_ID })))
        .respond_with(ok(fixture!("activity_updated.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateMessageLogRequest {
        contact: ada(),
        log_id: "401".into(),
        shared_sms_log_content: Some(SharedSmsContent {
            subject: "Shared conversation".into(),
            body: "<b>whole conversation</b>".into(),
            conversation_created_date: None,
        }),
        message: message("Inbound", "ignored", "2024-05-01T07:45:00Z"),
        additional_submission: submission(json!({ "leads": LEAD_ID })),
        ..UpdateMessageLogRequest::default()
    };
    harness.connector.update_message_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn a_retried_append_that_the_first_attempt_applied_is_not_appended_again() {
    let harness = start().await;
    // The first attempt's PATCH reached Pipedrive before the connection was lost: the note holds the reply.
    let applied = FIRST_NOTE.replace("Conversation(1 messages)", "Conversation(2 messages)").replace(
        "</li></ul>------------<br>END",
        "</li><li>Grace Hopper 09:45 AM<br><b>Yes, ships Friday &amp; on time</b></li></ul>------------<br>END",
    );
    pipedrive("GET", "/v1/users/me").respond_with(ok(fixture!("users_me.json"))).mount(&harness.server).await;
    pipedrive("GET", "/api/v2/activities/401")
        .respond_with(ok(json!({ "success": true, "data": { "id": 401, "note": applied } })))
        .mount(&harness.server)
        .await;
    pipedrive("PATCH", "/api/v2/activities/401")
        .and(body_json(json!({ "note": applied })))
        .respond_with(ok(fixture!("activity_updated.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateMessageLogRequest {
        contact: ada(),
        log_id: "401".into(),
        message: message("Outbound", "Yes, ships Friday & on time", "2024-05-01T07:45:00Z"),
        maybe_applied: true,
        ..UpdateMessageLogRequest::default()
    };
    harness.connector.update_message_log(&ctx(), request.clone()).await.unwrap();
    // A first attempt appends even an entry that reads the same as one already there (two identical texts).
    let first = UpdateMessageLogRequest { maybe_applied: false, ..request };
    let error = harness.connector.update_message_log(&ctx(), first).await;
    assert!(error.is_err(), "the unchanged note is the only PATCH the mock accepts");
}
