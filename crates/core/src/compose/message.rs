//! The HTML body of an SMS, voicemail or fax log, in App Connect's layout, and appending a message to it.
//!
//! A conversation log looks like this (line breaks added; the stored note has none):
//!
//! ```text
//! <br><b>SMS conversation with Ada - 24/05/01</b><br><b>Conversation summary</b><br>Wednesday, May 01, 2024<br>
//! Participants<br><ul><li><b>Agent</b><br></li><li><b>Ada</b></li></ul><br>
//! Conversation(1 messages)<br>BEGIN<br>------------<br>
//! <ul><li>Ada (+14155550100) 09:30 AM<br><b>Hello</b></li></ul>------------<br>END<br><br>
//! --- Created via RingCentral App Connect
//! ```
//!
//! Later messages go in as new `<li>` items before `</ul>------------<br>`, and the count goes up by one, so that a
//! log written by App Connect can be continued by callbridge and the other way round. Unlike App Connect, every
//! name and message text is HTML-escaped. Shared-SMS conversations arrive composed by the extension and are used as
//! they are.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, Utc};
use regex::Regex;
use serde_json::Value;

use super::html::escape;
use crate::connector::{LogContact, Message, MessageMedia};

/// Where new messages go: the end of the message list.
const LIST_END: &str = "</ul>------------<br>";
const FOOTER: &str = "--- Created via RingCentral App Connect";

static MESSAGE_COUNT: LazyLock<Regex> = LazyLock::new(|| super::regex(r"<br>Conversation\((\d+) messages\)"));

/// What a message is, decided by the links that come with it (a recording means voicemail, a document means fax).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind<'a> {
    Sms,
    Voicemail { recording_link: &'a str },
    Fax { document_link: &'a str },
}

impl<'a> MessageKind<'a> {
    pub fn of(media: &'a MessageMedia) -> Self {
        let non_empty = |link: &'a Option<String>| link.as_deref().filter(|it| !it.is_empty());
        if let Some(recording_link) = non_empty(&media.recording_link) {
            MessageKind::Voicemail { recording_link }
        } else if let Some(document_link) = non_empty(&media.fax_doc_link) {
            MessageKind::Fax { document_link }
        } else {
            MessageKind::Sms
        }
    }
}

/// Who and when, for laying out a message.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    /// The CRM user's name: the sender of outbound messages.
    pub user_name: &'a str,
    pub contact: &'a LogContact,
    /// The user's UTC offset ([`super::user_offset`]); dates and times in the body are shown in it.
    pub offset: FixedOffset,
    /// When a message without a readable `creationTime` is shown as sent (the caller's clock: the composer is pure).
    pub now: DateTime<Utc>,
}

impl Layout<'_> {
    /// The subject and note of a new log for `message`.
    pub fn new_log(&self, kind: MessageKind<'_>, correspondents: &[Value], message: &Message) -> (String, String) {
        let local = self.sent_at(message).with_timezone(&self.offset);
        let short_date = local.format("%y/%m/%d");
        let contact_name = &self.contact.name;
        match kind {
            MessageKind::Sms => {
                let subject = format!("SMS conversation with {contact_name} - {short_date}");
                let correspondent_items: String = correspondents
                    .iter()
                    .map(|it| format!("<li><b>{}</b></li>", escape(correspondent_name(it))))
                    .collect();
                let note = format!(
                    "<br><b>{subject}</b><br><b>Conversation summary</b><br>{long_date}<br>Participants<br>\
                     <ul><li><b>{user}</b><br></li><li><b>{contact}</b></li>{correspondent_items}</ul><br>\
                     Conversation(1 messages)<br>BEGIN<br>------------<br><ul>{entry}{LIST_END}END<br><br>{FOOTER}",
                    subject = escape(&subject),
                    long_date = local.format("%A, %B %d, %Y"),
                    user = escape(self.user_name),
                    contact = escape(contact_name),
                    entry = self.entry(message),
                );
                (subject, note)
            }
            MessageKind::Voicemail { recording_link } => {
                let subject = format!("Voicemail left by {contact_name} - {short_date}");
                let note = format!(
                    "<br><b>{}</b><br>Voicemail recording link: {} <br><br>{FOOTER}",
                    escape(&subject),
                    escape(recording_link)
                );
                (subject, note)
            }
            MessageKind::Fax { document_link } => {
                let subject = format!("Fax document sent from {contact_name} - {short_date}");
                let note = format!(
                    "<br><b>{}</b><br>Fax document link: {} <br><br>{FOOTER}",
                    escape(&subject),
                    escape(document_link)
                );
                (subject, note)
            }
        }
    }

    /// When the message was sent.
    pub fn sent_at(&self, message: &Message) -> DateTime<Utc> {
        parse_time(message.creation_time.as_deref()).unwrap_or(self.now)
    }

    /// One message as a list item: sender and time, then the text in bold.
    pub fn entry(&self, message: &Message) -> String {
        let sender = if message.direction.as_deref() == Some("Inbound") {
            format!("{} ({})", self.contact.name, self.contact.phone_number.as_deref().unwrap_or_default())
        } else {
            self.user_name.to_owned()
        };
        let time = self.sent_at(message).with_timezone(&self.offset).format("%I:%M %p");
        let text = message.subject.as_deref().unwrap_or_default();
        format!("<li>{} {time}<br><b>{}</b></li>", escape(&sender), escape(text))
    }
}

/// `body` with `entry` added at the end of the message list and the message count raised by one.
///
/// A body whose list end marker was edited away still gets the message, in a list of its own at the end: the
/// message must not be lost because someone changed the note in Pipedrive.
pub fn append_entry(body: &str, entry: &str) -> String {
    let appended = match body.find(LIST_END) {
        Some(at) => format!("{}{entry}{}", &body[..at], &body[at..]),
        None => format!("{body}<ul>{entry}</ul>"),
    };
    MESSAGE_COUNT
        .replacen(&appended, 1, |captures: &regex::Captures<'_>| {
            let count = captures[1].parse::<u64>().unwrap_or(0);
            format!("<br>Conversation({} messages)", count.saturating_add(1))
        })
        .into_owned()
}

/// As [`append_entry`], except that a retry whose earlier attempt may have been applied (`maybe_applied`) leaves a
/// body that already holds `entry` as it is. Only then: two messages can read the same (same sender, minute and
/// text), and a first attempt must log both.
pub fn append_entry_once(body: &str, entry: &str, maybe_applied: bool) -> String {
    if maybe_applied && body.contains(entry) { body.to_owned() } else { append_entry(body, entry) }
}

/// A correspondent's name: the extension sends each correspondent as a list of matched contacts.
fn correspondent_name(correspondent: &Value) -> &str {
    let first = match correspondent {
        Value::Array(contacts) => contacts.first(),
        other => Some(other),
    };
    first.and_then(|it| it.get("name")).and_then(Value::as_str).unwrap_or("Unknown")
}

/// An RFC 3339 time as UTC.
pub fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim()).ok().map(|it| it.with_timezone(&Utc))
}
