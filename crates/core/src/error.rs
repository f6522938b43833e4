//! `ConnectorError`: the one error type connectors return, and its mapping to App Connect's `returnMessage`.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use crate::connector::Operation;
use crate::schema::{MessageType, ReturnMessage};

/// What went wrong, as far as the host needs to know to answer the extension and to decide on retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The CRM refused the credentials (401/403), or they are missing.
    Unauthorized,
    /// The CRM has no such record (404).
    NotFound,
    /// The CRM asked us to slow down (429).
    RateLimited,
    /// The CRM rejected the request as invalid (400, 409, 422).
    Rejected,
    /// The connector does not implement the operation.
    Unsupported,
    /// The connector's configuration is missing or invalid (client id, base URL, ...).
    Config,
    /// Anything else from upstream: 5xx, a transport failure, an unreadable response.
    Upstream,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Config => "config",
            ErrorKind::Upstream => "upstream",
        }
    }

    /// The kind a CRM's HTTP status usually means; connectors refine it in their `parse_error`.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            401 | 403 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            400..=499 => ErrorKind::Rejected,
            _ => ErrorKind::Upstream,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a connector or from the HTTP client it uses.
///
/// Messages are lower-case fragments without a final period (`"activity type list is empty"`). A connector
/// that wants the extension to show its own words (the reference's per-CRM texts) sets `return_message`.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}{}", status.map(|it| format!(" (upstream status {it})")).unwrap_or_default())]
pub struct ConnectorError {
    kind: ErrorKind,
    message: String,
    temporary: bool,
    status: Option<u16>,
    retry_after: Option<Duration>,
    not_sent: bool,
    return_message: Option<ReturnMessage>,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            temporary: matches!(kind, ErrorKind::RateLimited),
            status: None,
            retry_after: None,
            not_sent: false,
            return_message: None,
            source: None,
        }
    }

    /// An error built from a CRM's HTTP status: kind from [`ErrorKind::from_status`], temporary for 429 and 5xx.
    pub fn from_status(status: u16, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::from_status(status), message).with_status(status).temporary(status == 429 || status >= 500)
    }

    /// The error for a CRM's non-2xx answer; a connector's `parse_error` is this plus reading its own error body.
    ///
    /// The kind and the temporary flag come from the status ([`ErrorKind::from_status`]; 429 and 5xx are
    /// temporary), the message is `<crm> answered <status>: <detail>`, where `detail` is what the connector read
    /// from its CRM's error JSON or, without one, the start of the body ([`body_excerpt`]) or the status's reason.
    /// `Retry-After` is attached by [`HttpResponse::error_for_status`](crate::http::HttpResponse::error_for_status).
    pub fn from_crm_response(crm: &str, status: http::StatusCode, body: &[u8], detail: Option<String>) -> Self {
        let code = status.as_u16();
        let detail = detail.map(|it| body_excerpt(it.as_bytes())).filter(|it| !it.is_empty()).unwrap_or_else(|| {
            let excerpt = body_excerpt(body);
            if excerpt.is_empty() { status.canonical_reason().unwrap_or("no body").to_owned() } else { excerpt }
        });
        Self::from_status(code, format!("{crm} answered {code}: {detail}"))
    }

    /// [`ConnectorError::from_crm_response`] for a CRM whose error bodies are JSON with the text in `message`,
    /// `error` (a string) or `error_description`; anything else falls back to the body excerpt.
    pub fn from_json_response(crm: &str, status: http::StatusCode, body: &[u8]) -> Self {
        let json = serde_json::from_slice::<serde_json::Value>(body).unwrap_or_default();
        let detail = ["message", "error", "error_description"].iter().find_map(|key| json[key].as_str());
        Self::from_crm_response(crm, status, body, detail.map(str::to_owned))
    }

    pub fn unsupported(operation: Operation) -> Self {
        Self::new(ErrorKind::Unsupported, format!("{} is not supported by this connector", operation.interface_name()))
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Upstream, message)
    }

    pub fn temporary(mut self, temporary: bool) -> Self {
        self.temporary = temporary;
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Marks an error that happened before the request left: nothing reached the CRM (a refused connection).
    pub fn not_sent(mut self) -> Self {
        self.not_sent = true;
        self
    }

    /// True when a write that failed with this error may still have taken effect in the CRM: a 5xx, a timeout,
    /// a reset connection, an unreadable answer. A 4xx (the CRM refused it), a refused connection and an error
    /// raised before any request are certain: nothing was written.
    pub fn outcome_unknown(&self) -> bool {
        match self.status {
            Some(status) => status >= 500,
            None => self.kind == ErrorKind::Upstream && !self.not_sent,
        }
    }

    /// The message the extension shows instead of the standard one for this error.
    pub fn with_return_message(mut self, return_message: ReturnMessage) -> Self {
        self.return_message = Some(return_message);
        self
    }

    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// A copy for each waiter of a shared outcome (the account cache's single load); the source is not kept.
    pub(crate) fn copy_for_waiter(&self) -> Self {
        Self {
            kind: self.kind,
            message: self.message.clone(),
            temporary: self.temporary,
            status: self.status,
            retry_after: self.retry_after,
            not_sent: self.not_sent,
            return_message: self.return_message.clone(),
            source: None,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the same request may succeed later (rate limits, 5xx, transport failures).
    pub fn is_temporary(&self) -> bool {
        self.temporary
    }

    /// The CRM's HTTP status, when the error came from a CRM response.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// What the extension shows for this error when `operation` failed on `platform`.
    ///
    /// The connector's own message wins. Otherwise App Connect's standard mapping applies: an upstream 429 is
    /// "Rate limit exceeded", an upstream 400 to 409 is "Authorization error", anything else the operation's
    /// own "Error ..." text. Without an upstream status the kind stands in for it.
    pub fn to_return_message(&self, operation: Operation, platform: &str) -> ReturnMessage {
        if let Some(message) = &self.return_message {
            return message.clone();
        }
        let rate_limited = match self.status {
            Some(status) => status == 429,
            None => self.kind == ErrorKind::RateLimited,
        };
        let authorization = match self.status {
            Some(status) => (400..=409).contains(&status),
            None => self.kind == ErrorKind::Unauthorized,
        };
        if rate_limited {
            let text = format!(
                "You have exceeded the maximum number of requests allowed by {platform}. Please try again in the next minute. If the problem persists please contact support."
            );
            return ReturnMessage::new(MessageType::Warning, "Rate limit exceeded", 5000)
                .with_details("Details", &[&text]);
        }
        if authorization {
            let text = format!(
                "It seems like there's something wrong with your authorization of {platform}. Please Logout and then Connect your {platform} account within this extension."
            );
            return ReturnMessage::new(MessageType::Warning, "Authorization error", 5000)
                .with_details("Details", &[&text]);
        }
        let (message, detail) = operation.failure_texts(platform);
        ReturnMessage::new(MessageType::Warning, message, 5000).with_details("Details", &[&detail])
    }
}

/// How many characters of a CRM's error body an error message keeps.
pub const BODY_EXCERPT_CHARS: usize = 300;

/// The start of a CRM answer, trimmed, for an error message: enough to diagnose, not a whole HTML error page in a
/// log line. Longer text is cut at [`BODY_EXCERPT_CHARS`] characters and ends in `...`.
pub fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

impl Operation {
    /// The headline and detail App Connect shows when this operation fails for a reason other than
    /// a rate limit or an authorization problem.
    fn failure_texts(self, platform: &str) -> (String, String) {
        let edit_logs = format!(
            "Please check if the log entity still exists on {platform} and your account has permission to EDIT logs."
        );
        let (message, detail) = match self {
            Operation::CreateCallLog => {
                ("Error creating call log", "Please check if your account has permission to CREATE logs.".to_owned())
            }
            Operation::UpdateCallLog => ("Error updating call log", edit_logs),
            Operation::GetCallLog => {
                ("Error getting call log", "Please check if your account has permission to READ logs.".to_owned())
            }
            Operation::CreateMessageLog => {
                ("Error creating message log", "Please check if your account has permission to CREATE logs.".to_owned())
            }
            Operation::UpdateMessageLog => ("Error updating message log", edit_logs),
            Operation::FindContact => {
                ("Error finding contact", "Please check if your account has permission to GET contacts.".to_owned())
            }
            Operation::CreateContact => {
                ("Error creating contact", "Please check if your account has permission to CREATE contacts.".to_owned())
            }
            Operation::FindContactWithName => {
                ("Error searching contacts", "Please check if your account has permission to GET contacts.".to_owned())
            }
            other => {
                return (
                    format!("Error performing {}", other.interface_name()),
                    "Please check if your account has the necessary permissions.".to_owned(),
                );
            }
        };
        (message.to_owned(), detail)
    }
}
