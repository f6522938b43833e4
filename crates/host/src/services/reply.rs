//! App Connect's answers for business outcomes: HTTP 200 with `successful` and a `returnMessage`, and the
//! mapping of context failures (revoked session, CRM error, database error) onto them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callbridge_core::{ConnectorError, ErrorKind, Operation, ReturnMessage};
use serde_json::{Map, Value};

use crate::error::{ApiError, ResponseError, session_revoked_body};
use crate::services::auth_context::ContextError;
use crate::state::ConnectorEntry;
use crate::store::StoreError;

/// A JSON object answer under construction; `None` fields are left out, as JavaScript's `undefined` is.
#[derive(Debug, Default)]
pub struct Reply {
    fields: Map<String, Value>,
}

impl Reply {
    pub fn new(successful: bool) -> Self {
        let mut fields = Map::new();
        fields.insert("successful".to_owned(), Value::Bool(successful));
        Self { fields }
    }

    pub fn field(mut self, name: &str, value: impl serde::Serialize) -> Self {
        if let Ok(value) = serde_json::to_value(value)
            && !value.is_null()
        {
            self.fields.insert(name.to_owned(), value);
        }
        self
    }

    pub fn message(self, message: Option<ReturnMessage>) -> Self {
        self.field("returnMessage", message)
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.fields)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        Json(self.into_value()).into_response()
    }
}

/// `{successful:false, returnMessage}` with HTTP 200.
pub fn failure(message: ReturnMessage) -> Response {
    Reply::new(false).message(Some(message)).into_response()
}

/// A warning failure with App Connect's usual fields.
pub fn warning(text: impl Into<String>, ttl: u32) -> Response {
    failure(ReturnMessage::warning(text, ttl))
}

/// The answer for a failed CRM operation: the connector's message or App Connect's standard mapping.
pub fn connector_failure(error: &ConnectorError, operation: Operation, entry: &ConnectorEntry) -> Response {
    let mut response = failure(error.to_return_message(operation, &entry.display_name));
    response.extensions_mut().insert(ResponseError(crate::telemetry::redact_for_log(&error.to_string())));
    response
}

/// The answer for a database failure inside a business flow.
pub fn database_failure(error: &StoreError) -> Response {
    tracing::error!(%error, "Database operation failed.");
    let mut response = warning("Database operation failed", 5000);
    response.extensions_mut().insert(ResponseError(error.to_string()));
    response
}

/// The answer when no context could be made for `operation`.
pub fn context_failure(error: &ContextError, operation: Operation, entry: &ConnectorEntry) -> Response {
    match error {
        ContextError::Revoked => revoked(),
        ContextError::UserGone => warning("User not found", 5000),
        ContextError::Connector(error) => connector_failure(error, operation, entry),
        ContextError::Store(error) => database_failure(error),
    }
}

/// HTTP 401 `CRM_SESSION_REVOKED`.
pub fn revoked() -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, Json(session_revoked_body())).into_response();
    response.extensions_mut().insert(ResponseError("CRM session revoked".to_owned()));
    response
}

/// True for a connector that does not implement the operation.
pub fn is_unsupported(error: &ConnectorError) -> bool {
    error.kind() == ErrorKind::Unsupported
}

/// The connector for the session's platform, or the 400 for a platform we do not serve.
pub fn platform_entry<'a>(state: &'a crate::state::AppState, platform: &str) -> Result<&'a ConnectorEntry, ApiError> {
    state.connector(platform).ok_or_else(|| ApiError::bad_request("Unknown platform"))
}

/// `{"successful": true}` plus fields, as JSON.
pub fn ok_json(value: Value) -> Response {
    Json(value).into_response()
}
