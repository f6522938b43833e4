//! Message logging (`POST /messageLog`): the request is validated in full, then handed to the delivery engine
//! as the conversation's job (`crate::delivery`), which puts each not-yet-logged message into the CRM exactly
//! once, the first of a conversation log as a new record and later ones appended to it. Concurrent and repeated
//! requests for one conversation merge or queue behind each other, so nothing is created or appended twice.

use axum::response::{IntoResponse, Response};
use callbridge_core::compose::message_media::media_of;
use callbridge_core::compose::shared_sms::{ConversationEntity, Participant};
use callbridge_core::connector::Message;
use callbridge_core::{AdditionalSubmission, ReturnMessage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::delivery::{self, MessageLogPayload, log_contact};
use crate::error::ApiError;
use crate::extract::{check_id, lenient_string};
use crate::hashing::hash_id;
use crate::services::answers;
use crate::services::auth_context::RequestFacts;
use crate::services::reply::{Reply, database_failure, platform_entry};
use crate::session::Session;
use crate::state::AppState;
use crate::store::{JobSubject, NewOp, OpKind};

/// The most messages one request may log; a conversation day of the extension has far fewer.
const MAX_MESSAGES: usize = 500;

/// The conversation object the extension sends in `logInfo`.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationLog {
    #[serde(default, deserialize_with = "lenient_string")]
    pub conversation_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub conversation_log_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub correspondents: Vec<Value>,
    /// The extension's RingCentral token, for fax and MMS download links (`compose::message_media`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc_access_token: Option<String>,
    /// A shared conversation's owner (a user or call queue); its presence makes the log a shared-SMS log.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub owner: Option<Participant>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub assignee: Option<Participant>,
    /// A shared conversation's messages, assignments and notes.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub entities: Vec<ConversationEntity>,
    /// When a shared conversation started.
    #[serde(default)]
    pub creation_time: Option<String>,
}

impl ConversationLog {
    /// The owner's name when this is a shared conversation.
    pub fn owner_name(&self) -> Option<&str> {
        self.owner.as_ref().and_then(|it| it.name.as_deref()).filter(|it| !it.is_empty())
    }
}

/// The body of `POST /messageLog`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageLogBody {
    pub log_info: ConversationLog,
    #[serde(default)]
    pub contact_id: Option<Value>,
    #[serde(default)]
    pub contact_type: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub additional_submission: Option<AdditionalSubmission>,
}

fn failure(message: ReturnMessage) -> Response {
    Reply::new(false).field("logIds", Vec::<String>::new()).message(Some(message)).into_response()
}

/// `POST /messageLog`.
pub async fn create(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    body: MessageLogBody,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let log_info = body.log_info;
    if log_info.messages.len() > MAX_MESSAGES {
        return Err(ApiError::bad_request(format!("Too many messages: at most {MAX_MESSAGES} per request.")));
    }
    if log_info.messages.is_empty() {
        return Ok(failure(ReturnMessage::warning("No message to log.", 3000)));
    }
    let contact = log_contact(String::new(), &log_info, body.contact_type, body.contact_name);
    let contact_id = match body.contact_id {
        Some(Value::String(text)) if !text.trim().is_empty() && text != "createNewContact" => text,
        Some(Value::Number(number)) if number.as_f64() != Some(0.0) => number.to_string(),
        _ => {
            let number = contact.phone_number.unwrap_or_default();
            return Ok(failure(ReturnMessage::warning(format!("Contact not found for number {number}"), 5000)));
        }
    };
    check_id("contactId", &contact_id)?;
    // In a group conversation each contact gets its own copy, so ids carry the contact's id.
    let group_suffix = if log_info.correspondents.len() > 1 { format!("-{contact_id}") } else { String::new() };
    // Every id is checked before anything is written: a bad one rejects the whole request.
    let mut message_ids = Vec::new();
    for message in log_info.messages.iter().rev() {
        if let Some(id) = &message.id {
            let message_id = format!("{id}{group_suffix}");
            check_id("message id", &message_id)?;
            message_ids.push(message_id);
        }
    }
    // Attachments, links and the token are checked now, so a bad request changes nothing.
    for message in &log_info.messages {
        media_of(message, log_info.rc_access_token.as_deref()).map_err(ApiError::bad_request)?;
    }
    let payload = MessageLogPayload {
        facts: facts.clone(),
        contact: callbridge_core::connector::LogContact { id: contact_id, ..contact },
        group_suffix,
        log_info,
        additional_submission: body.additional_submission.unwrap_or_default(),
    };
    if let Some(id) = payload.conversation_log_id() {
        check_id("conversationLogId", &id)?;
    }
    let Some(user) = (match session.crm_user(&state.store, entry.connector.name()) {
        Ok(user) => user,
        Err(error) => return Ok(database_failure(&error)),
    }) else {
        return Ok(failure(ReturnMessage::warning("User not found", 5000)));
    };
    // One job per conversation log (per contact), so its appends never race.
    let conversation = payload
        .conversation_log_id()
        .or_else(|| payload.log_info.conversation_id.clone())
        .or_else(|| message_ids.last().cloned())
        .unwrap_or_default();
    let subject = JobSubject::message(&user.id, entry.connector.name(), &conversation);
    let json = serde_json::to_string(&payload).map_err(|error| ApiError::internal(format!("payload: {error}")))?;
    let fingerprint = hash_id(&json, OpKind::MessageLog.as_str());
    let op = NewOp { kind: OpKind::MessageLog, payload: json, fingerprint };
    let reads = delivery::RequestReads { user, logged: None };
    match delivery::submit(state, &subject, op, Some(reads)).await {
        Ok((_, outcome)) => Ok(answers::messages_logged(entry, message_ids, outcome)),
        Err(error) => Ok(database_failure(&error)),
    }
}
