//! `POST /messageLog` with every kind of message, through the route into the sandbox CRM: a voicemail, a fax, an
//! MMS and a shared-SMS conversation are logged as what they are, with their links and texts; a later message is
//! appended to its conversation's record; a repeated request makes no second record; a bad attachment changes
//! nothing.

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use callbridge_core::Connector;
use callbridge_host::state::AppState;
use connector_sandbox::Sandbox;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{Backend, TestDb, json_request, sandbox_login, send, state_with, unique_key};

both_backends!(
    voicemail_fax_and_mms_land_with_their_links_and_texts,
    a_second_message_is_appended_and_a_repeat_changes_nothing,
    a_shared_conversation_lands_as_one_record_with_owner_and_notes,
    a_bad_attachment_is_refused_and_changes_nothing,
);

struct Env {
    _db: TestDb,
    state: AppState,
    app: Router,
    sandbox: Arc<Sandbox>,
    jwt: String,
    user_id: String,
}

async fn env(backend: Backend) -> Env {
    let db = TestDb::new(backend).await;
    let sandbox = Arc::new(Sandbox::default());
    let state = state_with(db.store().await, vec![sandbox.clone() as Arc<dyn Connector>]);
    let app = callbridge_host::app(state.clone());
    let jwt = sandbox_login(&app, &unique_key()).await;
    let user_id = state.jwt.verify(&jwt).map(|claims| claims.id).unwrap();
    Env { _db: db, state, app, sandbox, jwt, user_id }
}

impl Env {
    async fn log(&self, body: &Value) -> Value {
        let answer = send(&self.app, json_request(Method::POST, &format!("/messageLog?jwtToken={}", self.jwt), body))
            .await
            .ok_json();
        assert_eq!(answer["successful"], true, "{answer}");
        answer
    }

    /// The sandbox record the message went into.
    async fn record_of(&self, message_id: &str) -> (String, String) {
        let row = self.state.store.message_log(&self.user_id, message_id).await.unwrap().expect("a mapping row");
        self.sandbox.message_log(&self.user_id, &row.third_party_log_id).expect("the sandbox record")
    }
}

fn request(conversation_log_id: &str, messages: Value) -> Value {
    json!({
        "logInfo": {
            "conversationId": conversation_log_id,
            "conversationLogId": conversation_log_id,
            "rcAccessToken": "rc-token",
            "messages": messages,
            "correspondents": [{"phoneNumber": "+14155550123"}],
        },
        "contactId": "c-2",
        "contactName": "Grace Hopper",
    })
}

async fn voicemail_fax_and_mms_land_with_their_links_and_texts(backend: Backend) {
    let env = env(backend).await;
    env.log(&request(
        "vm-log",
        json!([{ "id": "vm-1", "type": "VoiceMail", "direction": "Inbound",
        "creationTime": "2024-05-01T07:30:00Z", "transcript": "Please call me back",
        "attachments": [{ "type": "AudioRecording", "uri": "https://media.rc.test/vm/1",
            "link": "https://ringcentral.github.io/ringcentral-media-reader/?media=vm1" }] }]),
    ))
    .await;
    let (subject, body) = env.record_of("vm-1").await;
    assert_eq!(subject, "Voicemail left by Grace Hopper - 24/05/01");
    assert_eq!(
        body,
        "Voicemail recording link: https://ringcentral.github.io/ringcentral-media-reader/?media=vm1\n\
         Transcript: Please call me back\n\n--- Created via RingCentral App Connect"
    );

    env.log(&request(
        "fax-log",
        json!([{ "id": "fax-1", "type": "Fax", "direction": "Inbound",
        "creationTime": "2024-05-01T08:00:00Z", "messageStatus": "Received", "faxPageCount": 2,
        "attachments": [{ "type": "RenderedDocument", "uri": "https://media.rc.test/fax/1",
            "link": "https://app.rc.test/fax/1" }] }]),
    ))
    .await;
    let (subject, body) = env.record_of("fax-1").await;
    assert_eq!(subject, "Fax document sent from Grace Hopper - 24/05/01");
    assert_eq!(
        body,
        "Fax document link: https://app.rc.test/fax/1\nFax status: Received\nFax pages: 2\n\n\
         --- Created via RingCentral App Connect"
    );
    assert!(!body.contains("rc-token"), "the download link's token never reaches the CRM");

    env.log(&request("mms-log", json!([{ "id": "mms-1", "type": "SMS", "direction": "Inbound",
        "creationTime": "2024-05-01T09:00:00Z", "subject": "Our new sign",
        "attachments": [{ "type": "MmsAttachment", "contentType": "image/jpeg", "uri": "https://media.rc.test/i/1" }] }])))
    .await;
    let (subject, body) = env.record_of("mms-1").await;
    assert_eq!(subject, "SMS conversation with Grace Hopper - 24/05/01");
    assert!(
        body.contains(
            "Grace Hopper (+14155550123) 09:00 AM\nOur new sign\n\
             [Image]: https://ringcentral.github.io/ringcentral-media-reader/?media=https%3A%2F%2Fmedia.rc.test%2Fi%2F1\n"
        ),
        "{body}"
    );
}

async fn a_second_message_is_appended_and_a_repeat_changes_nothing(backend: Backend) {
    let env = env(backend).await;
    let first = json!({ "id": "sms-1", "direction": "Inbound", "subject": "Is the engine ready?",
        "creationTime": "2024-05-01T07:30:00Z" });
    let answer = env.log(&request("day-1", json!([first.clone()]))).await;
    assert_eq!(answer["logIds"], json!(["sms-1"]));
    let second = json!({ "id": "sms-2", "direction": "Outbound", "subject": "Yes, since Monday",
        "creationTime": "2024-05-01T07:45:00Z" });
    // The extension lists the newest first and sends the day's earlier messages again.
    let both = request("day-1", json!([second, first]));
    let answer = env.log(&both).await;
    assert_eq!(answer["logIds"], json!(["sms-1", "sms-2"]));
    let (_, body) = env.record_of("sms-2").await;
    assert_eq!(env.record_of("sms-1").await.1, body, "both messages are in one record");
    assert!(body.contains("Conversation(2 messages)"), "{body}");
    let (asked, answered) = (body.find("Is the engine ready?").unwrap(), body.find("Yes, since Monday").unwrap());
    assert!(asked < answered && answered < body.find("------------\nEND").unwrap(), "{body}");

    env.log(&both).await;
    let (_, again) = env.record_of("sms-2").await;
    assert_eq!(again, body, "a repeated request appends nothing");
}

async fn a_shared_conversation_lands_as_one_record_with_owner_and_notes(backend: Backend) {
    let env = env(backend).await;
    let mut body = request(
        "shared-1",
        json!([
            { "id": "sh-2", "direction": "Outbound", "subject": "Yes, today", "creationTime": "2024-01-15T11:45:00Z",
              "lastModifiedTime": "2024-01-15T11:45:00Z" },
            { "id": "sh-1", "direction": "Inbound", "subject": "Shipped?", "creationTime": "2024-01-15T10:30:00Z",
              "lastModifiedTime": "2024-01-15T10:30:00Z" },
        ]),
    );
    let log_info = body["logInfo"].as_object_mut().unwrap();
    log_info.insert("owner".into(), json!({ "name": "Support Queue", "extensionType": "Department" }));
    log_info.insert("assignee".into(), json!({ "name": "Ada Lovelace" }));
    log_info.insert("creationTime".into(), json!("2024-01-15T10:30:00Z"));
    log_info.insert("entities".into(), json!([
        { "recordType": "AliveMessage", "creationTime": "2024-01-15T10:30:00Z", "direction": "Inbound", "text": "Shipped?" },
        { "recordType": "ThreadAssignedHint", "creationTime": "2024-01-15T10:35:00Z", "assignee": { "name": "Ada Lovelace" } },
        { "recordType": "AliveNote", "creationTime": "2024-01-15T10:40:00Z", "author": { "name": "Ada Lovelace" },
          "text": "Checked the warehouse" },
        { "recordType": "AliveMessage", "creationTime": "2024-01-15T11:45:00Z", "direction": "Outbound",
          "author": { "name": "Ada Lovelace" }, "text": "Yes, today" },
    ]));
    let answer = env.log(&body).await;
    assert_eq!(answer["logIds"], json!(["sh-1", "sh-2"]));
    let (subject, text) = env.record_of("sh-1").await;
    assert_eq!(env.record_of("sh-2").await, (subject.clone(), text.clone()), "one record for the conversation");
    assert_eq!(subject, "SMS conversation with Grace Hopper");
    for expected in [
        "Participants\n* Grace Hopper (customer)\n* Ada Lovelace\n",
        "Receiving call queue: Support Queue\n",
        "Conversation (2 messages, 1 note)\n",
        "Ada Lovelace left a note on 2024-01-15 10:40 AM:\nChecked the warehouse\n",
        "Conversation assigned to Ada Lovelace\n",
        "Grace Hopper said on 2024-01-15 10:30 AM:\nShipped?\n",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
}

async fn a_bad_attachment_is_refused_and_changes_nothing(backend: Backend) {
    let env = env(backend).await;
    let bad = request(
        "bad-log",
        json!([{ "id": "bad-1", "direction": "Inbound", "creationTime": "2024-05-01T07:30:00Z",
        "attachments": [{ "type": "AudioRecording", "link": "javascript:alert(1)" }] }]),
    );
    let answer = send(&env.app, json_request(Method::POST, &format!("/messageLog?jwtToken={}", env.jwt), &bad)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(answer.text().contains("not an http(s) URL"), "{}", answer.text());
    assert!(env.state.store.message_log(&env.user_id, "bad-1").await.unwrap().is_none());
}
