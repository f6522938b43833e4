//! `RedtailClient`: one function per Redtail endpoint over the core `HttpClient`, the two `Authorization` schemes
//! Redtail takes, and `parse_error`, which turns Redtail's error answers into `ConnectorError`s.

use base64::Engine as _;
use callbridge_core::http::{HttpClient, HttpRequest, StatusCode};
use callbridge_core::{ConnectorError, ErrorKind, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::NAME;
use crate::api::{
    Activity, ActivityEnvelope, ActivityPage, ActivityUpdate, AuthenticatedUser, Authentication, Categories, Category,
    Contact, ContactSearch, CreatedContact, DatabaseUser, DatabaseUsers, ErrorBody, NewActivity, NewContact, NewNote,
};

/// `Authorization: Basic base64("<api key>:<username>:<password>")`: only `GET /authentication` takes it.
pub(crate) fn login_authorization(api_key: &Secret, username: &str, password: &str) -> Secret {
    let credential = format!("{}:{username}:{password}", api_key.expose());
    Secret::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credential)))
}

/// `Authorization: Userkeyauth base64("<api key>:<user key>")`: Redtail's scheme for every other request. The
/// reference sends the encoded value without the scheme word; Redtail documents it with `Userkeyauth`.
pub(crate) fn user_key_authorization(api_key: &Secret, user_key: &Secret) -> Secret {
    let credential = format!("{}:{}", api_key.expose(), user_key.expose());
    Secret::new(format!("Userkeyauth {}", base64::engine::general_purpose::STANDARD.encode(credential)))
}

/// Requests to Redtail; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct RedtailClient {
    http: HttpClient,
    api_server: String,
}

impl RedtailClient {
    pub fn new(http: HttpClient, api_server: String) -> Self {
        Self { http, api_server }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_server)
    }

    /// Sends a request and decodes a 2xx answer.
    async fn send<T: DeserializeOwned>(request: HttpRequest) -> Result<T, ConnectorError> {
        request.send().await?.error_for_status(parse_error)?.json()
    }

    /// Exchanges a username and password (inside `auth`) for the user and their user key.
    pub async fn authenticate(&self, auth: &Secret) -> Result<AuthenticatedUser, ConnectorError> {
        let answer: Authentication =
            Self::send(self.http.get(&self.url("/authentication")).authorization(auth)).await?;
        Ok(answer.authenticated_user)
    }

    /// Contacts matching one `search_basic` criterion: `phone_number` or `name`.
    pub async fn search_contacts(
        &self,
        auth: &Secret,
        criterion: &str,
        value: &str,
    ) -> Result<Vec<Contact>, ConnectorError> {
        let request =
            self.http.get(&self.url("/contacts/search_basic")).authorization(auth).query(&[(criterion, value)]);
        Ok(Self::send::<ContactSearch>(request).await?.contacts)
    }

    /// The database's activity categories, deleted ones included.
    pub async fn categories(&self, auth: &Secret) -> Result<Vec<Category>, ConnectorError> {
        let request = self.http.get(&self.url("/lists/categories")).authorization(auth);
        Ok(Self::send::<Categories>(request).await?.categories)
    }

    pub async fn create_contact(&self, auth: &Secret, contact: &NewContact<'_>) -> Result<Contact, ConnectorError> {
        let request = self.http.post(&self.url("/contacts")).authorization(auth).json(contact);
        Ok(Self::send::<CreatedContact>(request).await?.contact)
    }

    pub async fn create_activity(&self, auth: &Secret, activity: &NewActivity<'_>) -> Result<Activity, ConnectorError> {
        let request = self.http.post(&self.url("/activities")).authorization(auth).json(activity);
        Ok(Self::send::<ActivityEnvelope>(request).await?.activity)
    }

    pub async fn add_note(&self, auth: &Secret, activity_id: &str, note: &NewNote<'_>) -> Result<(), ConnectorError> {
        let url = self.url(&format!("/activities/{}/notes", path_id(activity_id)?));
        Self::send::<Value>(self.http.post(&url).authorization(auth).json(note)).await.map(drop)
    }

    /// `PUT /activities/{id}`: replaces the given fields; the answer is the activity.
    pub async fn put_activity(
        &self,
        auth: &Secret,
        activity_id: &str,
        update: &ActivityUpdate<'_>,
    ) -> Result<Value, ConnectorError> {
        let url = self.url(&format!("/activities/{}", path_id(activity_id)?));
        Self::send(self.http.put(&url).authorization(auth).json(update)).await
    }

    /// `PATCH /activities/{id}`: as the reference appends messages to a conversation log.
    pub async fn patch_activity(
        &self,
        auth: &Secret,
        activity_id: &str,
        update: &ActivityUpdate<'_>,
    ) -> Result<(), ConnectorError> {
        let url = self.url(&format!("/activities/{}", path_id(activity_id)?));
        Self::send::<Value>(self.http.patch(&url).authorization(auth).json(update)).await.map(drop)
    }

    /// The activity with its linked contacts, decoded and as Redtail sent it (the host hands the latter back to
    /// `update_call_log`). `linked_contacts` is asked for both as the reference does (an `include` header) and as
    /// a query parameter, the way Redtail's other `include`s are given.
    pub async fn activity(&self, auth: &Secret, activity_id: &str) -> Result<(Activity, Value), ConnectorError> {
        let url = self.url(&format!("/activities/{}", path_id(activity_id)?));
        let request = self
            .http
            .get(&url)
            .authorization(auth)
            .header("include", "linked_contacts")
            .query(&[("include", "linked_contacts")]);
        let raw: Value = Self::send(request).await?;
        let activity = raw.get("activity").cloned().unwrap_or(Value::Null);
        let decoded: Activity = serde_json::from_value(activity).map_err(|error| {
            ConnectorError::upstream(format!("{NAME} answered an unreadable activity {activity_id}")).with_source(error)
        })?;
        Ok((decoded, raw))
    }

    /// One page of the activities whose dates fall between `start_date` and `end_date` (`YYYY-MM-DD`).
    pub async fn activities(
        &self,
        auth: &Secret,
        start_date: &str,
        end_date: &str,
        page: u32,
    ) -> Result<ActivityPage, ConnectorError> {
        let page = page.to_string();
        let query = [("start_date", start_date), ("end_date", end_date), ("page", page.as_str())];
        Self::send(self.http.get(&self.url("/activities")).authorization(auth).query(&query)).await
    }

    pub async fn database_users(&self, auth: &Secret) -> Result<Vec<DatabaseUser>, ConnectorError> {
        let request = self.http.get(&self.url("/lists/database_users")).authorization(auth);
        Ok(Self::send::<DatabaseUsers>(request).await?.database_users)
    }
}

/// A record id as it goes into a URL path: Redtail ids are numbers, so digits only; no id can change the path.
pub(crate) fn path_id(id: &str) -> Result<&str, ConnectorError> {
    let id = id.trim();
    if !id.is_empty() && id.len() <= 20 && id.bytes().all(|it| it.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(ConnectorError::new(ErrorKind::Rejected, format!("`{id}` is not a {NAME} record id")))
    }
}

/// Turns an error answer into a `ConnectorError`, with Redtail's `message` (or its `errors`) as the detail.
pub(crate) fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let detail = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { message: Some(message), .. }) if !message.trim().is_empty() => Some(message.trim().to_owned()),
        Ok(ErrorBody { errors: Some(errors), .. }) if !errors.is_null() => Some(errors.to_string()),
        _ => None,
    };
    ConnectorError::from_crm_response(NAME, status, body, detail)
}
