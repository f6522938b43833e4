//! The body of an SMS, MMS, voicemail or fax log in App Connect's layouts (HTML, plain text and Markdown),
//! appending a later message to a conversation's log, and reading the fields back out of a composed body.
//!
//! A conversation log in HTML looks like this (line breaks added; the stored note has none):
//!
//! ```text
//! <br><b>SMS conversation with Ada - 24/05/01</b><br><b>Conversation summary</b><br>Wednesday, May 01, 2024<br>
//! Participants<br><ul><li><b>Agent</b><br></li><li><b>Ada</b></li></ul><br>
//! Conversation(1 messages)<br>BEGIN<br>------------<br>
//! <ul><li>Ada (+14155550100) 09:30 AM<br><b>Hello</b></li></ul>------------<br>END<br><br>
//! --- Created via RingCentral App Connect
//! ```
//!
//! Plain text has the same lines with `\n` (participants indented by four spaces, the list closed by
//! `------------\nEND`); Markdown uses `##`/`###` headings, `*` lists and a `---` rule. Later messages go in before
//! the list's end marker and the count goes up by one, so that a log written by App Connect can be continued by
//! callbridge and the other way round. Unlike App Connect, every name and text is HTML-escaped in HTML bodies.
//!
//! Voicemail and fax logs are one record each: `Voicemail recording link: <url>` (then the transcript when there
//! is one) and `Fax document link: <url>` (then the fax's status and page count when RingCentral sent them). The
//! fax *download* link carries the RingCentral access token and is never written into a body. MMS pictures and
//! videos are listed under their message as `Image`/`Video` links. Shared-SMS conversations are composed by
//! [`super::shared_sms`].

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, Utc};
use regex::Regex;
use serde_json::Value;

use super::LogFormat;
use super::html::{escape, unescape};
use crate::connector::{LogContact, Message, MessageMedia};

/// The footer every new message log ends with.
pub const FOOTER: &str = "--- Created via RingCentral App Connect";

/// Reads the message count out of any format's `Conversation(N messages)` (shared SMS: `Conversation (N messages`).
static MESSAGE_COUNT: LazyLock<Regex> = LazyLock::new(|| super::regex(r"Conversation ?\((\d+) messages?"));
static TAG: LazyLock<Regex> = LazyLock::new(|| super::regex(r"<[^>]*>"));
static LINE_BREAK: LazyLock<Regex> = LazyLock::new(|| super::regex(r"(?i)<br\s*/?>|</li>|</div>|<hr>"));

/// What a message is, decided by the links that come with it (a recording means voicemail, a document means fax).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind<'a> {
    Sms,
    Voicemail { recording_link: &'a str },
    Fax { document_link: &'a str },
}

impl<'a> MessageKind<'a> {
    pub fn of(media: &'a MessageMedia) -> Self {
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
    /// The subject and HTML note of a new log for `message` (no MMS links, no transcript or fax details).
    pub fn new_log(&self, kind: MessageKind<'_>, correspondents: &[Value], message: &Message) -> (String, String) {
        self.log_of(LogFormat::Html, kind, &MessageMedia::default(), correspondents, message)
    }

    /// The subject and body, in `format`, of a new log for `message` and the links that came with it: a voicemail,
    /// a fax or the first message of an (MMS or group) SMS conversation.
    pub fn compose(
        &self,
        format: LogFormat,
        media: &MessageMedia,
        correspondents: &[Value],
        message: &Message,
    ) -> (String, String) {
        self.log_of(format, MessageKind::of(media), media, correspondents, message)
    }

    fn log_of(
        &self,
        format: LogFormat,
        kind: MessageKind<'_>,
        media: &MessageMedia,
        correspondents: &[Value],
        message: &Message,
    ) -> (String, String) {
        let local = self.sent_at(message).with_timezone(&self.offset);
        let short_date = local.format("%y/%m/%d");
        let contact = self.contact.name.as_str();
        let (subject, link_line, details) = match kind {
            MessageKind::Sms => {
                let subject = format!("SMS conversation with {contact} - {short_date}");
                let participants: Vec<&str> = [self.user_name, contact]
                    .into_iter()
                    .chain(correspondents.iter().map(correspondent_name))
                    .collect();
                let long_date = local.format("%A, %B %d, %Y").to_string();
                let body = self.conversation(format, &subject, &long_date, &participants, message, media);
                return (subject, body);
            }
            MessageKind::Voicemail { recording_link } => (
                format!("Voicemail left by {contact} - {short_date}"),
                ("Voicemail recording link", recording_link),
                vec![("Transcript", non_empty(&media.transcript).map(str::to_owned))],
            ),
            MessageKind::Fax { document_link } => (
                format!("Fax document sent from {contact} - {short_date}"),
                ("Fax document link", document_link),
                vec![
                    ("Fax status", non_empty(&message.message_status).map(str::to_owned)),
                    ("Fax pages", message.fax_page_count.as_ref().and_then(page_count)),
                ],
            ),
        };
        let details: Vec<(&str, String)> =
            details.into_iter().filter_map(|(label, value)| value.map(|it| (label, it))).collect();
        let (label, link) = link_line;
        let body = match format {
            LogFormat::Html => {
                let lines: String =
                    details.iter().map(|(label, value)| format!("{label}: {}<br>", escape(value))).collect();
                format!("<br><b>{}</b><br>{label}: {} <br>{lines}<br>{FOOTER}", escape(&subject), escape(link))
            }
            LogFormat::PlainText => {
                let lines: String = details.iter().map(|(label, value)| format!("{label}: {value}\n")).collect();
                format!("{label}: {link}\n{lines}\n{FOOTER}")
            }
            LogFormat::Markdown => {
                let lines: String = details.iter().map(|(label, value)| format!("**{label}**: {value}\n")).collect();
                format!("## {subject}\n**{label}**: {link}\n{lines}\n{FOOTER}")
            }
        };
        (subject, body)
    }

    /// A conversation log holding its first message.
    fn conversation(
        &self,
        format: LogFormat,
        subject: &str,
        long_date: &str,
        participants: &[&str],
        message: &Message,
        media: &MessageMedia,
    ) -> String {
        let entry = self.entry_in(format, message, media);
        let end = list_end(format);
        match format {
            LogFormat::Html => {
                // The user's item keeps the reference's stray `<br>`, so bodies compare equal with App Connect's.
                let items: String = participants
                    .iter()
                    .enumerate()
                    .map(|(at, name)| format!("<li><b>{}</b>{}</li>", escape(name), if at == 0 { "<br>" } else { "" }))
                    .collect();
                format!(
                    "<br><b>{}</b><br><b>Conversation summary</b><br>{long_date}<br>Participants<br><ul>{items}</ul><br>\
                     Conversation(1 messages)<br>BEGIN<br>------------<br><ul>{entry}{end}END<br><br>{FOOTER}",
                    escape(subject)
                )
            }
            LogFormat::PlainText => {
                let items: String = participants.iter().map(|name| format!("    {name}\n")).collect();
                format!(
                    "\nConversation summary\n{long_date}\nParticipants\n{items}\nConversation(1 messages)\nBEGIN\n\
                     ------------\n{entry}{end}\n\n{FOOTER}"
                )
            }
            LogFormat::Markdown => {
                let items: String = participants.iter().map(|name| format!("* {name}\n")).collect();
                format!(
                    "## {subject}\n### Conversation summary\n{long_date}\n### Participants\n{items}\n\
                     ### Conversation(1 messages)\nBEGIN\n\n---\n{entry}{end}\n\n{FOOTER}"
                )
            }
        }
    }

    /// When the message was sent.
    pub fn sent_at(&self, message: &Message) -> DateTime<Utc> {
        parse_time(message.creation_time.as_deref()).unwrap_or(self.now)
    }

    /// One message as an HTML list item: sender and time, then the text in bold.
    pub fn entry(&self, message: &Message) -> String {
        self.entry_in(LogFormat::Html, message, &MessageMedia::default())
    }

    /// One message of a conversation in `format`: sender and time, the text, then the links that came with it
    /// (MMS picture and video; a voicemail's recording or a fax's document when one joins a conversation).
    pub fn entry_in(&self, format: LogFormat, message: &Message, media: &MessageMedia) -> String {
        let sender = if message.direction.as_deref() == Some("Inbound") {
            format!("{} ({})", self.contact.name, self.contact.phone_number.as_deref().unwrap_or_default())
        } else {
            self.user_name.to_owned()
        };
        let time = self.sent_at(message).with_timezone(&self.offset).format("%I:%M %p");
        let text = message.subject.as_deref().unwrap_or_default();
        let links = [
            ("Image", &media.image_link),
            ("Video", &media.video_link),
            ("Voicemail recording link", &media.recording_link),
            ("Fax document link", &media.fax_doc_link),
        ];
        let links = links.into_iter().filter_map(|(label, link)| non_empty(link).map(|it| (label, it)));
        match format {
            LogFormat::Html => {
                let links: String = links.map(|(label, link)| format!("<br>{label}: {}", escape(link))).collect();
                format!("<li>{} {time}<br><b>{}</b>{links}</li>", escape(&sender), escape(text))
            }
            LogFormat::PlainText => {
                let links: String = links.map(|(label, link)| format!("[{label}]: {link}\n")).collect();
                format!("{sender} {time}\n{text}\n{links}\n")
            }
            LogFormat::Markdown => {
                let links: String = links.map(|(label, link)| format!("[{label}]({link})\n")).collect();
                format!("**{sender}** {time}\n{text}\n{links}\n")
            }
        }
    }
}

/// Where new messages go in a conversation body: before the end of the message list.
fn list_end(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Html => "</ul>------------<br>",
        LogFormat::PlainText => "------------\nEND",
        LogFormat::Markdown => "---\nEND",
    }
}

/// HTML `body` with `entry` added at the end of the message list and the message count raised by one.
pub fn append_entry(body: &str, entry: &str) -> String {
    append_entry_in(LogFormat::Html, body, entry)
}

/// `body` with `entry` (from [`Layout::entry_in`] in the same `format`) added at the end of the message list and
/// the message count raised by one.
///
/// A body whose list end marker was edited away still gets the message, at its end: the message must not be lost
/// because someone changed the note in the CRM.
pub fn append_entry_in(format: LogFormat, body: &str, entry: &str) -> String {
    let end = list_end(format);
    let appended = match (body.rfind(end), format) {
        (Some(at), _) => format!("{}{entry}{}", &body[..at], &body[at..]),
        (None, LogFormat::Html) => format!("{body}<ul>{entry}</ul>"),
        (None, LogFormat::PlainText) => format!("{body}\n{entry}"),
        (None, LogFormat::Markdown) => format!("{body}\n\n{entry}"),
    };
    // The count is in the header, before any message text, so the first match is the count.
    MESSAGE_COUNT
        .replacen(&appended, 1, |captures: &regex::Captures<'_>| {
            let count = captures[1].parse::<u64>().unwrap_or(0).saturating_add(1);
            captures[0].replace(&captures[1], &count.to_string())
        })
        .into_owned()
}

/// As [`append_entry`], except that a retry whose earlier attempt may have been applied (`maybe_applied`) leaves a
/// body that already holds `entry` as it is. Only then: two messages can read the same (same sender, minute and
/// text), and a first attempt must log both.
pub fn append_entry_once(body: &str, entry: &str, maybe_applied: bool) -> String {
    if maybe_applied && body.contains(entry) { body.to_owned() } else { append_entry(body, entry) }
}

/// What can be read back out of a composed message-log body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageLogFields {
    /// `Conversation(N messages)`: how many messages the log holds.
    pub message_count: Option<u64>,
    pub recording_link: Option<String>,
    pub transcript: Option<String>,
    pub fax_document_link: Option<String>,
    pub fax_status: Option<String>,
    pub fax_pages: Option<String>,
    /// Picture and video links of MMS messages, in the order they appear.
    pub media_links: Vec<String>,
    /// The agents' notes of a shared-SMS conversation (`<name> left a note on <time>:`), oldest last as shown.
    pub notes: Vec<String>,
}

/// The fields of a message-log body composed in `format` (by this module or [`super::shared_sms`]); a field that
/// was edited away in the CRM reads as missing.
pub fn read_back(format: LogFormat, body: &str) -> MessageLogFields {
    let lines = text_lines(format, body);
    let mut fields = MessageLogFields {
        message_count: MESSAGE_COUNT.captures(body).and_then(|it| it[1].parse().ok()),
        ..MessageLogFields::default()
    };
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at].as_str();
        let value = |label: &str| labelled(line, label);
        if let Some(link) = value("Voicemail recording link") {
            fields.recording_link.get_or_insert(link);
        } else if let Some(link) = value("Fax document link") {
            fields.fax_document_link.get_or_insert(link);
        } else if let Some(text) = value("Transcript") {
            fields.transcript.get_or_insert(text);
        } else if let Some(status) = value("Fax status") {
            fields.fax_status.get_or_insert(status);
        } else if let Some(pages) = value("Fax pages") {
            fields.fax_pages.get_or_insert(pages);
        } else if let Some(link) = value("Image").or_else(|| value("Video")) {
            fields.media_links.push(link);
        } else if line.contains(" left a note on ") && line.ends_with(':') {
            // A note runs to the next blank line (plain text, Markdown) or the end of its paragraph (HTML).
            let text: Vec<&str> =
                lines[at + 1..].iter().map(String::as_str).take_while(|it| !it.trim().is_empty()).collect();
            at += text.len();
            fields.notes.push(text.join("\n"));
        }
        at += 1;
    }
    fields
}

/// `line`'s value when it is `<label>: <value>` in any format (`[Image]: x`, `**Transcript**: x`, `[Video](x)`).
fn labelled(line: &str, label: &str) -> Option<String> {
    let rest = line.strip_prefix('[').and_then(|it| it.strip_prefix(label)).and_then(|it| it.strip_prefix(']'));
    if let Some(link) = rest.and_then(|it| it.strip_prefix('(')).and_then(|it| it.strip_suffix(')')) {
        return Some(link.to_owned());
    }
    let rest = rest
        .or_else(|| line.strip_prefix("**").and_then(|it| it.strip_prefix(label)).and_then(|it| it.strip_prefix("**")))
        .or_else(|| line.strip_prefix(label))?;
    rest.strip_prefix(':').map(|it| it.trim().to_owned()).filter(|it| !it.is_empty())
}

/// The body as lines of text: HTML line breaks become lines, tags go, entities are decoded.
fn text_lines(format: LogFormat, body: &str) -> Vec<String> {
    match format {
        // A paragraph's end is a blank line, as between plain-text entries.
        LogFormat::Html => LINE_BREAK
            .split(&body.replace("</p>", "<br><br>"))
            .map(|line| unescape(&TAG.replace_all(line, "")).trim().to_owned())
            .collect(),
        LogFormat::PlainText | LogFormat::Markdown => body.lines().map(|it| it.trim_end().to_owned()).collect(),
    }
}

/// A correspondent's name, or `Unknown`: the extension sends each correspondent as an object or as the list of
/// contacts matched to it.
fn correspondent_name(correspondent: &Value) -> &str {
    let first = match correspondent {
        Value::Array(contacts) => contacts.first(),
        other => Some(other),
    };
    first.and_then(|it| it.get("name")).and_then(Value::as_str).filter(|it| !it.is_empty()).unwrap_or("Unknown")
}

/// A fax's page count as sent (a number or digits), `None` when it is neither.
fn page_count(value: &Value) -> Option<String> {
    match value {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) if !text.is_empty() && text.bytes().all(|it| it.is_ascii_digit()) => Some(text.clone()),
        _ => None,
    }
}

fn non_empty(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|it| !it.trim().is_empty())
}

/// An RFC 3339 time as UTC.
pub fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim()).ok().map(|it| it.with_timezone(&Utc))
}
