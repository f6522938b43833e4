//! Redtail wire types: serde mirrors of the JSON Redtail's public API (`/api/public/v1`) sends and receives.
//! No logic lives here beyond reading ids, which Redtail sends as numbers.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A Redtail record id: a number on the wire, kept as its decimal text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Id(pub String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(number) => Ok(Id(number.to_string())),
            Value::String(text) => Ok(Id(text)),
            other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
        }
    }
}

/// `GET /authentication`: `{"authenticated_user": {...}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Authentication {
    pub authenticated_user: AuthenticatedUser,
}

/// The user a username and password belong to, with the user key that replaces them from then on.
#[derive(Debug, Deserialize)]
pub(crate) struct AuthenticatedUser {
    pub user_key: String,
    /// Everything else (`id`, names, database id): kept with the user, without the key.
    #[serde(flatten)]
    pub profile: serde_json::Map<String, Value>,
}

/// `GET /contacts/search_basic`: `{"contacts": [...]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ContactSearch {
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// A contact as search answers carry it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Contact {
    pub id: Id,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `GET /lists/categories`: `{"categories": [...]}`, the activity categories of the database.
#[derive(Debug, Deserialize)]
pub(crate) struct Categories {
    #[serde(default)]
    pub categories: Vec<Category>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Category {
    pub id: Id,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub deleted: bool,
}

/// `POST /contacts`: a new individual with one phone number.
#[derive(Debug, Serialize)]
pub(crate) struct NewContact<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub phones: [NewPhone<'a>; 1],
}

#[derive(Debug, Serialize)]
pub(crate) struct NewPhone<'a> {
    /// Redtail's phone type code; 6 is "Other".
    pub phone_type: u8,
    /// The national significant number.
    pub number: &'a str,
    pub country_code: u16,
}

/// `POST /contacts`: `{"contact": {...}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedContact {
    pub contact: Contact,
}

/// `POST /activities`: a call or message logged against one contact.
#[derive(Debug, Serialize)]
pub(crate) struct NewActivity<'a> {
    pub subject: &'a str,
    /// The log body, HTML.
    pub description: &'a str,
    /// RFC 3339, UTC.
    pub start_date: String,
    pub end_date: String,
    /// Redtail's activity type; 3 is "Phone Call".
    pub activity_code_id: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Value>,
    pub repeats: &'static str,
    pub linked_contacts: [LinkedContactRef; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attendees: Option<[Attendee; 1]>,
    /// The marker that finds this record again after an ambiguous create (see `reconcile.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LinkedContactRef {
    pub contact_id: Value,
}

/// A Redtail user taking part in an activity: how an activity is given to someone other than the key's user.
#[derive(Debug, Serialize)]
pub(crate) struct Attendee {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub user_id: Value,
}

/// `PUT /activities/{id}` and `PATCH /activities/{id}`: only the fields that change.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ActivityUpdate<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attendees: Option<[Attendee; 1]>,
}

/// `POST /activities/{id}/notes`: the agent's note as a Redtail note on the activity.
#[derive(Debug, Serialize)]
pub(crate) struct NewNote<'a> {
    pub category_id: &'a Value,
    /// 1 is a plain note.
    pub note_type: u8,
    pub body: &'a str,
}

/// `{"activity": {...}}`: how Redtail answers about one activity.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivityEnvelope {
    pub activity: Activity,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Activity {
    pub id: Id,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category_id: Option<Value>,
    #[serde(default)]
    pub completed: Option<bool>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub linked_contacts: Vec<LinkedContact>,
}

/// A contact linked to an activity, as `include=linked_contacts` adds it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LinkedContact {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
}

/// `GET /activities?start_date=..&end_date=..`: one page of activities.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivityPage {
    #[serde(default)]
    pub activities: Vec<Activity>,
    #[serde(default)]
    pub meta: Option<PageMeta>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageMeta {
    #[serde(default)]
    pub total_pages: Option<u32>,
}

/// `GET /lists/database_users`: `{"database_users": [...]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct DatabaseUsers {
    #[serde(default)]
    pub database_users: Vec<DatabaseUser>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DatabaseUser {
    pub id: Id,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

/// An error answer: Redtail sends `{"message": "..."}` or `{"errors": ...}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub errors: Option<Value>,
}

/// Names joined by single spaces, skipping empty parts.
pub(crate) fn join_names<'a>(parts: impl IntoIterator<Item = &'a Option<String>>) -> String {
    parts.into_iter().flatten().map(|it| it.trim()).filter(|it| !it.is_empty()).collect::<Vec<_>>().join(" ")
}

impl Contact {
    /// "first middle last", or Redtail's `full_name` when the parts are empty.
    pub fn display_name(&self) -> String {
        let joined = join_names([&self.first_name, &self.middle_name, &self.last_name]);
        if joined.is_empty() { self.full_name.clone().unwrap_or_default() } else { joined }
    }
}

impl LinkedContact {
    pub fn display_name(&self) -> String {
        let joined = join_names([&self.first_name, &self.last_name]);
        if joined.is_empty() { self.full_name.clone().unwrap_or_default() } else { joined }
    }
}
