//! `ClioClient`: one function per Clio API v4 endpoint over the core `HttpClient`, plus `parse_error`, which turns
//! Clio's error answers into `ConnectorError`s.
//!
//! Every URL is built on the user's regional host (`app.clio.com`, `eu.app.clio.com`, ...), checked against the
//! four Clio hosts so that no stored hostname can send a user's token anywhere else.

use callbridge_core::http::{Bytes, HttpClient, HttpRequest, RateLimit, StatusCode};
use callbridge_core::{ConnectorError, ErrorKind, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::NAME;
use crate::api::{
    AccountUser, Communication, Contact, Document, Envelope, ErrorBody, ErrorDetail, Matter, Page, Record,
    Relationship, WhoAmI,
};
use crate::config::Region;

/// The external property a communication carries its callbridge record key in (see `find_created_*`).
pub(crate) const RECORD_KEY_PROPERTY: &str = "callbridge_record_key";
/// The fields a matter option needs.
const MATTER_FIELDS: &str = "id,display_number,description,status";
/// A contact's relationships rarely span more than a page or two; this bounds a runaway `next` chain.
const MAX_PAGES: usize = 20;

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
}

impl ClioClient {
    pub fn new(http: HttpClient) -> Self {
        Self { http }
    }

    /// Sends a request and decodes a 2xx answer.
    async fn send<T: DeserializeOwned>(request: HttpRequest) -> Result<Reply<T>, ConnectorError> {
        let response = request.send().await?.error_for_status(parse_error)?;
        let rate_limit = response.rate_limit();
        Ok(Reply { body: response.json()?, rate_limit })
    }

    /// Sends a request and decodes the `data` of a 2xx answer.
    async fn data<T: DeserializeOwned>(request: HttpRequest) -> Result<Reply<T>, ConnectorError> {
        let reply: Reply<Envelope<T>> = Self::send(request).await?;
        Ok(Reply { body: reply.body.data, rate_limit: reply.rate_limit })
    }

    fn get(&self, host: &str, path: &str, auth: &Secret) -> Result<HttpRequest, ConnectorError> {
        Ok(self.http.get(&format!("{}{path}", base(host)?)).authorization(auth))
    }

    pub async fn who_am_i(&self, host: &str, auth: &Secret, fields: &str) -> Result<Reply<WhoAmI>, ConnectorError> {
        Self::data(self.get(host, "/api/v4/users/who_am_i.json", auth)?.query(&[("fields", fields)])).await
    }

    /// Revokes the token at Clio (`POST /oauth/deauthorize`).
    pub async fn deauthorize(&self, host: &str, auth: &Secret, token: &Secret) -> Result<(), ConnectorError> {
        let url = format!("{}/oauth/deauthorize", base(host)?);
        let request = self.http.post(&url).authorization(auth).form(&[("token", token.expose())]);
        request.send().await?.error_for_status(parse_error)?;
        Ok(())
    }

    /// Contacts matching `query` (a phone number in any format, or a name) in any of their fields.
    pub async fn search_contacts(
        &self,
        host: &str,
        auth: &Secret,
        query: &str,
        fields: &str,
    ) -> Result<Reply<Vec<Contact>>, ConnectorError> {
        let request = self.get(host, "/api/v4/contacts.json", auth)?.query(&[("query", query), ("fields", fields)]);
        Self::data(request).await
    }

    pub async fn contact_name(&self, host: &str, auth: &Secret, id: &str) -> Result<Option<String>, ConnectorError> {
        let path = format!("/api/v4/contacts/{}.json", numeric_id(id, "contact")?);
        let reply: Reply<Contact> = Self::data(self.get(host, &path, auth)?.query(&[("fields", "name")])).await?;
        Ok(reply.body.name)
    }

    pub async fn create_contact(&self, host: &str, auth: &Secret, body: &Value) -> Result<Contact, ConnectorError> {
        let url = format!("{}/api/v4/contacts.json", base(host)?);
        Ok(Self::data(self.http.post(&url).authorization(auth).json(body)).await?.body)
    }

    /// The matters the contact is the client of.
    pub async fn client_matters(&self, host: &str, auth: &Secret, id: &str) -> Result<Vec<Matter>, ConnectorError> {
        let request = self
            .get(host, "/api/v4/matters.json", auth)?
            .query(&[("client_id", numeric_id(id, "contact")?), ("fields", MATTER_FIELDS)]);
        Ok(Self::data(request).await?.body)
    }

    /// The matters the contact is related to (as opposing party, witness, ...), following `meta.paging.next`
    /// when `all_pages` is set.
    pub async fn related_matters(
        &self,
        host: &str,
        auth: &Secret,
        id: &str,
        all_pages: bool,
    ) -> Result<Vec<Matter>, ConnectorError> {
        let base = base(host)?;
        let fields = format!("matter{{{MATTER_FIELDS}}}");
        let mut request = self
            .get(host, "/api/v4/relationships.json", auth)?
            .query(&[("contact_id", numeric_id(id, "contact")?), ("fields", &fields)]);
        let mut matters = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: Reply<Page<Relationship>> = Self::send(request).await?;
            matters.extend(page.body.data.into_iter().filter_map(|it| it.matter));
            let next = page.body.meta.and_then(|it| it.paging).and_then(|it| it.next);
            match next {
                // Only a page of the same host's relationships is followed: the token must not go anywhere else.
                Some(next) if all_pages && next.starts_with(&format!("{base}/api/v4/relationships")) => {
                    request = self.http.get(&next).authorization(auth);
                }
                _ => return Ok(matters),
            }
        }
        Ok(matters)
    }

    /// The account's enabled users, by name.
    pub async fn users(&self, host: &str, auth: &Secret) -> Result<Vec<AccountUser>, ConnectorError> {
        let request = self.get(host, "/api/v4/users.json", auth)?.query(&[
            ("enabled", "true"),
            ("order", "name(asc)"),
            ("fields", "id,name,email"),
        ]);
        Ok(Self::data(request).await?.body)
    }

    pub async fn create_communication(
        &self,
        host: &str,
        auth: &Secret,
        body: &Value,
    ) -> Result<Reply<Record>, ConnectorError> {
        let url = format!("{}/api/v4/communications.json", base(host)?);
        Self::data(self.http.post(&url).authorization(auth).json(body)).await
    }

    pub async fn communication(
        &self,
        host: &str,
        auth: &Secret,
        id: &str,
        fields: &str,
    ) -> Result<Reply<(Communication, Value)>, ConnectorError> {
        let path = format!("/api/v4/communications/{}.json", numeric_id(id, "communication")?);
        let reply: Reply<Value> = Self::data(self.get(host, &path, auth)?.query(&[("fields", fields)])).await?;
        let typed = serde_json::from_value(reply.body.clone())
            .map_err(|error| ConnectorError::upstream("clio sent a communication we cannot read").with_source(error))?;
        Ok(Reply { body: (typed, reply.body), rate_limit: reply.rate_limit })
    }

    pub async fn update_communication(
        &self,
        host: &str,
        auth: &Secret,
        id: &str,
        body: &Value,
    ) -> Result<Reply<Record>, ConnectorError> {
        let url = format!("{}/api/v4/communications/{}.json", base(host)?, numeric_id(id, "communication")?);
        Self::data(self.http.patch(&url).authorization(auth).json(body)).await
    }

    /// The ids of communications that carry `key` in their record-key external property.
    pub async fn communications_with_key(
        &self,
        host: &str,
        auth: &Secret,
        key: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        let request = self.get(host, "/api/v4/communications.json", auth)?.query(&[
            ("external_property_name", RECORD_KEY_PROPERTY),
            ("external_property_value", key),
            ("fields", "id"),
        ]);
        Ok(Self::data(request).await?.body)
    }

    pub async fn create_activity(
        &self,
        host: &str,
        auth: &Secret,
        body: &Value,
    ) -> Result<Reply<Record>, ConnectorError> {
        let url = format!("{}/api/v4/activities.json", base(host)?);
        Self::data(self.http.post(&url).authorization(auth).json(body)).await
    }

    /// The activities (time entries) linked to a communication.
    pub async fn activities_of(&self, host: &str, auth: &Secret, id: &str) -> Result<Vec<Record>, ConnectorError> {
        let request = self
            .get(host, "/api/v4/activities", auth)?
            .query(&[("communication_id", numeric_id(id, "communication")?), ("fields", "quantity,id")]);
        Ok(Self::data(request).await?.body)
    }

    pub async fn update_activity(
        &self,
        host: &str,
        auth: &Secret,
        id: &str,
        body: &Value,
    ) -> Result<Reply<Record>, ConnectorError> {
        let url = format!("{}/api/v4/activities/{}.json", base(host)?, numeric_id(id, "activity")?);
        Self::data(self.http.patch(&url).authorization(auth).json(body)).await
    }

    /// A file from RingCentral, as bytes. No Clio token goes with it: the link carries RingCentral's own.
    pub async fn download(&self, url: &str) -> Result<Bytes, ConnectorError> {
        let response = self.http.get(url).send().await?.error_for_status(parse_error)?;
        Ok(response.body().clone())
    }

    /// Step 1 of an upload: the document record, with where to put its bytes.
    pub async fn create_document(&self, host: &str, auth: &Secret, body: &Value) -> Result<Document, ConnectorError> {
        let url = format!("{}/api/v4/documents", base(host)?);
        let request = self
            .http
            .post(&url)
            .authorization(auth)
            .query(&[("fields", "id,latest_document_version{uuid,put_url,put_headers}")])
            .json(body);
        Ok(Self::data(request).await?.body)
    }

    /// Step 2: the bytes, to the signed URL with the headers Clio named. No Clio token: the URL is signed for
    /// the file store, which must not see the user's token.
    pub async fn put_file(&self, url: &str, headers: &[(String, String)], file: Bytes) -> Result<(), ConnectorError> {
        let mut request = self.http.put(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.bytes(file).send().await?.error_for_status(parse_error).map(drop)
    }

    /// Step 3: tells Clio the bytes are in; the answer says whether Clio agrees.
    pub async fn complete_document(
        &self,
        host: &str,
        auth: &Secret,
        id: &str,
        uuid: &str,
    ) -> Result<Document, ConnectorError> {
        let url = format!("{}/api/v4/documents/{}", base(host)?, numeric_id(id, "document")?);
        let request = self
            .http
            .patch(&url)
            .authorization(auth)
            .query(&[("fields", "id,latest_document_version{fully_uploaded}")])
            .json(&serde_json::json!({ "data": { "uuid": uuid, "fully_uploaded": true } }));
        Ok(Self::data(request).await?.body)
    }
}

/// `https://<host>` for one of Clio's four regional hosts; anything else is refused.
pub(crate) fn base(host: &str) -> Result<String, ConnectorError> {
    match Region::of_host(host) {
        Some(region) => Ok(format!("https://{}", region.host())),
        None => Err(ConnectorError::new(ErrorKind::Unauthorized, format!("`{host}` is not a Clio host"))),
    }
}

/// A Clio record id as it goes into a URL: digits only, so no id can change the path.
pub(crate) fn numeric_id<'a>(id: &'a str, what: &str) -> Result<&'a str, ConnectorError> {
    callbridge_core::values::numeric_id(id, &format!("Clio {what}"))
}

/// A Clio record id as the number Clio's request bodies carry.
pub(crate) fn id_number(id: &str, what: &str) -> Result<u64, ConnectorError> {
    callbridge_core::values::id_number(id, &format!("Clio {what}"))
}

/// Turns an error answer into a `ConnectorError`: the kind from the status, the text from Clio's error JSON
/// (`{"error": {"type", "message"}}`, or `{"message"}` on a 429).
pub(crate) fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let detail = serde_json::from_slice::<ErrorBody>(body).ok().and_then(|body| match body.error {
        Some(ErrorDetail { kind, message: Some(message) }) if !message.trim().is_empty() => {
            Some(kind.filter(|it| !it.is_empty()).map_or_else(|| message.clone(), |kind| format!("{kind}: {message}")))
        }
        _ => body.message.filter(|it| !it.trim().is_empty()),
    });
    ConnectorError::from_crm_response(NAME, status, body, detail)
}

/// An id as Clio sent it (a number or a string), as text.
pub(crate) fn id_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
