//! Requests to Pipedrive as one user makes them, over the core `RestClient`, and `parse_error`, which turns
//! Pipedrive's error answers into `ConnectorError`s.
//!
//! URLs are Pipedrive's real ones (`https://{company}.pipedrive.com/api/v2/...`, `https://api.pipedrive.com/...`);
//! tests and sandboxes redirect them with the client's origin override.

use callbridge_core::http::StatusCode;
use callbridge_core::rest::{Reply, RestClient, https_origin};
use callbridge_core::values::numeric_id;
use callbridge_core::{ConnectorError, RequestContext};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::NAME;
use crate::api::ErrorBody;

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

    /// `data` of `GET path?query`; Pipedrive's `data: null` (an empty list, a missing record) reads as the default.
    pub async fn get<T: DeserializeOwned + Default>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        let request = self.0.get(path);
        let request = if query.is_empty() { request } else { request.query(query) };
        self.0.data::<Option<T>>(request).await.map(Reply::or_default)
    }

    /// `data` of the answer to `POST path` with a JSON body.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.0.data(self.0.post(path).json(body)).await
    }

    /// The whole answer: `data` is the activity, and `related_objects.person` holds the contact's name.
    pub async fn activity(&self, activity_id: &str) -> Result<Value> {
        self.0.send(self.0.get(&activity_path(activity_id)?)).await
    }

    pub async fn update_activity(&self, activity_id: &str, update: &impl Serialize) -> Result<Value> {
        self.0.data(self.0.patch(&activity_path(activity_id)?).json(update)).await
    }

    /// One page of the newest activities of one person owned by one user, newest first, from `cursor` on:
    /// `data` (`null` when empty) and `additional_data.next_cursor`.
    pub async fn recent_activities(&self, person: &str, owner: &str, cursor: Option<&str>) -> Result<Value> {
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
