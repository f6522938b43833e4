//! Finding the activity an earlier create wrote for a `RecordKey`, so that a create whose outcome was unknown
//! (timeout, reset connection, 5xx, crash) is never made twice.
//!
//! Redtail has no idempotency key or external id on activities. Each create therefore writes a marker into the
//! activity's `location`, a field calls and messages do not otherwise use, which keeps the description exactly as
//! composed. The lookup lists the activities dated around the record's start and picks the one with the marker.

use callbridge_core::{ConnectorError, ErrorKind, RecordKey, RequestContext};
use chrono::{DateTime, TimeDelta, Utc};

use crate::NAME;
use crate::connector::{Redtail, complete, warn_after_create};

/// Pages of activities read before giving up: a day's activities of one database fit in far fewer.
const MAX_PAGES: u32 = 20;

/// The marker a create writes into the activity's `location`; none without a key (a host that does not
/// reconcile sends none).
pub(crate) fn record_marker(key: &RecordKey) -> Option<String> {
    let key = key.as_str().trim();
    (!key.is_empty()).then(|| format!("callbridge:{key}"))
}

/// The id of the activity carrying `key`'s marker, dated within a day of `start`, or `None`. An activity found
/// but not completed (the create stopped between its steps) is completed now.
pub(crate) async fn find_created(
    connector: &Redtail,
    ctx: &RequestContext,
    key: &RecordKey,
    start: DateTime<Utc>,
) -> Result<Option<String>, ConnectorError> {
    let marker = record_marker(key)
        .ok_or_else(|| ConnectorError::new(ErrorKind::Rejected, "a record key is needed to find a created record"))?;
    let auth = ctx.auth_header.clone();
    let day = |delta: i64| (start + TimeDelta::days(delta)).format("%Y-%m-%d").to_string();
    let (from, to) = (day(-1), day(1));
    for page in 1..=MAX_PAGES {
        let answer = connector.client.activities(&auth, &from, &to, page).await?;
        if let Some(found) = answer.activities.into_iter().find(|it| it.location.as_deref() == Some(marker.as_str())) {
            let id = found.id.0;
            if found.completed != Some(true) {
                // The record exists either way; an unfinished completion must not hide it.
                if let Err(error) = complete(&connector.client, &auth, &id).await {
                    warn_after_create(&id, &error);
                }
            }
            return Ok(Some(id));
        }
        if page >= answer.meta.and_then(|it| it.total_pages).unwrap_or(1) {
            return Ok(None);
        }
    }
    // Saying "not there" without having looked everywhere could make a second record.
    Err(ConnectorError::upstream(format!(
        "{NAME} lists more than {MAX_PAGES} pages of activities between {from} and {to}; the record was not found in them"
    )))
}
