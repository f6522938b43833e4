//! SMS, voicemail and fax logs: the activity Redtail receives, and appending to a conversation.

use callbridge_core::{CreateMessageLogRequest, LogContact, Message, MessageMedia, RecordKey, UpdateMessageLogRequest};
use serde_json::json;
use wiremock::matchers::body_json;

use crate::support::{
    bodies, ctx, ctx_in_timezone, fixture, mount_create_and_complete, mount_fallback, ok, redtail, start,
};

fn contact() -> LogContact {
    LogContact {
        id: "9001".into(),
        phone_number: Some("+14155551234".into()),
        kind: "contact".into(),
        name: "Jane <Q> Doe".into(),
    }
}

fn message(direction: &str, time: &str, text: &str) -> Message {
    Message {
        id: Some("m-1".into()),
        creation_time: Some(time.into()),
        direction: Some(direction.into()),
        subject: Some(text.into()),
        ..Message::default()
    }
}

fn sms_request() -> CreateMessageLogRequest {
    CreateMessageLogRequest {
        record_key: RecordKey("msg-key-1".into()),
        contact: contact(),
        message: message("Inbound", "2024-01-15T22:05:00.000Z", "Hi & bye"),
        ..CreateMessageLogRequest::default()
    }
}

#[tokio::test]
async fn an_sms_becomes_a_completed_conversation_activity() {
    let harness = start().await;
    let description = "<br><b>SMS conversation with Jane &lt;Q&gt; Doe - 24/01/15</b><br><b>Conversation summary</b><br>Monday, January 15, 2024<br>Participants<br><ul><li><b>ada</b><br></li><li><b>Jane &lt;Q&gt; Doe</b></li></ul><br>Conversation(1 messages)<br>BEGIN<br>------------<br><ul><li>Jane &lt;Q&gt; Doe (+14155551234) 10:05 PM<br><b>Hi &amp; bye</b></li></ul>------------<br>END<br><br>--- Created via RingCentral App Connect";
    redtail("POST", "/activities")
        .and(body_json(json!({
            "subject": "SMS conversation with Jane <Q> Doe - 24/01/15",
            "description": description,
            "start_date": "2024-01-15T22:05:00.000Z",
            "end_date": "2024-01-15T22:05:00.000Z",
            "activity_code_id": 3,
            "repeats": "never",
            "linked_contacts": [{ "contact_id": 9001 }],
            "location": "callbridge:msg-key-1"
        })))
        .respond_with(ok(fixture!("activity_created.json")))
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

    let created = harness.connector.create_message_log(&ctx(), sms_request()).await.unwrap();

    assert_eq!(created.log_id, "5550");
    assert_eq!(created.return_message.unwrap().message, "Message logged");
}

#[tokio::test]
async fn the_custom_time_zone_dates_the_conversation_and_a_chosen_category_is_kept() {
    let harness = start().await;
    mount_create_and_complete(&harness.server).await;

    let mut request = sms_request();
    request.additional_submission = json!({ "category": 1 }).as_object().unwrap().clone();
    harness.connector.create_message_log(&ctx_in_timezone("3"), request).await.unwrap();

    let sent = &bodies(&harness.server, "POST", "/activities").await[0];
    assert_eq!(sent["subject"], "SMS conversation with Jane <Q> Doe - 24/01/16", "22:05 UTC is the next day at +3");
    assert!(sent["description"].as_str().unwrap().contains("(+14155551234) 01:05 AM"), "{}", sent["description"]);
    assert_eq!(sent["category_id"], 1);
}

#[tokio::test]
async fn a_voicemail_links_its_recording() {
    let harness = start().await;
    mount_create_and_complete(&harness.server).await;

    let mut request = sms_request();
    request.media =
        MessageMedia { recording_link: Some("https://rc.example/vm?a=1&b=2".into()), ..MessageMedia::default() };
    harness.connector.create_message_log(&ctx(), request).await.unwrap();

    let sent = &bodies(&harness.server, "POST", "/activities").await[0];
    assert_eq!(sent["subject"], "Voicemail left by Jane <Q> Doe - 24/01/15");
    assert_eq!(
        sent["description"],
        "<br><b>Voicemail left by Jane &lt;Q&gt; Doe - 24/01/15</b><br>Voicemail recording link: https://rc.example/vm?a=1&amp;b=2 <br><br>--- Created via RingCentral App Connect"
    );
}

#[tokio::test]
async fn a_later_message_is_appended_and_counted() {
    let harness = start().await;
    let before = "<br><b>SMS conversation with Jane - 24/01/15</b><br>Conversation(5 messages)<br>BEGIN<br>------------<br><ul><li>old</li></ul>------------<br>END<br><br>--- Created via RingCentral App Connect";
    redtail("GET", "/activities/5550")
        .respond_with(ok(json!({ "activity": { "id": 5550, "description": before, "linked_contacts": [] } })))
        .expect(1)
        .mount(&harness.server)
        .await;
    let after = before
        .replace("5 messages", "6 messages")
        .replace("<li>old</li>", "<li>old</li><li>ada 10:45 PM<br><b>On my way</b></li>");
    redtail("PATCH", "/activities/5550")
        .and(body_json(json!({ "description": after, "end_date": "2024-01-15T22:45:00.000Z" })))
        .respond_with(ok(fixture!("activity_completed.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateMessageLogRequest {
        contact: contact(),
        log_id: "5550".into(),
        message: message("Outbound", "2024-01-15T22:45:00Z", "On my way"),
        ..UpdateMessageLogRequest::default()
    };
    harness.connector.update_message_log(&ctx(), request).await.unwrap();
}
