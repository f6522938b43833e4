//! Insightly wire types: serde mirrors of the JSON of Insightly's REST API v3.1 (`UPPER_SNAKE` field names). No
//! logic lives here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /Users/Me` and the items of `GET /Users`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub(crate) struct InsightlyUser {
    pub user_id: Option<u64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    /// A Windows time-zone name such as `Eastern Standard Time`.
    pub timezone_id: Option<String>,
}

/// A contact or a lead as `GET /Contacts/Search` and `GET /Leads/Search` return it (with `brief=false`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub(crate) struct Person {
    pub contact_id: Option<u64>,
    pub lead_id: Option<u64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    /// A contact's mobile number.
    pub phone_mobile: Option<String>,
    /// A lead's mobile number.
    pub mobile: Option<String>,
    pub date_created_utc: Option<String>,
    pub date_updated_utc: Option<String>,
    pub last_activity_date_utc: Option<String>,
    pub customfields: Vec<CustomField>,
    pub links: Vec<Link>,
}

/// One entry of a record's `CUSTOMFIELDS`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub(crate) struct CustomField {
    pub field_name: Option<String>,
    pub field_value: Value,
}

/// One entry of a record's `LINKS`: this record is linked to `LINK_OBJECT_NAME` number `LINK_OBJECT_ID`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub(crate) struct Link {
    pub link_id: Option<u64>,
    pub link_object_name: Option<String>,
    pub link_object_id: Option<u64>,
}

/// `POST /Events/{id}/Links`, and the items of `LINKS` in a new event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) struct NewLink {
    pub link_object_name: String,
    pub link_object_id: u64,
}

/// `GET /Events/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub(crate) struct Event {
    pub event_id: Option<u64>,
    pub title: Option<String>,
    pub details: Option<String>,
    pub location: Option<String>,
    pub start_date_utc: Option<String>,
    pub end_date_utc: Option<String>,
    pub owner_user_id: Option<u64>,
    pub links: Vec<Link>,
}

/// `POST /Events`: the event and, in the same request, its links (API v3.1 takes sub-collections in a POST).
#[derive(Debug, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) struct NewEvent<'a> {
    pub title: &'a str,
    pub details: &'a str,
    pub start_date_utc: String,
    pub end_date_utc: String,
    /// Where the connector keeps the record key, to find the event again after an ambiguous create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The admin-assigned user the event belongs to; Insightly makes the key's user the owner otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_user_id: Option<u64>,
    pub links: Vec<NewLink>,
}

/// `PUT /Events`: the event's id with the fields to set.
#[derive(Debug, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) struct EventUpdate<'a> {
    pub event_id: u64,
    pub details: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_utc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_utc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_user_id: Option<u64>,
}

/// `POST /Contacts` and `POST /Leads`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) struct NewPerson<'a> {
    pub phone: &'a str,
    pub first_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<&'a str>,
}

/// The body of an error answer; Insightly's API (ASP.NET) answers `{"Message": "..."}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    #[serde(alias = "message")]
    #[serde(rename = "Message")]
    pub message: Option<String>,
}
