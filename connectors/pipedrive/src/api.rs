//! Pipedrive's JSON, as far as the connector reads it. Every field we do not need is ignored, and every field we
//! read tolerates `null`, so a change on Pipedrive's side costs a missing value, not a failed request.

use serde::Deserialize;
use serde_json::Value;

/// Pipedrive wraps every answer in `{success, data, ...}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
}

/// A page of a v2 listing: `data` (`null` when empty) and the cursor of the next page.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivityPage {
    #[serde(default)]
    pub data: Option<Vec<Value>>,
    #[serde(default)]
    pub additional_data: Option<PageInfo>,
}

/// `additional_data` of a v2 listing.
#[derive(Debug, Deserialize)]
pub(crate) struct PageInfo {
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `GET /v1/users/me`.
#[derive(Debug, Deserialize)]
pub(crate) struct CurrentUser {
    pub id: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub timezone_name: Option<String>,
    #[serde(default)]
    pub timezone_offset: Option<String>,
    #[serde(default)]
    pub company_id: Option<Value>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub company_domain: Option<String>,
}

/// `GET /api/v1/users`: one account user.
#[derive(Debug, Deserialize)]
pub(crate) struct AccountUser {
    pub id: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
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

/// A person as the search returns it.
#[derive(Debug, Deserialize)]
pub(crate) struct FoundPerson {
    pub id: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub add_time: Option<String>,
    #[serde(default)]
    pub update_time: Option<String>,
    #[serde(default)]
    pub organization: Option<Organization>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Organization {
    #[serde(default)]
    pub name: Option<String>,
}

/// A deal or a lead: what the extension offers as a contact-dependent option.
#[derive(Debug, Deserialize)]
pub(crate) struct Related {
    pub id: Value,
    #[serde(default)]
    pub title: Option<String>,
}

/// `GET /api/v2/persons/{id}`: only the organisation matters.
#[derive(Debug, Deserialize)]
pub(crate) struct Person {
    #[serde(default)]
    pub org_id: Option<Value>,
}

/// `POST /v1/persons`: the new person.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedPerson {
    pub id: Value,
    #[serde(default)]
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

/// `POST /api/v2/activities`: the new activity.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedActivity {
    pub id: Value,
}

/// `GET /api/v2/activities/{id}`: the whole answer, since the person's name sits beside `data`.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivityResponse {
    /// Kept whole: it goes back to the host as `full_log_response`.
    pub data: Value,
    #[serde(default)]
    pub related_objects: Option<Value>,
}

/// Pipedrive's error body: `{success: false, error, error_info}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_info: Option<String>,
}
