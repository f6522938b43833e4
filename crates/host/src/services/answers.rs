//! The one place delivery outcomes become App Connect's answers: what the extension reads after a create,
//! update, disposition or message log, whether the CRM took it at once, later, or not at all.

use axum::response::{IntoResponse, Response};
use callbridge_core::ReturnMessage;

use crate::delivery::{Delivered, DeliveryOutcome, Refusal};
use crate::services::call_log::best_match;
use crate::services::reply::{Reply, failure, revoked, warning};
use crate::state::{AppState, ConnectorEntry};
use crate::store::CallLogKey;

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
            Reply::new(true).field("logId", log_id).message(return_message).into_response()
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
                .field("logId", log_id)
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
            .field("logId", log_id)
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
