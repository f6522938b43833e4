//! `ClioClient`: one function per Clio endpoint over the core `HttpClient`, plus `parse_error`, which turns
//! the CRM's error answers into `ConnectorError`s.

use callbridge_core::http::{HttpClient, HttpRequest, RateLimit, StatusCode};
use callbridge_core::{ConnectorError, ErrorKind, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::NAME;
use crate::api::{ActivityUpdate, Contact, Created, Envelope, ErrorBody, Me, NewActivity};

/// A decoded answer and the rate-limit headers that came with it.
#[derive(Debug)]
pub(crate) struct Reply<T> {
    pub body: T,
    pub rate_limit: Option<RateLimit>,
}

/// Requests to Clio; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct ClioClient {
    http: HttpClient,
    api_url: String,
}

impl ClioClient {
    pub fn new(http: HttpClient, api_url: String) -> Self {
        Self { http, api_url }
    }

    /// Sends a request and decodes the `data` of a 2xx answer.
    async fn send<T: DeserializeOwned>(request: HttpRequest) -> Result<Reply<T>, ConnectorError> {
        let response = request.send().await?.error_for_status(parse_error)?;
        let rate_limit = response.rate_limit();
        let envelope: Envelope<T> = response.json()?;
        Ok(Reply { body: envelope.data, rate_limit })
    }

    /// The user the credential belongs to.
    pub async fn me(&self, auth: &Secret) -> Result<Reply<Me>, ConnectorError> {
        let url = format!("{}/me", self.api_url);
        Self::send(self.http.get(&url).authorization(auth)).await
    }

    /// Contacts whose phone number matches `phone` as the CRM stores it.
    pub async fn search_contacts(&self, auth: &Secret, phone: &str) -> Result<Reply<Vec<Contact>>, ConnectorError> {
        let url = format!("{}/contacts/search", self.api_url);
        Self::send(self.http.get(&url).authorization(auth).query(&[("phone", phone)])).await
    }

    pub async fn create_activity(
        &self,
        auth: &Secret,
        activity: &NewActivity<'_>,
    ) -> Result<Reply<Created>, ConnectorError> {
        let url = format!("{}/activities", self.api_url);
        Self::send(self.http.post(&url).authorization(auth).json(activity)).await
    }

    /// The activity as the CRM returns it, undecoded: the host hands it back to `update_call_log`.
    pub async fn activity(&self, auth: &Secret, activity_id: &str) -> Result<Reply<Value>, ConnectorError> {
        let url = format!("{}/activities/{}", self.api_url, path_id(activity_id)?);
        Self::send(self.http.get(&url).authorization(auth)).await
    }

    pub async fn update_activity(
        &self,
        auth: &Secret,
        activity_id: &str,
        update: &ActivityUpdate<'_>,
    ) -> Result<Reply<Value>, ConnectorError> {
        let url = format!("{}/activities/{}", self.api_url, path_id(activity_id)?);
        Self::send(self.http.patch(&url).authorization(auth).json(update)).await
    }
}

/// A record id as it goes into a URL path: letters, digits, `-` and `_` only, so no id can change the path.
pub(crate) fn path_id(id: &str) -> Result<&str, ConnectorError> {
    let id = id.trim();
    if !id.is_empty() && id.bytes().all(|it| it.is_ascii_alphanumeric() || it == b'-' || it == b'_') {
        Ok(id)
    } else {
        Err(ConnectorError::new(ErrorKind::Rejected, format!("`{id}` is not a {NAME} record id")))
    }
}

/// Turns an error answer into a `ConnectorError`: the kind from the status, the text from the body.
pub(crate) fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let code = status.as_u16();
    let (kind, temporary) = match code {
        401 | 403 => (ErrorKind::Unauthorized, false),
        404 => (ErrorKind::NotFound, false),
        429 => (ErrorKind::RateLimited, true),
        400..=499 => (ErrorKind::Rejected, false),
        500..=599 => (ErrorKind::Upstream, true),
        _ => (ErrorKind::Upstream, false),
    };
    let detail = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { message: Some(message) }) if !message.trim().is_empty() => message,
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() { status.canonical_reason().unwrap_or("no body").to_owned() } else { clip(text) }
        }
    };
    ConnectorError::new(kind, format!("{NAME} answered {code}: {detail}")).with_status(code).temporary(temporary)
}

/// The start of a long error body: enough to diagnose, not a whole HTML error page in a log line.
fn clip(text: &str) -> String {
    const LIMIT: usize = 300;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}
