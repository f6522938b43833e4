//! The HTML body of an SMS, voicemail or fax activity, in App Connect's layout, and appending a message to it.
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
//! name and message text is HTML-escaped.

use std::sync::LazyLock;

use callbridge_core::{LogContact, Message, MessageMedia, TimezoneOffset};
use chrono::{DateTime, FixedOffset, Offset, Utc};
use regex::Regex;
use serde_json::Value;

use crate::html::escape;

/// Where new messages go: the end of the message list.
const LIST_END: &str = "</ul>------------<br>";
const FOOTER: &str = "--- Created via RingCentral App Connect";

static MESSAGE_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a literal pattern: checked by the unit tests, cannot depend on input
    Regex::new(r"<br>Conversation\((\d+) messages\)").expect("message count pattern is valid")
});

/// What a message is, decided by the links that come with it (a recording means voicemail, a document means fax).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageKind<'a> {
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
pub(crate) struct Layout<'a> {
    /// The Pipedrive user's name: the sender of outbound messages.
    pub user_name: &'a str,
    pub contact: &'a LogContact,
    /// The user's UTC offset; dates and times in the body are shown in it.
    pub offset: FixedOffset,
}

impl Layout<'_> {
    /// The subject and note of a new log for `message`.
    pub fn new_log(&self, kind: MessageKind<'_>, correspondents: &[Value], message: &Message) -> (String, String) {
        let local = message_time(message).with_timezone(&self.offset);
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

    /// One message as a list item: sender and time, then the text in bold.
    pub fn entry(&self, message: &Message) -> String {
        let sender = if message.direction.as_deref() == Some("Inbound") {
            format!("{} ({})", self.contact.name, self.contact.phone_number.as_deref().unwrap_or_default())
        } else {
            self.user_name.to_owned()
        };
        let time = message_time(message).with_timezone(&self.offset).format("%I:%M %p");
        let text = message.subject.as_deref().unwrap_or_default();
        format!("<li>{} {time}<br><b>{}</b></li>", escape(&sender), escape(text))
    }
}

/// `body` with `entry` added at the end of the message list and the message count raised by one.
///
/// A body whose list end marker was edited away still gets the message, in a list of its own at the end: the
/// message must not be lost because someone changed the note in Pipedrive.
pub(crate) fn append_entry(body: &str, entry: &str) -> String {
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

/// A correspondent's name: the extension sends each correspondent as a list of matched contacts.
fn correspondent_name(correspondent: &Value) -> &str {
    let first = match correspondent {
        Value::Array(contacts) => contacts.first(),
        other => Some(other),
    };
    first.and_then(|it| it.get("name")).and_then(Value::as_str).unwrap_or("Unknown")
}

/// When the message was sent; a message without a readable time is shown at the time it is logged.
pub(crate) fn message_time(message: &Message) -> DateTime<Utc> {
    parse_time(message.creation_time.as_deref()).unwrap_or_else(Utc::now)
}

pub(crate) fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim()).ok().map(|it| it.with_timezone(&Utc))
}

/// The user's offset as App Connect reads it: text like `+05:30`, `-0700` or `Z`, or a number, which is hours
/// when below 16 in size and minutes otherwise. Anything else means UTC.
pub(crate) fn user_offset(offset: Option<&TimezoneOffset>) -> FixedOffset {
    let minutes = match offset {
        Some(TimezoneOffset::Number(number)) => {
            number.as_f64().map_or(0.0, |it| if it.abs() < 16.0 { it * 60.0 } else { it })
        }
        Some(TimezoneOffset::Text(text)) => text_offset_minutes(text.trim()).unwrap_or(0.0),
        None => 0.0,
    };
    // Real offsets lie within a day; anything else is bad data and reads as UTC.
    let seconds = (minutes * 60.0).round();
    let seconds = if seconds.abs() < 86_400.0 { seconds as i32 } else { 0 };
    FixedOffset::east_opt(seconds).unwrap_or(Utc.fix())
}

fn text_offset_minutes(text: &str) -> Option<f64> {
    if text.eq_ignore_ascii_case("z") {
        return Some(0.0);
    }
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1.0, &text[1..]),
        b'-' => (-1.0, &text[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|it| *it != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|it| it.is_ascii_digit()) {
        return None;
    }
    let hours: f64 = digits[..2].parse().ok()?;
    let minutes: f64 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0.0 };
    Some(sign * (hours * 60.0 + minutes))
}
