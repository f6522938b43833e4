//! Finding the activity an earlier create made (`Operation::FindCreatedRecord`), after an attempt whose outcome
//! the host could not know (a timeout, a reset connection, a 5xx, a crash mid-request).
//!
//! Each created activity carries the host's record key in `public_description`, a field the call and SMS flows
//! never write otherwise and that the host's in-place updates leave alone (they send `note`, `subject` and
//! `duration` only), so the composed `note` stays byte for byte what the composer wrote. Pipedrive cannot search
//! activities by a field's value, so the lookup lists the person's newest activities owned by the user (the
//! record, if it exists, was made within the host's retry window) and compares the key.

use callbridge_core::connector::RecordKey;
use callbridge_core::{ConnectorError, RequestContext};
use serde_json::{Map, Value, json};

use crate::client::PipedriveClient;

/// The field that holds the key.
const KEY_FIELD: &str = "public_description";
/// How many pages of 100 of the person's newest activities are compared: far more than one user logs for one person
/// while a retry is pending, and a bound on what one lookup costs.
const MAX_PAGES: usize = 10;

/// Adds the record key to a new activity's body (nothing when the host gave none).
pub(crate) fn mark(body: &mut Map<String, Value>, key: &RecordKey) {
    if !key.as_str().is_empty() {
        body.insert(KEY_FIELD.to_owned(), json!(marker(key)));
    }
}

fn marker(key: &RecordKey) -> String {
    format!("callbridge:{key}")
}

/// The id of the person's activity, owned by `owner_id`, that carries `key`.
pub(crate) async fn find(
    client: &PipedriveClient,
    ctx: &RequestContext,
    person_id: u64,
    owner_id: u64,
    key: &RecordKey,
) -> Result<Option<String>, ConnectorError> {
    if key.as_str().is_empty() {
        return Ok(None);
    }
    let wanted = marker(key);
    let (person_id, owner_id) = (person_id.to_string(), owner_id.to_string());
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let (activities, next) = client
            .recent_activities(&ctx.user.hostname, &ctx.auth_header, &person_id, &owner_id, cursor.as_deref())
            .await?;
        if let Some(found) = activities.iter().find(|it| it.get(KEY_FIELD).and_then(Value::as_str) == Some(&wanted)) {
            return Ok(Some(match &found["id"] {
                Value::String(id) => id.clone(),
                other => other.to_string(),
            }));
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(None)
}
