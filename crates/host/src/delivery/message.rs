//! Applying a conversation's message log to the CRM: each message not logged yet, oldest first, the first of a
//! conversation log as a new record and later ones appended to it. Each message's mapping is recorded as soon as
//! the CRM has it, so a later attempt (after a crash or an outage) goes on where the last one stopped.

use callbridge_core::compose::message::parse_time;
use callbridge_core::compose::message_media::media_of;
use callbridge_core::compose::shared_sms::{SharedConversation, shared_sms_log};
use callbridge_core::compose::{LogFormat, user_offset};
use callbridge_core::connector::{CreateMessageLogRequest, LogContact, SharedSmsContent, UpdateMessageLogRequest};
use callbridge_core::{AdditionalSubmission, ConnectorError, Operation, RequestContext, ReturnMessage, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::call::{record_key, unknown_outcome};
use super::{Applied, AttemptFailure, Delivered};
use crate::metrics::crm_call;
use crate::services::auth_context::{RequestFacts, context_for};
use crate::services::message_log::ConversationLog;
use crate::state::{AppState, ConnectorEntry};
use crate::store::{JobOp, MessageLogRow, StoreError};

/// A queued `POST /messageLog`, validated: the contact and ids are final (group suffix applied).
#[derive(Debug, Serialize, Deserialize)]
pub struct MessageLogPayload {
    pub facts: RequestFacts,
    pub contact: LogContact,
    /// `-<contactId>` in a group conversation (each contact gets its own copy), else empty.
    pub group_suffix: String,
    pub log_info: ConversationLog,
    #[serde(default)]
    pub additional_submission: AdditionalSubmission,
}

impl MessageLogPayload {
    /// The conversation log the messages join, per contact.
    pub fn conversation_log_id(&self) -> Option<String> {
        self.log_info.conversation_log_id.clone().map(|it| format!("{it}{}", self.group_suffix))
    }
}

pub(super) async fn log(
    state: &AppState,
    entry: &ConnectorEntry,
    user: User,
    op: &JobOp,
    payload: MessageLogPayload,
) -> Result<Applied, AttemptFailure> {
    let ctx = context_for(state, entry, user, &payload.facts)
        .await
        .map_err(|error| AttemptFailure::from_context(&error, Operation::CreateMessageLog, entry))?;
    let store = &state.store;
    let connector = &entry.connector;
    let user_id = ctx.user.id.clone();
    let conversation_log_id = payload.conversation_log_id();
    let mut log_ids = Vec::new();
    let mut return_message: Option<ReturnMessage> = None;
    let mut marked_sent = false;
    let shared = shared_content(&payload, connector.log_format(), &ctx);
    let log_info = &payload.log_info;
    let (owner_name, assignee_name) = (log_info.owner_name().map(str::to_owned), assignee_name(log_info));
    // Oldest first: the extension lists the newest message first.
    for message in log_info.messages.iter().rev() {
        let Some(message_id) = message.id.clone().map(|it| format!("{it}{}", payload.group_suffix)) else { continue };
        if store.message_log(&user_id, &message_id).await?.is_some() {
            log_ids.push(message_id);
            continue;
        }
        let existing = match &conversation_log_id {
            Some(id) => store.message_log_by_conversation(&user_id, id).await?,
            None => None,
        };
        // A shared conversation is one body holding every message: one write per attempt puts them all in.
        if let (Some(_), Some(row)) = (&shared, &existing)
            && marked_sent
        {
            record(
                state,
                connector.name(),
                &payload,
                &user_id,
                &message_id,
                conversation_log_id.clone(),
                row.third_party_log_id.clone(),
            )
            .await?;
            log_ids.push(message_id);
            continue;
        }
        if !marked_sent {
            store.mark_op_sent(op.id, true).await?;
            marked_sent = true;
        }
        // Validated when the request came in; a message whose media no longer reads is logged without it.
        let media = media_of(message, log_info.rc_access_token.as_deref()).unwrap_or_default();
        let log_id = match existing {
            Some(row) => {
                let request = UpdateMessageLogRequest {
                    contact: payload.contact.clone(),
                    log_id: row.third_party_log_id.clone(),
                    assignee_name: assignee_name.clone(),
                    owner_name: owner_name.clone(),
                    shared_sms_log_content: shared.clone(),
                    message: message.clone(),
                    additional_submission: payload.additional_submission.clone(),
                    // An earlier attempt sent CRM writes whose outcome is unknown: this append may be among them.
                    maybe_applied: op.sent_at.is_some(),
                    media,
                };
                let operation = Operation::UpdateMessageLog;
                let updated = crm_call(connector.name(), operation, connector.update_message_log(&ctx, request))
                    .await
                    .map_err(|error| AttemptFailure::from_connector(&error, operation, entry))?;
                return_message = updated.return_message.or(return_message);
                row.third_party_log_id
            }
            None => {
                let request = CreateMessageLogRequest {
                    record_key: record_key(&user_id, "message", &message_id),
                    contact: payload.contact.clone(),
                    correspondents: log_info.correspondents.clone(),
                    assignee_name: assignee_name.clone(),
                    owner_name: owner_name.clone(),
                    shared_sms_log_content: shared.clone(),
                    message: message.clone(),
                    additional_submission: payload.additional_submission.clone(),
                    media,
                };
                let found = match op.sent_at {
                    Some(_) => find_created(entry, &ctx, &request).await?,
                    None => None,
                };
                match found {
                    Some(log_id) => log_id,
                    None => {
                        let (log_id, message) = create(entry, &ctx, request).await?;
                        return_message = message.or(return_message);
                        log_id
                    }
                }
            }
        };
        record(state, connector.name(), &payload, &user_id, &message_id, conversation_log_id.clone(), log_id).await?;
        log_ids.push(message_id);
    }
    Ok(Applied { delivered: Delivered::MessagesLogged { log_ids, return_message }, call_log: None })
}

/// Records that `message_id` is in the CRM record `log_id`.
async fn record(
    state: &AppState,
    platform: &str,
    payload: &MessageLogPayload,
    user_id: &str,
    message_id: &str,
    conversation_log_id: Option<String>,
    log_id: String,
) -> Result<(), AttemptFailure> {
    let row = MessageLogRow {
        id: message_id.to_owned(),
        user_id: user_id.to_owned(),
        platform: platform.to_owned(),
        conversation_id: payload.log_info.conversation_id.clone(),
        conversation_log_id,
        third_party_log_id: log_id,
    };
    match state.store.insert_message_log(&row).await {
        Ok(()) | Err(StoreError::AlreadyExists(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

async fn create(
    entry: &ConnectorEntry,
    ctx: &callbridge_core::RequestContext,
    request: CreateMessageLogRequest,
) -> Result<(String, Option<ReturnMessage>), AttemptFailure> {
    let connector = &entry.connector;
    let operation = Operation::CreateMessageLog;
    match crm_call(connector.name(), operation, connector.create_message_log(ctx, request)).await {
        Ok(created) if !created.log_id.is_empty() => Ok((created.log_id, created.return_message)),
        Ok(created) => {
            let message = created.return_message.unwrap_or_else(|| {
                ConnectorError::upstream("no record id").to_return_message(operation, &entry.display_name)
            });
            Err(AttemptFailure::refused("the connector created no record", message))
        }
        Err(error) => Err(AttemptFailure::from_connector(&error, operation, entry)),
    }
}

async fn find_created(
    entry: &ConnectorEntry,
    ctx: &callbridge_core::RequestContext,
    request: &CreateMessageLogRequest,
) -> Result<Option<String>, AttemptFailure> {
    let connector = &entry.connector;
    let operation = Operation::FindCreatedRecord;
    if !connector.operations().contains(&operation) {
        return Err(unknown_outcome(entry));
    }
    crm_call(connector.name(), operation, connector.find_created_message_log(ctx, request))
        .await
        .map_err(|error| AttemptFailure::from_connector(&error, operation, entry))
}

/// A shared conversation's log, composed in the connector's format (plain text for a connector with its own), in
/// the user's time zone; `None` for a conversation that is not shared.
fn shared_content(
    payload: &MessageLogPayload,
    format: Option<LogFormat>,
    ctx: &RequestContext,
) -> Option<SharedSmsContent> {
    let log_info = &payload.log_info;
    log_info.owner_name()?;
    let updated = log_info
        .messages
        .iter()
        .filter_map(|it| parse_time(it.extra.get("lastModifiedTime").and_then(Value::as_str)))
        .max();
    let conversation = SharedConversation {
        contact_name: &payload.contact.name,
        owner: log_info.owner.as_ref(),
        entities: &log_info.entities,
        created: parse_time(log_info.creation_time.as_deref()),
        updated,
        offset: user_offset(ctx.user.timezone_offset.as_ref()),
    };
    Some(shared_sms_log(format.unwrap_or(LogFormat::PlainText), &conversation, log_info.creation_time.as_deref()))
}

fn assignee_name(log_info: &ConversationLog) -> Option<String> {
    log_info.assignee.as_ref().and_then(|it| it.name.clone()).filter(|it| !it.is_empty())
}

/// The contact of a message log, from the request's fields.
pub fn log_contact(
    contact_id: String,
    log_info: &ConversationLog,
    kind: Option<String>,
    name: Option<String>,
) -> LogContact {
    let phone_number = log_info
        .correspondents
        .first()
        .and_then(|it| it.get("phoneNumber"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    LogContact {
        id: contact_id,
        phone_number: Some(phone_number),
        kind: kind.unwrap_or_default(),
        name: name.unwrap_or_default(),
    }
}
