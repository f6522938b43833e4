//! SMS, voicemail and fax logs: one completed activity per conversation (or voicemail, or fax), with App Connect's
//! HTML message layout, and appending a later message to a conversation's activity.
//!
//! The layout is App Connect's, so that a log the reference wrote can be continued here and the other way round:
//!
//! ```text
//! <br><b>SMS conversation with Ada - 24/05/01</b><br><b>Conversation summary</b><br>Wednesday, May 01, 2024<br>
//! Participants<br><ul><li><b>agent</b><br></li><li><b>Ada</b></li></ul><br>
//! Conversation(1 messages)<br>BEGIN<br>------------<br>
//! <ul><li>Ada (+14155550100) 09:30 AM<br><b>Hello</b></li></ul>------------<br>END<br><br>
//! --- Created via RingCentral App Connect
//! ```
//!
//! As the reference's Redtail connector: the user is named by their Redtail username, and times are shown in the
//! user's `redtailCustomTimezone` offset (UTC without one). Unlike it, names and texts are HTML-escaped.
//! The shared message-log composer of the connector SDK (issue 9) is meant to replace the layout code here.

use callbridge_core::{
    ConnectorError, CreateMessageLogRequest, ErrorKind, LogContact, Message, MessageLogCreated, MessageLogUpdated,
    RequestContext, ReturnMessage, UpdateMessageLogRequest, User,
};
use chrono::{DateTime, FixedOffset, Offset, Utc};
use serde_json::Value;

use crate::NAME;
use crate::api::{ActivityUpdate, LinkedContactRef, NewActivity};
use crate::body::{custom_offset, escape};
use crate::connector::{PHONE_CALL_ACTIVITY, Redtail, complete, incomplete_log, numeric_or_text, warn_after_create};
use crate::manifest::CATEGORY_FIELD;
use crate::reconcile::record_marker;
use crate::time::iso;

/// Where a later message goes: the end of the message list.
const LIST_END: &str = "</ul>------------<br>";
const FOOTER: &str = "--- Created via RingCentral App Connect";

/// Logs a new conversation, voicemail or fax as a completed activity linked to the contact.
pub(crate) async fn create(
    connector: &Redtail,
    ctx: &RequestContext,
    request: CreateMessageLogRequest,
) -> Result<MessageLogCreated, ConnectorError> {
    let auth = connector.auth(ctx)?;
    let time = message_time(&request.message)?;
    let layout = Layout::new(&ctx.user, &request.contact);
    let (subject, description) = match &request.shared_sms_log_content {
        Some(shared) => (shared.subject.clone(), escape(&shared.body).replace('\n', "<br>")),
        None => layout.new_log(&request, time),
    };
    let category = request.additional_submission.get(CATEGORY_FIELD).filter(|it| !it.is_null());
    let category_id = category.map(|it| crate::connector::category_id(Some(it))).transpose()?;
    let activity = NewActivity {
        subject: &subject,
        description: &description,
        start_date: iso(time),
        end_date: iso(time),
        activity_code_id: PHONE_CALL_ACTIVITY,
        category_id,
        repeats: "never",
        linked_contacts: [LinkedContactRef { contact_id: numeric_or_text(&request.contact.id) }],
        location: record_marker(&request.record_key),
    };
    let created = connector.client.create_activity(&auth, &activity).await?;
    let log_id = created.id.0;
    let return_message = match complete(&connector.client, &auth, &log_id).await {
        Ok(()) => ReturnMessage::success("Message logged", 2000),
        Err(error) => {
            warn_after_create(&log_id, &error);
            incomplete_log()
        }
    };
    Ok(MessageLogCreated { log_id, return_message: Some(return_message) })
}

/// Adds a message to a conversation's activity: a new list item before the end marker, the count up by one, and
/// the activity's end moved to the message's time.
pub(crate) async fn append(
    connector: &Redtail,
    ctx: &RequestContext,
    request: UpdateMessageLogRequest,
) -> Result<MessageLogUpdated, ConnectorError> {
    let auth = connector.auth(ctx)?;
    let time = message_time(&request.message)?;
    let (activity, _) = connector.client.activity(&auth, &request.log_id).await?;
    let layout = Layout::new(&ctx.user, &request.contact);
    let description =
        append_entry(activity.description.as_deref().unwrap_or_default(), &layout.entry(&request.message, time));
    let update =
        ActivityUpdate { description: Some(&description), end_date: Some(iso(time)), ..ActivityUpdate::default() };
    connector.client.patch_activity(&auth, &request.log_id, &update).await?;
    Ok(MessageLogUpdated::default())
}

/// When the message was sent: its `creationTime`, which a log cannot do without (it dates the activity, and the
/// reconciliation lookup finds the activity by it).
pub(crate) fn message_time(message: &Message) -> Result<DateTime<Utc>, ConnectorError> {
    message
        .creation_time
        .as_deref()
        .and_then(|it| DateTime::parse_from_rfc3339(it.trim()).ok())
        .map(|it| it.with_timezone(&Utc))
        .ok_or_else(|| ConnectorError::new(ErrorKind::Rejected, "the message has no readable creationTime"))
}

/// Who and in which offset a message log is written.
struct Layout<'a> {
    /// The Redtail username: the user id without its `-redtail` suffix.
    user_name: &'a str,
    contact: &'a LogContact,
    offset: FixedOffset,
}

impl<'a> Layout<'a> {
    fn new(user: &'a User, contact: &'a LogContact) -> Self {
        let suffix = format!("-{NAME}");
        let user_name = user.id.strip_suffix(suffix.as_str()).unwrap_or(&user.id);
        let offset = custom_offset(&user.user_settings).unwrap_or(Utc.fix());
        Self { user_name, contact, offset }
    }

    /// The subject and description of a new log: a voicemail when a recording comes with it, a fax when a
    /// document does, else an SMS conversation.
    fn new_log(&self, request: &CreateMessageLogRequest, time: DateTime<Utc>) -> (String, String) {
        let local = time.with_timezone(&self.offset);
        let date = local.format("%y/%m/%d");
        let name = &self.contact.name;
        let link = |it: &Option<String>| it.clone().filter(|it| !it.trim().is_empty());
        if let Some(recording) = link(&request.media.recording_link) {
            let subject = format!("Voicemail left by {name} - {date}");
            let body = format!(
                "<br><b>{}</b><br>Voicemail recording link: {} <br><br>{FOOTER}",
                escape(&subject),
                escape(&recording)
            );
            return (subject, body);
        }
        if let Some(document) = link(&request.media.fax_doc_link) {
            let subject = format!("Fax document sent from {name} - {date}");
            let body =
                format!("<br><b>{}</b><br>Fax document link: {} <br><br>{FOOTER}", escape(&subject), escape(&document));
            return (subject, body);
        }
        let subject = format!("SMS conversation with {name} - {date}");
        let participants: String = request
            .correspondents
            .iter()
            .map(|it| format!("<li><b>{}</b></li>", escape(correspondent_name(it))))
            .collect();
        let body = format!(
            "<br><b>{}</b><br><b>Conversation summary</b><br>{}<br>Participants<br><ul><li><b>{}</b><br></li><li><b>{}</b></li>{participants}</ul><br>\
             Conversation(1 messages)<br>BEGIN<br>------------<br><ul>{}{LIST_END}END<br><br>{FOOTER}",
            escape(&subject),
            local.format("%A, %B %d, %Y"),
            escape(self.user_name),
            escape(name),
            self.entry(&request.message, time),
        );
        (subject, body)
    }

    /// One message: the sender and time, then the text in bold.
    fn entry(&self, message: &Message, time: DateTime<Utc>) -> String {
        let sender = match message.direction.as_deref() {
            Some("Inbound") => {
                format!("{} ({})", self.contact.name, self.contact.phone_number.as_deref().unwrap_or_default())
            }
            _ => self.user_name.to_owned(),
        };
        let shown = time.with_timezone(&self.offset).format("%I:%M %p");
        let text = message.subject.as_deref().unwrap_or_default();
        format!("<li>{} {shown}<br><b>{}</b></li>", escape(&sender), escape(text))
    }
}

/// `body` with `entry` before the list's end marker and `Conversation(N messages)` raised to N+1. A body whose
/// marker was edited away in Redtail still gets the message, at the end.
pub(crate) fn append_entry(body: &str, entry: &str) -> String {
    let appended = match body.find(LIST_END) {
        Some(at) => format!("{}{entry}{}", &body[..at], &body[at..]),
        None => format!("{body}<ul>{entry}</ul>"),
    };
    const COUNT: &str = "Conversation(";
    let Some(at) = appended.find(COUNT) else { return appended };
    let digits_start = at + COUNT.len();
    let digits_len = appended[digits_start..].bytes().take_while(u8::is_ascii_digit).count();
    let rest = &appended[digits_start + digits_len..];
    match appended[digits_start..digits_start + digits_len].parse::<u64>() {
        Ok(count) if rest.starts_with(" messages)") => {
            format!("{}{}{rest}", &appended[..digits_start], count.saturating_add(1))
        }
        _ => appended,
    }
}

/// A correspondent's name: the extension sends each as a list of matched contacts.
fn correspondent_name(correspondent: &Value) -> &str {
    let first = match correspondent {
        Value::Array(contacts) => contacts.first(),
        other => Some(other),
    };
    first.and_then(|it| it.get("name")).and_then(Value::as_str).unwrap_or("Unknown")
}
