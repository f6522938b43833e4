//! Clio API v4 wire types: serde mirrors of the JSON Clio answers with. No logic lives here.
//!
//! Clio returns only the fields a request names in `fields=`, so everything but the id is optional. Ids are
//! numbers in Clio's answers; they are kept as JSON values and turned into text where they are used.

use serde::Deserialize;
use serde_json::Value;

/// `{"data": ...}`: the envelope of every successful answer.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
}

/// `{"data": [...], "meta": {"paging": {"next": "<absolute url>"}}}`: one page of an index.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Meta {
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Paging {
    /// The absolute URL of the next page, when there is one.
    #[serde(default)]
    pub next: Option<String>,
}

/// `GET /api/v4/users/who_am_i.json`: the user the token belongs to.
#[derive(Debug, Deserialize)]
pub(crate) struct WhoAmI {
    pub id: Value,
    #[serde(default)]
    pub name: Option<String>,
    /// An IANA time-zone name (`America/New_York`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// A contact (`Person` or `Company`) from `GET /api/v4/contacts.json`.
#[derive(Debug, Deserialize)]
pub(crate) struct Contact {
    pub id: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub primary_email_address: Option<String>,
    #[serde(default)]
    pub primary_phone_number: Option<String>,
}

/// A matter, as listed for a client or nested in a relationship.
#[derive(Debug, Deserialize)]
pub(crate) struct Matter {
    pub id: Value,
    #[serde(default)]
    pub display_number: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `Open`, `Pending` or `Closed`.
    #[serde(default)]
    pub status: Option<String>,
}

/// A relationship between a contact and a matter (`GET /api/v4/relationships.json`).
#[derive(Debug, Deserialize)]
pub(crate) struct Relationship {
    #[serde(default)]
    pub matter: Option<Matter>,
}

/// A user of the Clio account (`GET /api/v4/users.json`).
#[derive(Debug, Deserialize)]
pub(crate) struct AccountUser {
    pub id: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A sender or receiver of a communication: `{id, type}` where type is `User` or a contact type.
#[derive(Debug, Deserialize)]
pub(crate) struct Party {
    pub id: Value,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// A communication as `GET /api/v4/communications/{id}.json` returns the fields we ask for.
#[derive(Debug, Deserialize)]
pub(crate) struct Communication {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub matter: Option<Value>,
    #[serde(default)]
    pub senders: Vec<Party>,
    #[serde(default)]
    pub receivers: Vec<Party>,
}

/// Any record reduced to its id: what creates return and what id-only lookups list.
#[derive(Debug, Deserialize)]
pub(crate) struct Record {
    pub id: Value,
}

/// The body of an error answer: `{"error": {"type", "message"}}`, or `{"message"}` on a 429.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: Option<ErrorDetail>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `POST /api/v4/documents` and `PATCH /api/v4/documents/{id}` with `latest_document_version{...}` fields.
#[derive(Debug, Deserialize)]
pub(crate) struct Document {
    pub id: Value,
    #[serde(default)]
    pub latest_document_version: Option<DocumentVersion>,
}

/// The version being uploaded: where to `PUT` the bytes (a signed URL, with the headers it was signed with).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DocumentVersion {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub put_url: Option<String>,
    #[serde(default)]
    pub put_headers: Vec<PutHeader>,
    #[serde(default)]
    pub fully_uploaded: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PutHeader {
    pub name: String,
    pub value: String,
}
