//! The one place delivery outcomes become App Connect's answers: what the extension reads after a create,
//! update, disposition or message log, whether the CRM took it at once, later, or not at all.

use axum::response::{IntoResponse, Response};
use callbridge_core::{ContactInfo, IdType, ReturnMessage};
use serde_json::Value;

use crate::delivery::{Delivered, DeliveryOutcome, Refusal};
use crate::services::call_log::best_match;
use crate::services::reply::{Reply, failure, revoked, warning};
use crate::state::{AppState, ConnectorEntry};
use crate::store::CallLogKey;

/// The largest integer a JavaScript number holds exactly; a larger id stays text so the extension sees it whole.
const MAX_EXACT_JS_INTEGER: u64 = (1 << 53) - 1;

/// A CRM id as App Connect answers it for this connector (see [`wire_id_of`]).
pub fn wire_id(entry: &ConnectorEntry, id: &str) -> Value {
    wire_id_of(entry.connector.id_type(), id)
}

/// An id as App Connect answers it: a JSON number when the CRM's ids are numbers and this one is written as one
/// (digits, no leading zero), else the text as it is (`createNewContact`, prefixed ids).
fn wire_id_of(id_type: IdType, id: &str) -> Value {
    let canonical = !id.is_empty() && id.bytes().all(|it| it.is_ascii_digit()) && (id == "0" || !id.starts_with('0'));
    match id.parse::<u64>() {
        Ok(number) if id_type == IdType::Number && canonical && number <= MAX_EXACT_JS_INTEGER => Value::from(number),
        _ => Value::String(id.to_owned()),
    }
}

/// A contact as the extension reads it, its id typed by [`wire_id`].
pub fn wire_contact(entry: &ConnectorEntry, contact: &ContactInfo) -> Value {
    let mut value = serde_json::to_value(contact).unwrap_or(Value::Null);
    if let Some(fields) = value.as_object_mut() {
        fields.insert("id".to_owned(), wire_id(entry, &contact.id));
    }
    value
}

/// Contacts as the extension reads them.
pub fn wire_contacts(entry: &ConnectorEntry, contacts: &[ContactInfo]) -> Vec<Value> {
    contacts.iter().map(|contact| wire_contact(entry, contact)).collect()
}

/// "Existing log for session ...": the session is logged already.
pub fn existing_log(session_id: &str) -> Response {
    warning(format!("Existing log for session {session_id}"), 3000)
}

/// A saved operation the CRM has not taken yet, in plain words (the extension toasts it).
fn saved(entry: &ConnectorEntry, what: &str) -> ReturnMessage {
    ReturnMessage::warning(
        format!("Saved. {} is not reachable right now; this {what} as soon as it is.", entry.display_name),
        5000,
    )
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Message { message } => failure(message),
        Refusal::Revoked => revoked(),
    }
}

/// The answer to `POST /callLog`.
pub async fn call_created(
    state: &AppState,
    entry: &ConnectorEntry,
    key: &CallLogKey,
    outcome: DeliveryOutcome,
) -> Response {
    match outcome {
        DeliveryOutcome::Delivered(Delivered::CallCreated { log_id, return_message }) => {
            Reply::new(true).field("logId", wire_id(entry, &log_id)).message(return_message).into_response()
        }
        DeliveryOutcome::Delivered(Delivered::CallAlreadyLogged { .. }) => existing_log(&key.session_id),
        DeliveryOutcome::Delivered(_) | DeliveryOutcome::DeliveredElsewhere => {
            // Another runner made the record, maybe for a request naming another identity of the same extension
            // (browser and server-side logging): the store has its id.
            let rows = state.store.find_call_logs(&key.user_id, std::slice::from_ref(&key.session_id)).await;
            let log_id = rows.ok().and_then(|rows| {
                best_match(&rows, &key.session_id, &key.extension_number, &key.hashed_extension_id)
                    .and_then(|row| row.third_party_log_id.clone())
            });
            Reply::new(true)
                .field("logId", log_id.map(|it| wire_id(entry, &it)))
                .message(Some(ReturnMessage::success("Call logged", 2000)))
                .into_response()
        }
        DeliveryOutcome::Refused(refusal) => refused(refusal),
        DeliveryOutcome::Queued => Reply::new(true).message(Some(saved(entry, "call will be logged"))).into_response(),
    }
}

/// The answer to `PATCH /callLog`.
pub fn call_updated(entry: &ConnectorEntry, outcome: DeliveryOutcome) -> Response {
    match outcome {
        DeliveryOutcome::Delivered(Delivered::CallUpdated { log_id, updated_note, return_message }) => Reply::new(true)
            .field("logId", wire_id(entry, &log_id))
            .field("updatedNote", updated_note)
            .message(return_message)
            .into_response(),
        DeliveryOutcome::Delivered(_) | DeliveryOutcome::DeliveredElsewhere => {
            Reply::new(true).message(Some(ReturnMessage::success("Call log updated.", 2000))).into_response()
        }
        DeliveryOutcome::Refused(refusal) => refused(refusal),
        DeliveryOutcome::Queued => Reply::new(true).message(Some(saved(entry, "change will be saved"))).into_response(),
    }
}

/// The answer to `PUT /callDisposition`.
pub fn disposition_set(entry: &ConnectorEntry, outcome: DeliveryOutcome) -> Response {
    match outcome {
        DeliveryOutcome::Delivered(Delivered::DispositionSet { log_id, return_message }) => {
            let log_id = log_id.map(|it| wire_id(entry, &it));
            Reply::new(log_id.is_some()).field("logId", log_id).message(return_message).into_response()
        }
        DeliveryOutcome::Delivered(Delivered::DispositionUnsupported) => Reply::new(false).into_response(),
        DeliveryOutcome::Delivered(_) | DeliveryOutcome::DeliveredElsewhere => Reply::new(true).into_response(),
        DeliveryOutcome::Refused(refusal) => refused(refusal),
        DeliveryOutcome::Queued => Reply::new(true).message(Some(saved(entry, "change will be saved"))).into_response(),
    }
}

/// The answer to `POST /messageLog`; `message_ids` are the request's (the ones that will be logged).
pub fn messages_logged(entry: &ConnectorEntry, message_ids: Vec<String>, outcome: DeliveryOutcome) -> Response {
    let answer = |successful: bool, log_ids: Vec<String>, message: Option<ReturnMessage>| {
        // The extension reads `logIds.length` unguarded: always an array.
        Reply::new(successful).field("logIds", log_ids).message(message).into_response()
    };
    match outcome {
        DeliveryOutcome::Delivered(Delivered::MessagesLogged { log_ids, return_message }) => {
            answer(true, log_ids, return_message)
        }
        DeliveryOutcome::Delivered(_) | DeliveryOutcome::DeliveredElsewhere => answer(true, message_ids, None),
        DeliveryOutcome::Refused(Refusal::Revoked) => revoked(),
        DeliveryOutcome::Refused(Refusal::Message { message }) => answer(false, Vec::new(), Some(message)),
        DeliveryOutcome::Queued => answer(true, message_ids, Some(saved(entry, "message will be logged"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numeric_ids_are_numbers_only_where_the_crm_types_them_so() {
        assert_eq!(wire_id_of(IdType::Number, "401"), json!(401));
        assert_eq!(wire_id_of(IdType::Number, "0"), json!(0));
        assert_eq!(wire_id_of(IdType::Number, "9007199254740991"), json!(9_007_199_254_740_991u64));
        // Kept as text: not a canonical integer, or past what a JavaScript number holds exactly.
        for id in ["createNewContact", "007", "12a", "-5", "1.5", "", "9007199254740992", "99999999999999999999"] {
            assert_eq!(wire_id_of(IdType::Number, id), json!(id), "{id}");
        }
        assert_eq!(wire_id_of(IdType::Text, "401"), json!("401"));
    }
}
