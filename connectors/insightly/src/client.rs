//! `InsightlyClient`: one function per Insightly endpoint over the core `HttpClient`, `api_base`, which turns the API
//! URL a user pasted into the root every request of theirs goes to, and `parse_error`, which turns Insightly's
//! error answers into `ConnectorError`s.
//!
//! URLs are Insightly's real ones (`https://api.<pod>.insightly.com/v3.1/...`, paths as its documentation spells
//! them); tests and sandboxes redirect them with the client's origin override.

use callbridge_core::http::{HttpClient, HttpRequest, StatusCode};
use callbridge_core::{ConnectorError, ErrorKind, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::NAME;
use crate::api::{ErrorBody, Event, EventUpdate, InsightlyUser, NewEvent, NewLink, NewPerson, Person};

/// The two kinds of people Insightly searches by phone: contacts and leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PersonKind {
    Contact,
    Lead,
}

impl PersonKind {
    /// The kind the extension sends back as `contactType` (`Contact`, `contact`, `Lead`, `lead`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "contact" => Some(PersonKind::Contact),
            "lead" => Some(PersonKind::Lead),
            _ => None,
        }
    }

    /// The resource collection: `Contacts` or `Leads`.
    pub fn collection(self) -> &'static str {
        match self {
            PersonKind::Contact => "Contacts",
            PersonKind::Lead => "Leads",
        }
    }

    /// The type shown in the extension and the `LINK_OBJECT_NAME` of a link to such a record.
    pub fn label(self) -> &'static str {
        match self {
            PersonKind::Contact => "Contact",
            PersonKind::Lead => "Lead",
        }
    }
}

/// Requests to Insightly; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct InsightlyClient {
    http: HttpClient,
}

impl InsightlyClient {
    pub fn new(http: HttpClient) -> Self {
        Self { http }
    }

    /// The requests of one user: their API root and their `Authorization` value.
    pub fn for_user<'a>(&'a self, base: String, auth: &'a Secret) -> UserApi<'a> {
        UserApi { http: &self.http, base, auth }
    }
}

/// Insightly's endpoints as one user calls them.
#[derive(Debug)]
pub(crate) struct UserApi<'a> {
    http: &'a HttpClient,
    /// `https://api.<pod>.insightly.com/<version>`, checked by [`api_base`].
    base: String,
    auth: &'a Secret,
}

impl UserApi<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// Sends a request and decodes a 2xx answer.
    async fn send<T: DeserializeOwned>(request: HttpRequest) -> Result<T, ConnectorError> {
        request.send().await?.error_for_status(parse_error)?.json()
    }

    pub async fn me(&self) -> Result<InsightlyUser, ConnectorError> {
        Self::send(self.http.get(&self.url("Users/Me")).authorization(self.auth)).await
    }

    pub async fn users(&self) -> Result<Vec<InsightlyUser>, ConnectorError> {
        Self::send(self.http.get(&self.url("Users")).authorization(self.auth)).await
    }

    /// Contacts or leads whose `field` (a standard field such as `PHONE`, or a custom field's name) equals `value`;
    /// Insightly's search is an exact match. `brief=false` brings `CUSTOMFIELDS` and `LINKS` along.
    pub async fn search(&self, kind: PersonKind, field: &str, value: &str) -> Result<Vec<Person>, ConnectorError> {
        let url = self.url(&format!("{}/Search", kind.collection()));
        let query = [("field_name", field), ("field_value", value), ("brief", "false")];
        Self::send(self.http.get(&url).authorization(self.auth).query(&query)).await
    }

    /// One record of `collection` (`Organisations`, `Opportunities`, `Projects`, `Contacts`, `Leads`), undecoded.
    pub async fn record(&self, collection: &str, id: u64) -> Result<Value, ConnectorError> {
        Self::send(self.http.get(&self.url(&format!("{collection}/{id}"))).authorization(self.auth)).await
    }

    pub async fn create_person(&self, kind: PersonKind, person: &NewPerson<'_>) -> Result<Person, ConnectorError> {
        Self::send(self.http.post(&self.url(kind.collection())).authorization(self.auth).json(person)).await
    }

    pub async fn create_event(&self, event: &NewEvent<'_>) -> Result<Event, ConnectorError> {
        Self::send(self.http.post(&self.url("Events")).authorization(self.auth).json(event)).await
    }

    /// The event as Insightly returns it, undecoded: the host hands it back to `update_call_log`.
    pub async fn event(&self, event_id: u64) -> Result<Value, ConnectorError> {
        Self::send(self.http.get(&self.url(&format!("Events/{event_id}"))).authorization(self.auth)).await
    }

    /// Events whose `LOCATION` equals `location`, without sub-collections.
    pub async fn events_at(&self, location: &str) -> Result<Vec<Event>, ConnectorError> {
        let query = [("field_name", "LOCATION"), ("field_value", location), ("brief", "true")];
        Self::send(self.http.get(&self.url("Events/Search")).authorization(self.auth).query(&query)).await
    }

    /// Updates an event; the id travels in the body (`PUT /Events`).
    pub async fn update_event(&self, update: &EventUpdate<'_>) -> Result<Value, ConnectorError> {
        Self::send(self.http.put(&self.url("Events")).authorization(self.auth).json(update)).await
    }

    pub async fn add_link(&self, event_id: u64, link: &NewLink) -> Result<Value, ConnectorError> {
        let url = self.url(&format!("Events/{event_id}/Links"));
        Self::send(self.http.post(&url).authorization(self.auth).json(link)).await
    }

    pub async fn delete_link(&self, event_id: u64, link_id: u64) -> Result<(), ConnectorError> {
        let url = self.url(&format!("Events/{event_id}/Links/{link_id}"));
        self.http.delete(&url).authorization(self.auth).send().await?.error_for_status(parse_error)?;
        Ok(())
    }
}

/// The API root for an API URL from Insightly's User Settings (`https://api.na1.insightly.com/v3.1/`): its origin
/// with `version` as the only path segment.
///
/// Only `https` URLs on an `insightly.com` host are accepted: the URL comes from a login form, and the user's API
/// key is sent to it.
pub(crate) fn api_base(api_url: &str, version: &str) -> Result<String, ConnectorError> {
    let refused = || {
        ConnectorError::new(
            ErrorKind::Rejected,
            format!("`{api_url}` is not an Insightly API URL such as https://api.na1.insightly.com/v3.1"),
        )
    };
    let url = Url::parse(api_url.trim()).map_err(|_| refused())?;
    let host = url.host_str().filter(|it| url.domain().is_some() && it.ends_with(".insightly.com"));
    match host {
        Some(host) if url.scheme() == "https" && url.username().is_empty() && url.port().is_none() => {
            Ok(format!("https://{host}/{version}"))
        }
        _ => Err(refused()),
    }
}

/// A record id from App Connect as the number Insightly uses, so no id can change a path.
pub(crate) fn numeric_id(id: &str, what: &str) -> Result<u64, ConnectorError> {
    id.trim()
        .parse::<u64>()
        .map_err(|_| ConnectorError::new(ErrorKind::Rejected, format!("`{id}` is not an Insightly {what} id")))
}

/// Turns an error answer into a `ConnectorError`: the kind from the status, the text from Insightly's
/// `{"Message": ...}` body when there is one.
pub(crate) fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let detail =
        serde_json::from_slice::<ErrorBody>(body).ok().and_then(|it| it.message).filter(|it| !it.trim().is_empty());
    ConnectorError::from_crm_response(NAME, status, body, detail)
}
