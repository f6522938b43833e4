//! Pipedrive's JSON, as far as the connector reads and writes it. Every field we do not need is ignored, and every
//! field we read tolerates `null`, so a change on Pipedrive's side costs a missing value, not a failed request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /v1/users/me`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CurrentUser {
    pub id: Value,
    pub name: Option<String>,
    pub timezone_name: Option<String>,
    pub timezone_offset: Option<String>,
    pub company_id: Option<Value>,
    pub company_name: Option<String>,
    pub company_domain: Option<String>,
}

/// `GET /api/v1/users`: one account user.
#[derive(Debug, Deserialize)]
pub(crate) struct AccountUser {
    pub id: Value,
    pub name: Option<String>,
    pub email: Option<String>,
    pub is_deleted: Option<bool>,
}

/// `GET /api/v2/persons/search`: `data`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchResult {
    #[serde(default)]
    pub items: Vec<SearchItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SearchItem {
    pub item: FoundPerson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FoundPerson {
    pub id: Value,
    pub name: Option<String>,
    pub add_time: Option<String>,
    pub update_time: Option<String>,
    pub organization: Option<Organization>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Organization {
    pub name: Option<String>,
}

/// A deal or a lead: what the extension offers as a contact-dependent option.
#[derive(Debug, Deserialize)]
pub(crate) struct Related {
    pub id: Value,
    pub title: Option<String>,
}

/// `GET /api/v2/persons/{id}`: only the organisation matters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Person {
    pub org_id: Option<Value>,
}

/// A created person or activity.
#[derive(Debug, Deserialize)]
pub(crate) struct Created {
    pub id: Value,
    pub name: Option<String>,
}

/// `GET /v1/activityTypes`: one type.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ActivityType {
    pub key_string: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub active_flag: bool,
}

/// `POST /api/v2/activities`: a call or an SMS, done, with the person as its one participant.
#[derive(Debug, Default, Serialize)]
pub(crate) struct NewActivity {
    pub owner_id: u64,
    pub subject: String,
    /// Calls only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(flatten)]
    pub link: DealOrLead,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Value>,
    pub note: String,
    pub done: bool,
    #[serde(flatten)]
    pub due: Due,
    pub participants: [Participant; 1],
    #[serde(rename = "type")]
    pub kind: String,
    /// The host's record key (see `reconcile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_description: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Participant {
    pub person_id: u64,
    pub primary: bool,
}

/// `PATCH /api/v2/activities/{id}`: only what changes.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ActivityUpdate<'a> {
    pub note: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(flatten)]
    pub link: DealOrLead,
}

/// `due_date` and `due_time`: the UTC date and time the call started or the message was sent.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Due {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_time: Option<String>,
}

/// `deal_id`, or `lead_id` when no deal was chosen: an activity links to at most one of them.
#[derive(Debug, Default, Serialize)]
pub(crate) struct DealOrLead {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<Value>,
}

/// Pipedrive's error body: `{success: false, error, error_info}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: Option<String>,
    pub error_info: Option<String>,
}
