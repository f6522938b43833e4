//! SMS, voicemail and fax logs as Clio communications, with App Connect's plain-text conversation layout, and the
//! optional SMS time entry.
//!
//! An SMS conversation's body (the user's time zone; later messages go in before the closing dashes):
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
//! Ada Lovelace (+14155550100) 09:30 AM
//! Hello
//! ------------
//! END
//!
//! --- Created via RingCentral App Connect
//! ```
//!
//! The layout is Clio's own until the connector SDK ships the shared message-log composer.

use callbridge_core::compose::message::parse_time;
use callbridge_core::compose::user_offset;
use callbridge_core::{
    ConnectorError, CreateMessageLogRequest, LogContact, Message, MessageLogCreated, MessageLogUpdated, MessageMedia,
    RequestContext, ReturnMessage, UpdateMessageLogRequest,
};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::NAME;
use crate::call_log::{communication_id, insert_record_key, matter_of, strip_nulls, user_number};
use crate::client::{ClioClient, id_number, id_text};
use crate::documents::{self, Parent, Upload};
use crate::settings;

/// Where new messages go: right before the closing dashes.
const LIST_END: &str = "------------\nEND";
const FOOTER: &str = "--- Created via RingCentral App Connect";

pub(crate) async fn create(
    client: &ClioClient,
    ctx: &RequestContext,
    request: &CreateMessageLogRequest,
) -> Result<MessageLogCreated, ConnectorError> {
    let host = &ctx.user.hostname;
    let user_id = user_number(&ctx.user)?;
    let contact_id = id_number(&request.contact.id, "contact")?;
    let user_name = client.who_am_i(host, &ctx.auth_header, "name").await?.body.name.unwrap_or_default();
    let offset = user_offset(ctx.user.timezone_offset.as_ref());
    let shared = request.shared_sms_log_content.as_ref().filter(|it| !it.body.is_empty() && !it.subject.is_empty());
    let (subject, body, received_at) = match shared {
        Some(shared) => (
            shared.subject.clone(),
            shared.body.clone(),
            parse_time(shared.conversation_created_date.as_deref()).unwrap_or_else(|| message_time(&request.message)),
        ),
        None => {
            let parent = parent_of(&request.additional_submission, contact_id);
            let filed = file_attachment(client, ctx, &request.media, &request.message, &parent).await;
            let layout = Layout { user_name: &user_name, contact: &request.contact, offset, host };
            let (subject, body) = layout.new_log(&request.media, &request.correspondents, &request.message, &filed);
            (subject, body, message_time(&request.message))
        }
    };
    let matter = matter_of(&request.additional_submission);
    let mut data = Map::new();
    data.insert("subject".to_owned(), json!(subject));
    data.insert("body".to_owned(), json!(body));
    data.insert("type".to_owned(), json!("PhoneCommunication"));
    data.insert("received_at".to_owned(), json!(received_at.to_rfc3339_opts(SecondsFormat::Secs, true)));
    data.insert("senders".to_owned(), json!([{ "id": contact_id, "type": "Contact" }]));
    data.insert("receivers".to_owned(), json!([{ "id": user_id, "type": "User" }]));
    if let Some(matter) = &matter {
        data.insert("matter".to_owned(), json!({ "id": matter }));
    }
    insert_record_key(&mut data, &request.record_key);
    let created = client.create_communication(host, &ctx.auth_header, &json!({ "data": data })).await?;
    let log_id = id_text(&created.body.id);
    sms_time_entry(client, ctx, &log_id, &request.contact, &request.message, matter, offset).await;
    Ok(MessageLogCreated { log_id, return_message: Some(ReturnMessage::success("Message logged", 1000)) })
}

pub(crate) async fn update(
    client: &ClioClient,
    ctx: &RequestContext,
    request: &UpdateMessageLogRequest,
) -> Result<MessageLogUpdated, ConnectorError> {
    let host = &ctx.user.hostname;
    let id = communication_id(&request.log_id);
    let offset = user_offset(ctx.user.timezone_offset.as_ref());
    let shared_body = request.shared_sms_log_content.as_ref().map(|it| it.body.as_str()).filter(|it| !it.is_empty());
    let body = match shared_body {
        Some(body) => body.to_owned(),
        None => {
            let (existing, _) = client.communication(host, &ctx.auth_header, id, "body").await?.body;
            let user_name = client.who_am_i(host, &ctx.auth_header, "name").await?.body.name.unwrap_or_default();
            let parent = parent_of(&request.additional_submission, id_number(&request.contact.id, "contact")?);
            let filed = file_attachment(client, ctx, &request.media, &request.message, &parent).await;
            let layout = Layout { user_name: &user_name, contact: &request.contact, offset, host };
            append_entry(&existing.body.unwrap_or_default(), &layout.entry(&request.message, &request.media, &filed))
        }
    };
    client.update_communication(host, &ctx.auth_header, id, &json!({ "data": { "body": body } })).await?;
    let matter = matter_of(&request.additional_submission);
    sms_time_entry(client, ctx, id, &request.contact, &request.message, matter, offset).await;
    Ok(MessageLogUpdated::default())
}

/// Bills the time spent typing an outbound SMS when the user tracks it; a failure is logged, never returned: the
/// message itself is logged already.
async fn sms_time_entry(
    client: &ClioClient,
    ctx: &RequestContext,
    communication_id: &str,
    contact: &LogContact,
    message: &Message,
    matter: Option<Value>,
    offset: FixedOffset,
) {
    let user_settings = &ctx.user.user_settings;
    if !settings::flag(user_settings, settings::SMS_TIME_TRACKING_ENABLED, false)
        || message.direction.as_deref() != Some("Outbound")
    {
        return;
    }
    let typed = message.extra.get("typingDurationMs").and_then(Value::as_f64).unwrap_or(0.0) / 1000.0;
    let quantity = typed.max(settings::sms_minimum_seconds(user_settings)).round() as u64;
    let local = message_time(message).with_timezone(&offset);
    let entry = json!({ "data": {
        "date": local.format("%Y-%m-%d").to_string(),
        "quantity": quantity,
        "note": format!("SMS message with {} sent on {} at {}", contact.name, local.format("%m/%d/%Y"), local.format("%H:%M:%S")),
        "type": "TimeEntry",
        "communication": { "id": communication_id.parse::<u64>().ok() },
        "non_billable": settings::sms_non_billable(user_settings),
        "matter": matter.map(|it| json!({ "id": it })),
    }});
    if let Err(error) = client.create_activity(&ctx.user.hostname, &ctx.auth_header, &strip_nulls(entry)).await {
        warn!(connector = NAME, %error, "The SMS was logged but its time entry could not be created.");
    }
}

/// What became of a message's file (a fax's PDF, an MMS picture) in Clio.
enum Filed {
    /// Nothing to upload: no file, or no link to download it from.
    Nothing,
    /// Uploaded: the document's id and where it was filed.
    Uploaded { document_id: String, parent: Parent },
    /// The upload failed; the log keeps RingCentral's link instead.
    Failed,
}

/// The chosen matter, else the contact: where a message's file is filed.
fn parent_of(submission: &Map<String, Value>, contact_id: u64) -> Parent {
    matter_of(submission).map_or(Parent::Contact(contact_id), Parent::Matter)
}

/// Uploads the fax's PDF (a fax log) or the MMS picture (an SMS log) to Clio documents. A failure is logged and
/// turned into [`Filed::Failed`]: the message is logged either way, with RingCentral's link.
async fn file_attachment(
    client: &ClioClient,
    ctx: &RequestContext,
    media: &MessageMedia,
    message: &Message,
    parent: &Parent,
) -> Filed {
    fn non_empty(link: &Option<String>) -> Option<&str> {
        link.as_deref().map(str::trim).filter(|it| !it.is_empty())
    }
    if non_empty(&media.recording_link).is_some() {
        return Filed::Nothing;
    }
    let message_id = message.id.as_deref().unwrap_or("message");
    let (source, name) = if non_empty(&media.fax_doc_link).is_some() {
        (non_empty(&media.fax_download_link), format!("Fax {message_id}.pdf"))
    } else {
        let extension = media
            .image_content_type
            .as_deref()
            .and_then(|it| it.rsplit('/').next())
            .filter(|it| !it.is_empty() && it.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or("jpg");
        (non_empty(&media.image_download_link), format!("Image {message_id}.{extension}"))
    };
    let Some(source) = source else {
        return Filed::Nothing;
    };
    let received_at = message_time(message).to_rfc3339_opts(SecondsFormat::Secs, true);
    let upload = Upload { name, source, parent: parent.clone(), received_at };
    match documents::upload(client, &ctx.user.hostname, &ctx.auth_header, upload).await {
        Ok(document_id) => Filed::Uploaded { document_id, parent: parent.clone() },
        Err(error) => {
            warn!(connector = NAME, %error, "The message's file could not be uploaded to Clio; its link is logged.");
            Filed::Failed
        }
    }
}

/// Who and when, for laying out a message.
struct Layout<'a> {
    /// The Clio user's name: the sender of outbound messages.
    user_name: &'a str,
    contact: &'a LogContact,
    /// The user's UTC offset; dates and times in the body are shown in it.
    offset: FixedOffset,
    /// The user's Clio host, for document links.
    host: &'a str,
}

impl Layout<'_> {
    /// The subject and body of a new log: a voicemail when a recording comes with it, a fax when a document
    /// does, else an SMS conversation.
    fn new_log(
        &self,
        media: &MessageMedia,
        correspondents: &[Value],
        message: &Message,
        filed: &Filed,
    ) -> (String, String) {
        let local = message_time(message).with_timezone(&self.offset);
        let name = &self.contact.name;
        let non_empty = |link: &Option<String>| link.clone().filter(|it| !it.is_empty());
        if let Some(recording) = non_empty(&media.recording_link) {
            let subject = format!("Voicemail left by {name} - {}", local.format("%m/%d/%Y"));
            return (subject, format!("Voicemail recording link: {recording}\n\n{FOOTER}"));
        }
        if let Some(document) = non_empty(&media.fax_doc_link) {
            let subject = format!("Fax document sent from {name} - {}", local.format("%y/%m/%d"));
            let body = match filed {
                Filed::Uploaded { document_id, parent } => format!(
                    "Fax uploaded to Clio successfully.\nFax status: {}\nPage count: {}\nDocument: {}\nFiled under the {}.\n\n{FOOTER}",
                    message.message_status.as_deref().unwrap_or_default(),
                    message.fax_page_count.as_ref().map(value_text).unwrap_or_default(),
                    documents::document_link(self.host, document_id),
                    parent.label(),
                ),
                Filed::Failed => {
                    format!("Fax failed to be uploaded to Clio.\nFax document link: {document}\n\n{FOOTER}")
                }
                Filed::Nothing => format!("Fax document link: {document}\n\n{FOOTER}"),
            };
            return (subject, body);
        }
        let subject = format!("SMS conversation with {name} - {}", local.format("%m/%d/%Y"));
        let mut participants = format!("    {}\n    {name}\n", self.user_name);
        for correspondent in correspondents {
            participants.push_str(&format!("    {}\n", correspondent_name(correspondent)));
        }
        let body = format!(
            "\nConversation summary\n{}\nParticipants\n{participants}\nConversation(1 messages)\nBEGIN\n------------\n{}{LIST_END}\n\n{FOOTER}",
            local.format("%A, %B %d, %Y"),
            self.entry(message, media, filed),
        );
        (subject, body)
    }

    /// One message: sender and time on a line, then the text, then any picture or video link.
    fn entry(&self, message: &Message, media: &MessageMedia, filed: &Filed) -> String {
        let sender = if message.direction.as_deref() == Some("Inbound") {
            format!("{} ({})", self.contact.name, self.contact.phone_number.as_deref().unwrap_or_default())
        } else {
            self.user_name.to_owned()
        };
        let time = message_time(message).with_timezone(&self.offset).format("%I:%M %p");
        let mut entry = format!("{sender} {time}\n{}\n", message.subject.as_deref().unwrap_or_default());
        let image = media.image_link.as_deref().filter(|it| !it.is_empty());
        match (filed, image) {
            (Filed::Uploaded { document_id, .. }, _) => {
                entry.push_str(&format!("[Image]: {}\n", documents::document_link(self.host, document_id)));
            }
            (Filed::Failed, Some(link)) => entry.push_str(&format!("[Image - failed to upload]: {link}\n")),
            (_, Some(link)) => entry.push_str(&format!("[Image]: {link}\n")),
            (_, None) => {}
        }
        if let Some(link) = media.video_link.as_deref().filter(|it| !it.is_empty()) {
            entry.push_str(&format!("[Video]: {link}\n"));
        }
        entry
    }
}

/// `body` with `entry` added before the closing dashes and the message count raised by one.
///
/// A body whose end marker was edited away in Clio still gets the message, at the end: it must not be lost.
fn append_entry(body: &str, entry: &str) -> String {
    let mut appended = match body.rfind(LIST_END) {
        Some(at) => format!("{}{entry}{}", &body[..at], &body[at..]),
        None => format!("{body}\n{entry}"),
    };
    const COUNT_START: &str = "Conversation(";
    if let Some(start) = appended.find(COUNT_START).map(|it| it + COUNT_START.len())
        && let Some(length) = appended[start..].find(" messages)")
        && let Ok(count) = appended[start..start + length].parse::<u64>()
    {
        appended.replace_range(start..start + length, &count.saturating_add(1).to_string());
    }
    appended
}

/// A number or text as it reads in a log.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
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
fn message_time(message: &Message) -> DateTime<Utc> {
    parse_time(message.creation_time.as_deref()).unwrap_or_else(Utc::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_bumps_the_count_and_keeps_the_end_marker() {
        let body = "\nConversation summary\nParticipants\n\nConversation(1 messages)\nBEGIN\n------------\nA 09:30 AM\nHi\n------------\nEND\n\n--- Created via RingCentral App Connect";
        let appended = append_entry(body, "B 09:31 AM\nHello\n");
        assert!(appended.contains("Conversation(2 messages)"), "{appended}");
        assert!(appended.contains("A 09:30 AM\nHi\nB 09:31 AM\nHello\n------------\nEND\n"), "{appended}");
    }

    #[test]
    fn appending_to_an_edited_body_still_keeps_the_message() {
        assert_eq!(append_entry("edited", "B 09:31 AM\nHello\n"), "edited\nB 09:31 AM\nHello\n");
    }
}
