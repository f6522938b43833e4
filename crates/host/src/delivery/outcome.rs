//! What delivering one operation can come to, as types: the services turn these into App Connect's answers
//! (`services/answers.rs`), the engine into retries, failures and metrics.

use std::time::Duration;

use callbridge_core::{ConnectorError, Operation, ReturnMessage};
use serde::{Deserialize, Serialize};

use crate::services::auth_context::ContextError;
use crate::state::ConnectorEntry;

/// An operation the CRM has applied.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivered {
    CallCreated {
        log_id: String,
        return_message: Option<ReturnMessage>,
    },
    /// The session was logged already (by an earlier request): nothing was created.
    CallAlreadyLogged {
        log_id: String,
    },
    CallUpdated {
        log_id: String,
        updated_note: Option<String>,
        return_message: Option<ReturnMessage>,
    },
    DispositionSet {
        log_id: Option<String>,
        return_message: Option<ReturnMessage>,
    },
    /// The connector has no dispositions: nothing to do.
    DispositionUnsupported,
    MessagesLogged {
        log_ids: Vec<String>,
        return_message: Option<ReturnMessage>,
    },
}

/// Why an operation can never succeed as it is: the user is told, and the job stops (failed) until the user
/// or an operator asks again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "refusal", rename_all = "camelCase")]
pub enum Refusal {
    /// The CRM refused, or the request cannot be carried out: the reference's message for it.
    Message { message: ReturnMessage },
    /// The CRM refused the refresh token: the user must connect again (HTTP 401 `CRM_SESSION_REVOKED`).
    Revoked,
}

/// How an attempt at an operation failed.
#[derive(Debug)]
pub enum AttemptFailure {
    /// Worth another attempt later (the CRM is down, slow or rate-limiting, the database hiccuped).
    Temporary {
        error: String,
        retry_after: Option<Duration>,
    },
    Permanent {
        error: String,
        refusal: Refusal,
    },
}

impl AttemptFailure {
    /// A failed CRM call of `operation`: temporary when the CRM may accept it later, or when a write may have
    /// reached the CRM (the next attempt looks for the record before writing again).
    pub fn from_connector(error: &ConnectorError, operation: Operation, entry: &ConnectorEntry) -> Self {
        let text = crate::telemetry::redact_numbers(&error.to_string());
        if error.is_temporary() || error.outcome_unknown() {
            return AttemptFailure::Temporary { error: text, retry_after: error.retry_after() };
        }
        let message = error.to_return_message(operation, &entry.display_name);
        AttemptFailure::Permanent { error: text, refusal: Refusal::Message { message } }
    }

    pub fn from_context(error: &ContextError, operation: Operation, entry: &ConnectorEntry) -> Self {
        match error {
            ContextError::Revoked => {
                AttemptFailure::Permanent { error: "the CRM session is revoked".to_owned(), refusal: Refusal::Revoked }
            }
            ContextError::UserGone => {
                AttemptFailure::refused("user not found", ReturnMessage::warning("User not found", 5000))
            }
            ContextError::Connector(error) => AttemptFailure::from_connector(error, operation, entry),
            ContextError::Store(error) => AttemptFailure::Temporary { error: error.to_string(), retry_after: None },
        }
    }

    pub fn refused(error: impl Into<String>, message: ReturnMessage) -> Self {
        AttemptFailure::Permanent { error: error.into(), refusal: Refusal::Message { message } }
    }
}

impl From<crate::store::StoreError> for AttemptFailure {
    fn from(error: crate::store::StoreError) -> Self {
        AttemptFailure::Temporary { error: error.to_string(), retry_after: None }
    }
}

/// What a request that submitted an operation learns within its wait.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryOutcome {
    /// This process applied it.
    Delivered(Delivered),
    /// Another instance applied it; the store has the result.
    DeliveredElsewhere,
    /// It failed for good (the job is failed): tell the user why.
    Refused(Refusal),
    /// Saved, not applied yet: the CRM is unreachable or slow, and a worker will finish it.
    Queued,
}
