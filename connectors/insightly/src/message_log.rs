//! SMS, voicemail and fax logs as Insightly events: a conversation is one event whose plain-text body lists its
//! messages, and later messages of the conversation are appended to it.
//!
//! A conversation body looks like this:
//!
//! ```text
//!
//! Conversation summary
//! Wednesday, May 01, 2024
//! Participants
//!     Grace Hopper
//!     Ada Lovelace
//!
//! Conversation(1 messages)
//! BEGIN
//! ------------
//! Ada Lovelace (+14155550100) 04:30 PM
//! Hello
//!
//! ------------
//! END
//!
//! --- Created via RingCentral App Connect
//! ```
//!
//! the layout of App Connect's plain-text logs, so a conversation it started can be continued here and the other
//! way round. Dates and times are shown in the user's time zone.

use std::sync::LazyLock;

use callbridge_core::compose::message::{MessageKind, parse_time};
use callbridge_core::compose::user_offset;
use callbridge_core::{
    ConnectorError, CreateMessageLogRequest, LogContact, Message, MessageLogCreated, MessageLogUpdated, RequestContext,
    ReturnMessage, UpdateMessageLogRequest,
};
use chrono::{DateTime, FixedOffset, Utc};
use regex::Regex;
use serde_json::Value;

use crate::api::{EventUpdate, NewEvent};
use crate::client::{UserApi, numeric_id};
use crate::contacts::join_name;
use crate::events::{insightly_time, key_location, log_links};

/// Where new messages go: before the closing dashes of the message list.
const LIST_END: &str = "------------\nEND";
const FOOTER: &str = "--- Created via RingCentral App Connect";

static MESSAGE_COUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Conversation\((\d+) messages\)").expect("message count pattern is valid"));

/// When the message was sent; now when RingCentral sent no readable time.
fn message_time(message: &Message) -> DateTime<Utc> {
    parse_time(message.creation_time.as_deref()).unwrap_or_else(Utc::now)
}

/// Who and when, for laying out a message.
struct Layout<'a> {
    user_name: &'a str,
    contact: &'a LogContact,
    offset: FixedOffset,
}

impl Layout<'_> {
    /// The subject and body of a new log for `message`.
    fn new_log(&self, kind: MessageKind<'_>, correspondents: &[Value], message: &Message) -> (String, String) {
        let local = message_time(message).with_timezone(&self.offset);
        let short_date = local.format("%y/%m/%d");
        let name = &self.contact.name;
        match kind {
            MessageKind::Voicemail { recording_link } => {
                let subject = format!("Voicemail left by {name} - {short_date}");
                return (subject, format!("Voicemail recording link: {recording_link}\n\n{FOOTER}"));
            }
            MessageKind::Fax { document_link } => {
                let subject = format!("Fax document sent from {name} - {short_date}");
                return (subject, format!("Fax document link: {document_link}\n\n{FOOTER}"));
            }
            MessageKind::Sms => {}
        }
        let mut participants = format!("    {}\n    {name}\n", self.user_name);
        for correspondent in correspondents {
            participants.push_str(&format!("    {}\n", correspondent_name(correspondent)));
        }
        let body = format!(
            "\nConversation summary\n{}\nParticipants\n{participants}\nConversation(1 messages)\nBEGIN\n------------\n{}{LIST_END}\n\n{FOOTER}",
            local.format("%A, %B %d, %Y"),
            self.entry(message),
        );
        (format!("SMS conversation with {name} - {short_date}"), body)
    }

    /// One message of the list: sender and time, then the text.
    fn entry(&self, message: &Message) -> String {
        let time = message_time(message).with_timezone(&self.offset).format("%I:%M %p");
        let sender = if message.direction.as_deref() == Some("Inbound") {
            format!("{} ({})", self.contact.name, self.contact.phone_number.as_deref().unwrap_or_default())
        } else {
            self.user_name.to_owned()
        };
        format!("{sender} {time}\n{}\n\n", message.subject.as_deref().unwrap_or_default())
    }
}

/// A correspondent's name, or `Unknown`; the extension sends a correspondent as an object or as the list of
/// contacts matched to it.
fn correspondent_name(correspondent: &Value) -> &str {
    let first = match correspondent {
        Value::Array(contacts) => contacts.first(),
        other => Some(other),
    };
    first.and_then(|it| it.get("name")).and_then(Value::as_str).filter(|it| !it.is_empty()).unwrap_or("Unknown")
}

/// `body` with `entry` added at the end of the message list and the message count raised by one; a body without a
/// list gets the entry at its end.
fn append_entry(body: &str, entry: &str) -> String {
    let mut updated = match body.rfind(LIST_END) {
        Some(at) => format!("{}{entry}{}", &body[..at], &body[at..]),
        None => format!("{body}\n{entry}"),
    };
    if let Some(count) = MESSAGE_COUNT.captures(&updated).and_then(|it| it.get(1)) {
        let next = count.as_str().parse::<u64>().unwrap_or(0).saturating_add(1);
        updated.replace_range(count.range(), &next.to_string());
    }
    updated
}

/// The logging user's name, as Insightly knows it.
async fn user_name(api: &UserApi<'_>) -> Result<String, ConnectorError> {
    let me = api.me().await?;
    Ok(join_name(me.first_name.as_deref(), me.last_name.as_deref()))
}

pub(crate) async fn create(
    api: &UserApi<'_>,
    ctx: &RequestContext,
    request: &CreateMessageLogRequest,
) -> Result<MessageLogCreated, ConnectorError> {
    let links = log_links(&request.contact, &request.additional_submission)?;
    let shared = request.shared_sms_log_content.as_ref().filter(|it| !it.body.is_empty() && !it.subject.is_empty());
    let (title, details, at) = match shared {
        Some(shared) => {
            let at = parse_time(shared.conversation_created_date.as_deref())
                .unwrap_or_else(|| message_time(&request.message));
            (shared.subject.clone(), shared.body.clone(), at)
        }
        None => {
            let user_name = user_name(api).await?;
            let layout = Layout {
                user_name: &user_name,
                contact: &request.contact,
                offset: user_offset(ctx.user.timezone_offset.as_ref()),
            };
            let kind = MessageKind::of(&request.media);
            let (title, details) = layout.new_log(kind, &request.correspondents, &request.message);
            (title, details, message_time(&request.message))
        }
    };
    let event = NewEvent {
        title: &title,
        details: &details,
        start_date_utc: insightly_time(at),
        end_date_utc: insightly_time(at),
        location: key_location(&request.record_key),
        owner_user_id: None,
        links,
    };
    let created = api.create_event(&event).await?;
    let log_id =
        created.event_id.ok_or_else(|| ConnectorError::upstream("insightly created an event without an id"))?;
    Ok(MessageLogCreated {
        log_id: log_id.to_string(),
        return_message: Some(ReturnMessage::success("Message logged", 1000)),
    })
}

pub(crate) async fn update(
    api: &UserApi<'_>,
    ctx: &RequestContext,
    request: &UpdateMessageLogRequest,
) -> Result<MessageLogUpdated, ConnectorError> {
    let event_id = numeric_id(&request.log_id, "event")?;
    let shared_body = request.shared_sms_log_content.as_ref().map(|it| it.body.as_str()).filter(|it| !it.is_empty());
    let details = match shared_body {
        Some(body) => body.to_owned(),
        None => {
            let existing = api.event(event_id).await?;
            let existing = existing.get("DETAILS").and_then(Value::as_str).unwrap_or_default().to_owned();
            let user_name = user_name(api).await?;
            let layout = Layout {
                user_name: &user_name,
                contact: &request.contact,
                offset: user_offset(ctx.user.timezone_offset.as_ref()),
            };
            append_entry(&existing, &layout.entry(&request.message))
        }
    };
    let update = EventUpdate {
        event_id,
        details: &details,
        title: None,
        start_date_utc: None,
        end_date_utc: Some(insightly_time(message_time(&request.message))),
        owner_user_id: None,
    };
    api.update_event(&update).await?;
    Ok(MessageLogUpdated::default())
}

#[cfg(test)]
mod tests {
    use callbridge_core::{MessageMedia, TimezoneOffset};

    use super::*;

    fn message(direction: &str, text: &str, at: &str) -> Message {
        Message {
            direction: Some(direction.into()),
            subject: Some(text.into()),
            creation_time: Some(at.into()),
            ..Message::default()
        }
    }

    fn contact() -> LogContact {
        LogContact {
            id: "101".into(),
            kind: "Contact".into(),
            name: "Ada Lovelace".into(),
            phone_number: Some("+14155550100".into()),
        }
    }

    #[test]
    fn a_new_sms_log_and_an_appended_message() {
        let contact = contact();
        let layout = Layout {
            user_name: "Grace Hopper",
            contact: &contact,
            offset: user_offset(Some(&TimezoneOffset::Text("9".into()))),
        };
        let first = message("Inbound", "Hello", "2024-05-01T07:30:00.000Z");
        let (subject, body) = layout.new_log(MessageKind::Sms, &[serde_json::json!({"phoneNumber": "+1"})], &first);
        assert_eq!(subject, "SMS conversation with Ada Lovelace - 24/05/01");
        assert_eq!(
            body,
            "\nConversation summary\nWednesday, May 01, 2024\nParticipants\n    Grace Hopper\n    Ada Lovelace\n    Unknown\n\n\
Conversation(1 messages)\nBEGIN\n------------\nAda Lovelace (+14155550100) 04:30 PM\nHello\n\n------------\nEND\n\n\
--- Created via RingCentral App Connect"
        );
        let reply = layout.entry(&message("Outbound", "Hi!", "2024-05-01T07:31:00Z"));
        assert_eq!(
            append_entry(&body, &reply),
            "\nConversation summary\nWednesday, May 01, 2024\nParticipants\n    Grace Hopper\n    Ada Lovelace\n    Unknown\n\n\
Conversation(2 messages)\nBEGIN\n------------\nAda Lovelace (+14155550100) 04:30 PM\nHello\n\n\
Grace Hopper 04:31 PM\nHi!\n\n------------\nEND\n\n--- Created via RingCentral App Connect"
        );
    }

    #[test]
    fn voicemail_and_fax_logs_carry_their_links() {
        let contact = contact();
        let layout = Layout { user_name: "Grace", contact: &contact, offset: user_offset(None) };
        let at = message("Inbound", "", "2024-05-01T23:30:00Z");
        let media = MessageMedia { recording_link: Some("https://rc.example/vm/1".into()), ..MessageMedia::default() };
        assert_eq!(
            layout.new_log(MessageKind::of(&media), &[], &at),
            (
                "Voicemail left by Ada Lovelace - 24/05/01".to_owned(),
                "Voicemail recording link: https://rc.example/vm/1\n\n--- Created via RingCentral App Connect"
                    .to_owned()
            )
        );
        let media = MessageMedia { fax_doc_link: Some("https://rc.example/fax/1".into()), ..MessageMedia::default() };
        assert_eq!(
            layout.new_log(MessageKind::of(&media), &[], &at).0,
            "Fax document sent from Ada Lovelace - 24/05/01"
        );
    }

    #[test]
    fn a_body_without_a_list_gets_the_message_at_its_end() {
        assert_eq!(append_entry("old text", "Grace 09:00 AM\nHi\n\n"), "old text\nGrace 09:00 AM\nHi\n\n");
    }
}
