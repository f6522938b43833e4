//! Message logging (`POST /messageLog`): each not-yet-logged message of a conversation goes into the CRM, the first
//! of a conversation log as a new record and later ones appended to it. The answer always carries `logIds` as an
//! array, which the extension reads without a check.

use axum::response::{IntoResponse, Response};
use callbridge_core::connector::{CreateMessageLogRequest, LogContact, Message, UpdateMessageLogRequest};
use callbridge_core::{AdditionalSubmission, Operation, ReturnMessage, User};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{check_id, lenient_string};
use crate::metrics::crm_call;
use crate::services::auth_context::{RequestFacts, context_for};
use crate::services::reply::{Reply, platform_entry};
use crate::session::Session;
use crate::state::AppState;
use crate::store::MessageLogRow;

/// The most messages one request may log; a conversation day of the extension has far fewer.
const MAX_MESSAGES: usize = 500;

/// The conversation object the extension sends in `logInfo`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationLog {
    #[serde(default, deserialize_with = "lenient_string")]
    pub conversation_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub conversation_log_id: Option<String>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub correspondents: Vec<Value>,
}

/// The body of `POST /messageLog`.
#[derive(Debug, Deserialize)]
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
    pub additional_submission: Option<AdditionalSubmission>,
}

fn answer(successful: bool, log_ids: Vec<String>, message: Option<ReturnMessage>) -> Response {
    Reply::new(successful).field("logIds", log_ids).message(message).into_response()
}

fn failure(message: ReturnMessage) -> Response {
    answer(false, Vec::new(), Some(message))
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
    let contact_number = log_info
        .correspondents
        .first()
        .and_then(|it| it.get("phoneNumber"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let contact_id = match body.contact_id {
        Some(Value::String(text)) if !text.trim().is_empty() && text != "createNewContact" => text,
        Some(Value::Number(number)) if number.as_f64() != Some(0.0) => number.to_string(),
        _ => {
            return Ok(failure(ReturnMessage::warning(format!("Contact not found for number {contact_number}"), 5000)));
        }
    };
    check_id("contactId", &contact_id)?;
    let user: User = match state.store.user(session.user_id()).await {
        Ok(Some(user)) if user.platform == entry.connector.name() && !user.access_token.is_empty() => user,
        Ok(_) => return Ok(failure(ReturnMessage::warning("User not found", 5000))),
        Err(error) => {
            tracing::error!(%error, "Database operation failed.");
            return Ok(failure(ReturnMessage::warning("Database operation failed", 5000)));
        }
    };
    let ctx = match context_for(state, entry, user, facts).await {
        Ok(ctx) => ctx,
        Err(crate::services::auth_context::ContextError::Revoked) => return Ok(crate::services::reply::revoked()),
        Err(error) => {
            tracing::warn!(%error, "No CRM context for a message log.");
            return Ok(failure(ReturnMessage::warning("Error creating message log", 5000)));
        }
    };
    // In a group conversation each contact gets its own copy, so ids carry the contact's id.
    let group_suffix = if log_info.correspondents.len() > 1 { format!("-{contact_id}") } else { String::new() };
    let conversation_log_id = log_info.conversation_log_id.clone().map(|it| format!("{it}{group_suffix}"));
    let contact = LogContact {
        id: contact_id,
        phone_number: Some(contact_number),
        kind: body.contact_type.unwrap_or_default(),
        name: body.contact_name.unwrap_or_default(),
    };
    let additional_submission = body.additional_submission.unwrap_or_default();
    let connector = &entry.connector;
    let mut log_ids = Vec::new();
    let mut return_message = None;
    // Oldest first: the extension lists the newest message first.
    for message in log_info.messages.into_iter().rev() {
        let Some(message_id) = message.id.clone().map(|it| format!("{it}{group_suffix}")) else { continue };
        check_id("message id", &message_id)?;
        let store = &state.store;
        match store.message_log(&ctx.user.id, &message_id).await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(error) => {
                tracing::error!(%error, "Database operation failed.");
                return Ok(answer(false, log_ids, Some(ReturnMessage::warning("Database operation failed", 5000))));
            }
        }
        let existing = match &conversation_log_id {
            Some(id) => store.message_log_by_conversation(&ctx.user.id, id).await.ok().flatten(),
            None => None,
        };
        let log_id = match existing {
            Some(row) => {
                let request = UpdateMessageLogRequest {
                    contact: contact.clone(),
                    log_id: row.third_party_log_id.clone(),
                    message,
                    additional_submission: additional_submission.clone(),
                    ..UpdateMessageLogRequest::default()
                };
                match crm_call(
                    connector.name(),
                    Operation::UpdateMessageLog,
                    connector.update_message_log(&ctx, request),
                )
                .await
                {
                    Ok(updated) => {
                        return_message = updated.return_message.or(return_message);
                        row.third_party_log_id
                    }
                    Err(error) => {
                        let message = error.to_return_message(Operation::UpdateMessageLog, &entry.display_name);
                        return Ok(answer(false, log_ids, Some(message)));
                    }
                }
            }
            None => {
                let request = CreateMessageLogRequest {
                    contact: contact.clone(),
                    correspondents: log_info.correspondents.clone(),
                    message,
                    additional_submission: additional_submission.clone(),
                    ..CreateMessageLogRequest::default()
                };
                match crm_call(
                    connector.name(),
                    Operation::CreateMessageLog,
                    connector.create_message_log(&ctx, request),
                )
                .await
                {
                    Ok(created) if !created.log_id.is_empty() => {
                        return_message = created.return_message.or(return_message);
                        created.log_id
                    }
                    Ok(created) => return Ok(answer(false, log_ids, created.return_message)),
                    Err(error) => {
                        let message = error.to_return_message(Operation::CreateMessageLog, &entry.display_name);
                        return Ok(answer(false, log_ids, Some(message)));
                    }
                }
            }
        };
        let row = MessageLogRow {
            id: message_id.clone(),
            user_id: ctx.user.id.clone(),
            platform: connector.name().to_owned(),
            conversation_id: log_info.conversation_id.clone(),
            conversation_log_id: conversation_log_id.clone(),
            third_party_log_id: log_id,
        };
        if let Err(error) = store.insert_message_log(&row).await {
            tracing::warn!(%error, "Recording a logged message failed.");
        }
        log_ids.push(message_id);
    }
    Ok(answer(true, log_ids, return_message))
}
