//! Call logs as Insightly events: create (the event and its links in one request), read back, update (a PUT of the
//! event's fields), dispositions (links to organisations, opportunities and projects, replaced by delete then create),
//! and finding the event an earlier create wrote, by the record key kept in its `LOCATION`.

use callbridge_core::compose::{LogFormat, agent_note};
use callbridge_core::{
    CallDuration, CallLogCreated, CallLogDetails, CallLogUpdated, ConnectorError, CreateCallLogRequest,
    DispositionRequest, DispositionResult, ErrorKind, LogContact, RecordKey, RequestContext, ReturnMessage, StartTime,
    UpdateCallLogRequest,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::NAME;
use crate::api::{Event, EventUpdate, Link, NewEvent, NewLink};
use crate::client::{PersonKind, UserApi, numeric_id};
use crate::contacts::LINKED_OPTIONS;

/// What the `LOCATION` of a logged event starts with, before the record key.
const KEY_MARKER: &str = "callbridge:";

/// The `LOCATION` that marks an event as the record of `key`; `None` for an empty key.
pub(crate) fn key_location(key: &RecordKey) -> Option<String> {
    let key = key.as_str().trim();
    (!key.is_empty()).then(|| format!("{KEY_MARKER}{key}"))
}

/// Insightly's UTC date-time as App Connect sends it: `2024-02-01T12:00:00.000Z`.
pub(crate) fn insightly_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The end of a call: its start plus its length; a `pending` or missing length ends it where it starts.
fn end_of(start: DateTime<Utc>, duration: Option<&CallDuration>) -> DateTime<Utc> {
    let seconds = duration.and_then(CallDuration::seconds).filter(|it| it.is_finite() && *it > 0.0).unwrap_or(0.0);
    start + TimeDelta::milliseconds((seconds * 1000.0).round() as i64)
}

/// The kind of the log's contact and its id, or an error naming what is wrong.
pub(crate) fn person_of(contact: &LogContact) -> Result<(PersonKind, u64), ConnectorError> {
    let kind = PersonKind::parse(&contact.kind).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Rejected,
            format!("`{}` is neither an Insightly contact nor a lead", contact.kind),
        )
    })?;
    Ok((kind, numeric_id(&contact.id, "contact")?))
}

/// A chosen organisation, opportunity or project: an id as a number or a string; empty values mean none.
fn chosen_id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64().filter(|it| *it > 0),
        Value::String(text) => text.trim().parse::<u64>().ok().filter(|it| *it > 0),
        _ => None,
    }
}

/// The organisation, opportunity and project chosen in a submission, as links.
pub(crate) fn chosen_links(submission: &Map<String, Value>) -> Vec<NewLink> {
    LINKED_OPTIONS
        .iter()
        .filter_map(|(object, key, ..)| {
            let id = submission.get(*key).and_then(chosen_id)?;
            Some(NewLink { link_object_name: (*object).to_owned(), link_object_id: id })
        })
        .collect()
}

/// The links of a new log: its contact or lead, and for contacts the chosen organisation, opportunity and project.
pub(crate) fn log_links(contact: &LogContact, submission: &Map<String, Value>) -> Result<Vec<NewLink>, ConnectorError> {
    let (kind, id) = person_of(contact)?;
    let mut links = vec![NewLink { link_object_name: kind.label().to_owned(), link_object_id: id }];
    if kind == PersonKind::Contact {
        links.extend(chosen_links(submission));
    }
    Ok(links)
}

/// The admin-assigned user (§0.5) as the event's `OWNER_USER_ID`; `None` leaves the owner to Insightly.
pub(crate) fn assigned_owner(ctx: &RequestContext) -> Result<Option<u64>, ConnectorError> {
    let Some(id) = ctx.assigned_user() else {
        return Ok(None);
    };
    numeric_id(id, "user").map(Some)
}

pub(crate) async fn create(
    api: &UserApi<'_>,
    request: &CreateCallLogRequest,
    owner_user_id: Option<u64>,
) -> Result<CallLogCreated, ConnectorError> {
    let links = log_links(&request.contact, &request.additional_submission)?;
    let call = &request.call_log;
    let title = call.subject(&request.contact.name);
    let start = call.start_time.as_ref().and_then(StartTime::to_utc).unwrap_or_else(Utc::now);
    let event = NewEvent {
        title: &title,
        details: &request.composed_log_details,
        start_date_utc: insightly_time(start),
        end_date_utc: insightly_time(end_of(start, call.duration.as_ref())),
        location: key_location(&request.record_key),
        owner_user_id,
        links,
    };
    let created = api.create_event(&event).await?;
    let log_id =
        created.event_id.ok_or_else(|| ConnectorError::upstream("insightly created an event without an id"))?;
    Ok(CallLogCreated {
        log_id: log_id.to_string(),
        return_message: Some(ReturnMessage::success("Call logged", 2000)),
        settings_update: None,
    })
}

/// The id of the event whose `LOCATION` holds `key`, if Insightly has one.
pub(crate) async fn find_created(api: &UserApi<'_>, key: &RecordKey) -> Result<Option<String>, ConnectorError> {
    let location = key_location(key)
        .ok_or_else(|| ConnectorError::new(ErrorKind::Rejected, "an empty record key cannot be looked up"))?;
    let found = api.events_at(&location).await?;
    if found.len() > 1 {
        warn!(connector = NAME, count = found.len(), "Several events carry one record key; using the oldest.");
    }
    Ok(found.iter().filter_map(|it| it.event_id).min().map(|it| it.to_string()))
}

pub(crate) async fn get(api: &UserApi<'_>, log_id: &str) -> Result<CallLogDetails, ConnectorError> {
    let raw = api.event(numeric_id(log_id, "event")?).await?;
    let event = decode_event(&raw)?;
    let full_body = event.details.clone().unwrap_or_default();
    let person = event.links.iter().find_map(|link| {
        let kind = PersonKind::parse(link.link_object_name.as_deref()?)?;
        Some((kind, link.link_object_id?))
    });
    let contact_name = match person {
        Some((kind, id)) => match api.record(kind.collection(), id).await {
            Ok(record) => Some(record_name(&record)),
            Err(error) => {
                warn!(connector = NAME, %error, "Reading the logged contact failed; the log shows no contact name.");
                None
            }
        },
        None => None,
    };
    Ok(CallLogDetails {
        subject: event.title.clone(),
        note: Some(agent_note(&full_body, LogFormat::PlainText).unwrap_or_default()),
        full_body: Some(full_body),
        contact_name,
        dispositions: Some(Value::Object(dispositions_of(&event.links))),
        full_log_response: raw,
    })
}

pub(crate) async fn update(
    api: &UserApi<'_>,
    request: &UpdateCallLogRequest,
    owner_user_id: Option<u64>,
) -> Result<CallLogUpdated, ConnectorError> {
    let event_id = numeric_id(&request.log_id, "event")?;
    let existing = match &request.existing_log_details {
        Some(raw) => decode_event(raw)?,
        None => decode_event(&api.event(event_id).await?)?,
    };
    let title = request.subject.as_deref().filter(|it| !it.is_empty()).or(existing.title.as_deref());
    let start = request.start_time.as_ref().and_then(StartTime::to_utc);
    let update = EventUpdate {
        event_id,
        details: &request.composed_log_details,
        title,
        start_date_utc: start.map(insightly_time).or(existing.start_date_utc.clone()),
        end_date_utc: start.map(|it| insightly_time(end_of(it, request.duration.as_ref()))).or(existing.end_date_utc),
        owner_user_id,
    };
    api.update_event(&update).await?;
    Ok(CallLogUpdated {
        updated_note: Some(request.composed_log_details.clone()),
        return_message: Some(ReturnMessage::success("Call log updated.", 2000)),
    })
}

/// Points the event's organisation, opportunity and project links at the chosen records: a link of that kind to
/// another record is deleted first, and a link that is already right is left alone.
pub(crate) async fn upsert_disposition(
    api: &UserApi<'_>,
    request: &DispositionRequest,
) -> Result<DispositionResult, ConnectorError> {
    let wanted = chosen_links(&request.dispositions);
    if wanted.is_empty() {
        return Ok(DispositionResult::default());
    }
    let event_id = numeric_id(&request.log_id, "event")?;
    let event = decode_event(&api.event(event_id).await?)?;
    for link in &wanted {
        let same_kind = |it: &&Link| {
            it.link_object_name.as_deref().is_some_and(|name| name.eq_ignore_ascii_case(&link.link_object_name))
        };
        let existing: Vec<&Link> = event.links.iter().filter(same_kind).collect();
        if existing.iter().any(|it| it.link_object_id == Some(link.link_object_id)) {
            continue;
        }
        for old in existing {
            if let Some(link_id) = old.link_id {
                api.delete_link(event_id, link_id).await?;
            }
        }
        api.add_link(event_id, link).await?;
    }
    Ok(DispositionResult { log_id: Some(request.log_id.clone()), return_message: None })
}

fn decode_event(raw: &Value) -> Result<Event, ConnectorError> {
    serde_json::from_value(raw.clone())
        .map_err(|error| ConnectorError::upstream(format!("insightly sent an event we cannot read: {error}")))
}

/// `FIRST_NAME LAST_NAME` of a contact or lead record.
fn record_name(record: &Value) -> String {
    ["FIRST_NAME", "LAST_NAME"]
        .into_iter()
        .filter_map(|field| record.get(field).and_then(Value::as_str))
        .map(str::trim)
        .filter(|it| !it.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `{organisation: id, opportunity: id, project: id}` from the event's links to such records.
pub(crate) fn dispositions_of(links: &[Link]) -> Map<String, Value> {
    let mut dispositions = Map::new();
    for link in links {
        let (Some(name), Some(id)) = (link.link_object_name.as_deref(), link.link_object_id) else { continue };
        if let Some((_, key, ..)) = LINKED_OPTIONS.iter().find(|(object, ..)| object.eq_ignore_ascii_case(name)) {
            dispositions.insert((*key).to_owned(), json!(id.to_string()));
        }
    }
    dispositions
}
