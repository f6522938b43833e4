//! Clio wire types: serde mirrors of the placeholder API's JSON. No logic lives here.

use serde::{Deserialize, Serialize};

/// `{"data": ...}`: the envelope every successful answer comes in.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
}

/// `GET /me`: the user the API key belongs to.
#[derive(Debug, Deserialize)]
pub(crate) struct Me {
    pub id: String,
    pub name: String,
    /// An IANA time-zone name (`Europe/London`).
    #[serde(default)]
    pub timezone: Option<String>,
}

/// One hit of `GET /contacts/search`.
#[derive(Debug, Deserialize)]
pub(crate) struct Contact {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `POST /activities`: a call to log against a contact.
#[derive(Debug, Serialize)]
pub(crate) struct NewActivity<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub contact_id: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// `inbound` or `outbound`.
    pub direction: &'a str,
    /// RFC 3339, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
    /// The RingCentral session id, so a record can be traced back to its call.
    pub external_id: &'a str,
}

/// `PATCH /activities/{id}`: only the fields that change.
#[derive(Debug, Serialize)]
pub(crate) struct ActivityUpdate<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<&'a str>,
    pub body: &'a str,
}

/// `GET /activities/{id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Activity {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
}

/// The id of a record the API created.
#[derive(Debug, Deserialize)]
pub(crate) struct Created {
    pub id: String,
}

/// `{"message": "..."}`: the body of an error answer.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
}
