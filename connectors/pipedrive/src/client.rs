//! `PipedriveClient`: one function per Pipedrive endpoint the connector calls, over the core `HttpClient`, plus
//! `parse_error`, which turns Pipedrive's error answers into `ConnectorError`s.
//!
//! URLs are Pipedrive's real ones (`https://{company}.pipedrive.com/api/v2/...`, `https://api.pipedrive.com/...`,
//! `https://oauth.pipedrive.com/...`); tests and sandboxes redirect them with the client's origin override.

use callbridge_core::http::{HttpClient, HttpRequest, RateLimit, StatusCode};
use callbridge_core::{ConnectorError, ErrorKind, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::NAME;
use crate::api::{
    AccountUser, ActivityPage, ActivityResponse, ActivityType, CreatedActivity, CreatedPerson, CurrentUser, Envelope,
    ErrorBody, Person, Related, SearchResult,
};

/// `GET /v1/users/me` on Pipedrive's global API host; login and SMS appends use it.
pub(crate) const GLOBAL_USER_URL: &str = "https://api.pipedrive.com/v1/users/me";
/// Pipedrive's OAuth token revocation endpoint.
pub(crate) const REVOKE_URL: &str = "https://oauth.pipedrive.com/oauth/revoke";

/// A decoded answer and the rate-limit headers that came with it.
#[derive(Debug)]
pub(crate) struct Reply<T> {
    pub body: T,
    pub rate_limit: Option<RateLimit>,
}

impl<T: Default> Reply<Option<T>> {
    /// Pipedrive answers `data: null` for an empty list; that reads as the empty value.
    fn or_default(self) -> Reply<T> {
        Reply { body: self.body.unwrap_or_default(), rate_limit: self.rate_limit }
    }
}

/// Requests to Pipedrive; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct PipedriveClient {
    http: HttpClient,
}

impl PipedriveClient {
    pub fn new(http: HttpClient) -> Self {
        Self { http }
    }

    /// Sends a request and decodes `data` of a 2xx answer.
    async fn send<T: DeserializeOwned>(request: HttpRequest) -> Result<Reply<T>, ConnectorError> {
        let response = request.send().await?.error_for_status(parse_error)?;
        let rate_limit = response.rate_limit();
        let envelope: Envelope<T> = response.json()?;
        Ok(Reply { body: envelope.data, rate_limit })
    }

    /// The user behind the token; `url` is [`GLOBAL_USER_URL`] or the company host's `/v1/users/me`.
    pub async fn current_user(&self, url: &str, auth: &Secret) -> Result<Reply<CurrentUser>, ConnectorError> {
        Self::send(self.http.get(url).authorization(auth)).await
    }

    pub async fn account_users(&self, host: &str, auth: &Secret) -> Result<Reply<Vec<AccountUser>>, ConnectorError> {
        let url = format!("{}/api/v1/users", base(host)?);
        Self::send(self.http.get(&url).authorization(auth)).await
    }

    /// Persons whose `field` (`phone` or `name`) matches `term`.
    pub async fn search_persons(
        &self,
        host: &str,
        auth: &Secret,
        term: &str,
        field: &str,
    ) -> Result<Reply<SearchResult>, ConnectorError> {
        let url = format!("{}/api/v2/persons/search", base(host)?);
        let request = self.http.get(&url).authorization(auth).query(&[("term", term), ("fields", field)]);
        Self::send::<Option<SearchResult>>(request).await.map(Reply::or_default)
    }

    /// The person's open deals; Pipedrive answers `data: null` when there are none.
    pub async fn open_deals(
        &self,
        host: &str,
        auth: &Secret,
        person_id: &str,
    ) -> Result<Reply<Vec<Related>>, ConnectorError> {
        let url = format!("{}/api/v2/deals", base(host)?);
        let request = self.http.get(&url).authorization(auth).query(&[("person_id", person_id), ("status", "open")]);
        Self::send::<Option<Vec<Related>>>(request).await.map(Reply::or_default)
    }

    pub async fn leads(
        &self,
        host: &str,
        auth: &Secret,
        person_id: &str,
    ) -> Result<Reply<Vec<Related>>, ConnectorError> {
        let url = format!("{}/v1/leads", base(host)?);
        let request = self.http.get(&url).authorization(auth).query(&[("person_id", person_id)]);
        Self::send::<Option<Vec<Related>>>(request).await.map(Reply::or_default)
    }

    pub async fn person(&self, host: &str, auth: &Secret, person_id: &str) -> Result<Reply<Person>, ConnectorError> {
        let url = format!("{}/api/v2/persons/{}", base(host)?, numeric_id(person_id, "person")?);
        Self::send(self.http.get(&url).authorization(auth)).await
    }

    pub async fn create_person(
        &self,
        host: &str,
        auth: &Secret,
        name: &str,
        phone: &str,
    ) -> Result<Reply<CreatedPerson>, ConnectorError> {
        let url = format!("{}/v1/persons", base(host)?);
        let body = serde_json::json!({ "name": name, "phone": phone });
        Self::send(self.http.post(&url).authorization(auth).json(&body)).await
    }

    pub async fn activity_types(&self, host: &str, auth: &Secret) -> Result<Vec<ActivityType>, ConnectorError> {
        let url = format!("{}/v1/activityTypes", base(host)?);
        let reply = Self::send::<Option<Vec<ActivityType>>>(self.http.get(&url).authorization(auth)).await?;
        Ok(reply.body.unwrap_or_default())
    }

    pub async fn create_activity(
        &self,
        host: &str,
        auth: &Secret,
        body: &Value,
    ) -> Result<Reply<CreatedActivity>, ConnectorError> {
        let url = format!("{}/api/v2/activities", base(host)?);
        Self::send(self.http.post(&url).authorization(auth).json(body)).await
    }

    /// The activity with the objects it refers to (`related_objects.person` holds the contact's name).
    pub async fn activity(
        &self,
        host: &str,
        auth: &Secret,
        activity_id: &str,
    ) -> Result<Reply<ActivityResponse>, ConnectorError> {
        let url = format!("{}/api/v2/activities/{}", base(host)?, numeric_id(activity_id, "activity")?);
        let response = self.http.get(&url).authorization(auth).send().await?.error_for_status(parse_error)?;
        let rate_limit = response.rate_limit();
        Ok(Reply { body: response.json()?, rate_limit })
    }

    pub async fn update_activity(
        &self,
        host: &str,
        auth: &Secret,
        activity_id: &str,
        body: &Value,
    ) -> Result<Reply<Value>, ConnectorError> {
        let url = format!("{}/api/v2/activities/{}", base(host)?, numeric_id(activity_id, "activity")?);
        Self::send(self.http.patch(&url).authorization(auth).json(body)).await
    }

    /// One page of the newest activities of one person owned by one user, newest first (`GET /api/v2/activities`),
    /// from `cursor` on (the first page without one); and the cursor of the next page, if there is one.
    pub async fn recent_activities(
        &self,
        host: &str,
        auth: &Secret,
        person_id: &str,
        owner_id: &str,
        cursor: Option<&str>,
    ) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let url = format!("{}/api/v2/activities", base(host)?);
        let mut query = vec![
            ("person_id", person_id),
            ("owner_id", owner_id),
            ("sort_by", "id"),
            ("sort_direction", "desc"),
            ("limit", "100"),
        ];
        query.extend(cursor.map(|cursor| ("cursor", cursor)));
        let response =
            self.http.get(&url).authorization(auth).query(&query).send().await?.error_for_status(parse_error)?;
        let page: ActivityPage = response.json()?;
        let next = page.additional_data.and_then(|it| it.next_cursor).filter(|it| !it.is_empty());
        Ok((page.data.unwrap_or_default(), next))
    }

    /// Revokes one token (access or refresh) with the app's client credentials.
    pub async fn revoke(&self, client_id: &str, client_secret: &Secret, token: &Secret) -> Result<(), ConnectorError> {
        self.http
            .post(REVOKE_URL)
            .basic_auth(client_id, client_secret)
            .form(&[("token", token.expose())])
            .send()
            .await?
            .error_for_status(parse_error)?;
        Ok(())
    }
}

/// `https://<host>` for the company host the user connected with, refusing anything that is not a bare host name.
pub(crate) fn base(host: &str) -> Result<String, ConnectorError> {
    let host = host.trim();
    let bare = !host.is_empty()
        && host.chars().all(|it| it.is_ascii_alphanumeric() || matches!(it, '.' | '-' | ':'))
        && !host.starts_with(['.', '-', ':']);
    if !bare {
        return Err(ConnectorError::new(ErrorKind::Rejected, format!("`{host}` is not a Pipedrive host name")));
    }
    Ok(format!("https://{host}"))
}

/// A Pipedrive record id as it goes into a URL path: digits only, so no id can change the path.
pub(crate) fn numeric_id<'a>(id: &'a str, what: &str) -> Result<&'a str, ConnectorError> {
    let id = id.trim();
    if !id.is_empty() && id.bytes().all(|it| it.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(ConnectorError::new(ErrorKind::Rejected, format!("`{id}` is not a Pipedrive {what} id")))
    }
}

/// Turns Pipedrive's error answer into a `ConnectorError`, with `error (error_info)` from the body as the detail.
pub(crate) fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let detail = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error: Some(error), error_info: Some(info) }) if !info.is_empty() => {
            Some(format!("{error} ({info})"))
        }
        Ok(ErrorBody { error, .. }) => error,
        Err(_) => None,
    };
    ConnectorError::from_crm_response(NAME, status, body, detail)
}
