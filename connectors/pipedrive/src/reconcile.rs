//! Finding the activity an earlier create made (`Operation::FindCreatedRecord`), after an attempt whose outcome
//! the host could not know (a timeout, a reset connection, a 5xx, a crash mid-request).
//!
//! Each created activity carries the host's record key in `public_description`, a field the call and SMS flows
//! never write otherwise and that the host's in-place updates leave alone (they send `note`, `subject` and
//! `duration` only), so the composed `note` stays byte for byte what the composer wrote. Pipedrive cannot search
//! activities by a field's value, so the lookup lists the person's newest activities owned by the user (the
//! record, if it exists, was made within the host's retry window) and compares the key.

use callbridge_core::connector::RecordKey;
use callbridge_core::values::{id_number, id_text};
use callbridge_core::{ConnectorError, LogContact, RequestContext};

use crate::client::Api;
use crate::connector::owner_number;

/// How many pages of 100 of the person's newest activities are compared: far more than one user logs for one person
/// while a retry is pending, and a bound on what one lookup costs.
const MAX_PAGES: usize = 10;

/// What a new activity's `public_description` holds (nothing when the host gave no key).
pub(crate) fn marker(key: &RecordKey) -> Option<String> {
    (!key.as_str().is_empty()).then(|| format!("callbridge:{key}"))
}

/// The id of the contact's activity, owned by the log's owner, that carries `key`.
pub(crate) async fn find(
    api: &Api,
    ctx: &RequestContext,
    contact: &LogContact,
    key: &RecordKey,
) -> Result<Option<String>, ConnectorError> {
    let person_id = id_number(&contact.id, "Pipedrive person")?.to_string();
    let owner_id = owner_number(ctx)?.to_string();
    let Some(wanted) = marker(key) else { return Ok(None) };
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = api.recent_activities(&person_id, &owner_id, cursor.as_deref()).await?.body;
        let activities = page["data"].as_array().map(Vec::as_slice).unwrap_or_default();
        if let Some(found) = activities.iter().find(|it| it["public_description"].as_str() == Some(&wanted)) {
            return Ok(Some(id_text(&found["id"])));
        }
        cursor = page["additional_data"]["next_cursor"].as_str().filter(|it| !it.is_empty()).map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    Ok(None)
}
