//! `ApiError`: every way a request fails before its handler can answer with a business result, and the one place
//! that turns such a failure into an HTTP response.
//!
//! Business failures (the CRM refused, the user is gone) are not `ApiError`s: App Connect answers those with
//! HTTP 200 and `{successful:false, returnMessage}`, and the handlers build that body themselves.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callbridge_core::ReturnMessage;
use serde_json::json;

/// The text App Connect answers a missing, `undefined` or invalid session token with. The extension shows text
/// bodies of 4xx answers as a warning, so this tells the user what to do.
pub const AUTHORIZE_FIRST: &str = "Please go to Settings and authorize CRM platform";

/// The largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No session token, the literal `undefined`, or a token that fails verification (forged, expired).
    #[error("missing or invalid session token")]
    NotAuthorized,
    /// The request is malformed; the text is shown to the user as it is.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("request body larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    /// Something the client sent is over one of the limits; the text names it.
    #[error("over a limit: {0}")]
    TooLarge(String),
    /// The request body did not arrive within the body timeout.
    #[error("request body not received within {0:?}")]
    RequestTimeout(std::time::Duration),
    /// The CRM credentials are revoked or expired and cannot be refreshed.
    #[error("CRM session revoked")]
    SessionRevoked,
    /// The database failed; the details are logged, never sent.
    #[error("database operation failed: {0}")]
    Database(String),
    /// A bug or an unexpected failure; the details are logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    pub fn database(error: impl std::fmt::Display) -> Self {
        ApiError::Database(error.to_string())
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        ApiError::Internal(error.to_string())
    }
}

/// The error behind a response, kept in its extensions so the request log can name it once.
#[derive(Clone, Debug)]
pub struct ResponseError(pub String);

/// App Connect's answer for a CRM session that cannot be refreshed: HTTP 401 with `errorCode`.
pub fn session_revoked_body() -> serde_json::Value {
    json!({
        "successful": false,
        "returnMessage": ReturnMessage::warning("User session expired. Please connect again.", 5000),
        "errorCode": "CRM_SESSION_REVOKED",
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let logged = self.to_string();
        let mut response = match self {
            ApiError::NotAuthorized => (StatusCode::BAD_REQUEST, AUTHORIZE_FIRST).into_response(),
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, message).into_response(),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is too large: the limit is {} KiB.", MAX_BODY_BYTES / 1024),
            )
                .into_response(),
            ApiError::TooLarge(message) => (StatusCode::PAYLOAD_TOO_LARGE, message).into_response(),
            ApiError::RequestTimeout(limit) => (
                StatusCode::REQUEST_TIMEOUT,
                format!("The request body did not arrive in time: the limit is {} s.", limit.as_secs()),
            )
                .into_response(),
            ApiError::SessionRevoked => (StatusCode::UNAUTHORIZED, Json(session_revoked_body())).into_response(),
            ApiError::Database(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "successful": false,
                    "returnMessage": ReturnMessage::warning("Database operation failed", 5000),
                })),
            )
                .into_response(),
            ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "Internal server error"}))).into_response()
            }
        };
        response.extensions_mut().insert(ResponseError(logged));
        response
    }
}
