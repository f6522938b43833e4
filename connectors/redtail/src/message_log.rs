//! SMS, voicemail and fax logs: one completed activity per conversation (or voicemail, or fax), in App Connect's
//! HTML message layout (the SDK's `compose::message`), and appending a later message to a conversation's activity.
//!
//! As the reference's Redtail connector: the user is named by their Redtail username, and times are shown in the
//! user's `redtailCustomTimezone` offset (UTC without one), Redtail giving no time zone of its own.

use callbridge_core::compose::message::{Layout, MessageKind, append_entry, parse_time};
use callbridge_core::{
    ConnectorError, CreateMessageLogRequest, LogContact, Message, MessageLogCreated, MessageLogUpdated, RequestContext,
    ReturnMessage, UpdateMessageLogRequest, User,
};
use chrono::{DateTime, Offset, Utc};

use crate::NAME;
use crate::api::{ActivityUpdate, LinkedContactRef, NewActivity};
use crate::body::custom_offset;
use crate::connector::{
    PHONE_CALL_ACTIVITY, Redtail, category_id, complete, incomplete_log, numeric_or_text, warn_after_create,
};
use crate::manifest::CATEGORY_FIELD;
use crate::reconcile::record_marker;
use crate::time::iso;

/// Logs a new conversation, voicemail or fax as a completed activity linked to the contact, dated when the message
/// was sent (or, for a shared conversation, when it began).
pub(crate) async fn create(
    connector: &Redtail,
    ctx: &RequestContext,
    request: CreateMessageLogRequest,
) -> Result<MessageLogCreated, ConnectorError> {
    let auth = ctx.auth_header.clone();
    let user_name = username(&ctx.user);
    let layout = layout(&ctx.user, user_name, &request.contact);
    let (subject, description, time) = match request.shared_log() {
        Some(shared) => (
            shared.subject.clone(),
            shared.body.clone(),
            shared.created_at().unwrap_or_else(|| layout.sent_at(&request.message)),
        ),
        None => {
            let kind = MessageKind::of(&request.media);
            let (subject, description) = layout.new_log(kind, &request.correspondents, &request.message);
            (subject, description, layout.sent_at(&request.message))
        }
    };
    // The reference drops the form's category for messages; the form offers it, so it is kept.
    let category = request.additional_submission.get(CATEGORY_FIELD).filter(|it| !it.is_null());
    let activity = NewActivity {
        subject: &subject,
        description: &description,
        start_date: iso(time),
        end_date: iso(time),
        activity_code_id: PHONE_CALL_ACTIVITY,
        category_id: category.map(|it| category_id(Some(it))).transpose()?,
        repeats: "never",
        linked_contacts: [LinkedContactRef { contact_id: numeric_or_text(&request.contact.id) }],
        // As the reference: message logs stay with the session's user.
        attendees: None,
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

/// Adds a message to a conversation's activity (a new list item, the count up by one) and moves the activity's end
/// to the message's time; a shared conversation's prepared body replaces the description instead.
pub(crate) async fn append(
    connector: &Redtail,
    ctx: &RequestContext,
    request: UpdateMessageLogRequest,
) -> Result<MessageLogUpdated, ConnectorError> {
    let auth = ctx.auth_header.clone();
    let layout = layout(&ctx.user, username(&ctx.user), &request.contact);
    let description = match request.shared_body() {
        Some(body) => body.to_owned(),
        None => {
            let (activity, _) = connector.client.activity(&auth, &request.log_id).await?;
            append_entry(activity.description.as_deref().unwrap_or_default(), &layout.entry(&request.message))
        }
    };
    let end_date = Some(iso(layout.sent_at(&request.message)));
    let update = ActivityUpdate { description: Some(&description), end_date, ..ActivityUpdate::default() };
    connector.client.patch_activity(&auth, &request.log_id, &update).await?;
    Ok(MessageLogUpdated::default())
}

/// When the message was sent, as the create dated its activity; what the reconciliation lookup searches around.
pub(crate) fn message_time(message: &Message) -> DateTime<Utc> {
    parse_time(message.creation_time.as_deref()).unwrap_or_else(Utc::now)
}

/// The Redtail username: the user id without its `-redtail` suffix.
fn username(user: &User) -> &str {
    user.id.strip_suffix(&format!("-{NAME}")).unwrap_or(&user.id)
}

fn layout<'a>(user: &User, user_name: &'a str, contact: &'a LogContact) -> Layout<'a> {
    let offset = custom_offset(&user.user_settings).unwrap_or(Utc.fix());
    Layout { user_name, contact, offset, now: Utc::now() }
}
