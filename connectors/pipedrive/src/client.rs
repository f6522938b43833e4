//! Pipedrive's endpoints as one user calls them, over the core `RestClient`, and `parse_error`, which turns
//! Pipedrive's error answers into `ConnectorError`s.
//!
//! URLs are Pipedrive's real ones (`https://{company}.pipedrive.com/api/v2/...`, `https://api.pipedrive.com/...`);
//! tests and sandboxes redirect them with the client's origin override.

use callbridge_core::http::StatusCode;
use callbridge_core::rest::{Reply, RestClient, https_origin};
use callbridge_core::values::numeric_id;
use callbridge_core::{ConnectorError, RequestContext};
use serde_json::Value;

use crate::NAME;
use crate::api::{
    AccountUser, ActivityPage, ActivityResponse, ActivityType, Created, CurrentUser, ErrorBody, NewActivity, Person,
    Related, SearchResult,
};

/// `GET /v1/users/me` on Pipedrive's global API host; login and SMS appends use it.
pub(crate) const GLOBAL_USER_URL: &str = "https://api.pipedrive.com/v1/users/me";

type Result<T> = std::result::Result<Reply<T>, ConnectorError>;

/// Requests of one user: their company host and their `Authorization`.
#[derive(Debug)]
pub(crate) struct Api(pub RestClient);

impl Api {
    pub fn for_user(rest: &RestClient, ctx: &RequestContext) -> std::result::Result<Self, ConnectorError> {
        Ok(Self(rest.clone().with_base(&https_origin(&ctx.user.hostname, "Pipedrive")?).with_auth(&ctx.auth_header)))
    }

    /// `url` is [`GLOBAL_USER_URL`] or the company host's `/v1/users/me`.
    pub async fn current_user(&self, url: &str) -> Result<CurrentUser> {
        self.0.data(self.0.get(url)).await
    }

    pub async fn account_users(&self) -> Result<Vec<AccountUser>> {
        self.0.data(self.0.get("/api/v1/users")).await
    }

    /// Persons whose `field` (`phone` or `name`) matches `term`.
    pub async fn search_persons(&self, term: &str, field: &str) -> Result<SearchResult> {
        let request = self.0.get("/api/v2/persons/search").query(&[("term", term), ("fields", field)]);
        self.0.data::<Option<_>>(request).await.map(Reply::or_default)
    }

    pub async fn open_deals(&self, person_id: &str) -> Result<Vec<Related>> {
        let request = self.0.get("/api/v2/deals").query(&[("person_id", person_id), ("status", "open")]);
        self.0.data::<Option<_>>(request).await.map(Reply::or_default)
    }

    pub async fn leads(&self, person_id: &str) -> Result<Vec<Related>> {
        self.0
            .data::<Option<_>>(self.0.get("/v1/leads").query(&[("person_id", person_id)]))
            .await
            .map(Reply::or_default)
    }

    pub async fn person(&self, person_id: &str) -> Result<Person> {
        self.0.data(self.0.get(&format!("/api/v2/persons/{}", numeric_id(person_id, "Pipedrive person")?))).await
    }

    pub async fn create_person(&self, name: &str, phone: &str) -> Result<Created> {
        self.0.data(self.0.post("/v1/persons").json(&serde_json::json!({ "name": name, "phone": phone }))).await
    }

    pub async fn activity_types(&self) -> Result<Vec<ActivityType>> {
        self.0.data::<Option<_>>(self.0.get("/v1/activityTypes")).await.map(Reply::or_default)
    }

    pub async fn create_activity(&self, activity: &NewActivity) -> Result<Created> {
        self.0.data(self.0.post("/api/v2/activities").json(activity)).await
    }

    /// The activity with the objects it refers to (`related_objects.person` holds the contact's name).
    pub async fn activity(&self, activity_id: &str) -> Result<ActivityResponse> {
        self.0.send(self.0.get(&activity_path(activity_id)?)).await
    }

    pub async fn update_activity(&self, activity_id: &str, update: &impl serde::Serialize) -> Result<Value> {
        self.0.data(self.0.patch(&activity_path(activity_id)?).json(update)).await
    }

    /// One page of the newest activities of one person owned by one user, newest first, from `cursor` on.
    pub async fn recent_activities(&self, person: &str, owner: &str, cursor: Option<&str>) -> Result<ActivityPage> {
        let mut query = vec![
            ("person_id", person),
            ("owner_id", owner),
            ("sort_by", "id"),
            ("sort_direction", "desc"),
            ("limit", "100"),
        ];
        query.extend(cursor.map(|cursor| ("cursor", cursor)));
        self.0.send(self.0.get("/api/v2/activities").query(&query)).await
    }
}

fn activity_path(activity_id: &str) -> std::result::Result<String, ConnectorError> {
    Ok(format!("/api/v2/activities/{}", numeric_id(activity_id, "Pipedrive activity")?))
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
