//! Call logs as Clio communications (`PhoneCommunication`), each with a time entry (a `TimeEntry` activity linked
//! to it) when the user keeps time entries on; matters are the call's disposition.

use callbridge_core::compose::{LogFormat, agent_note};
use callbridge_core::{
    CallDuration, CallLogCreated, CallLogDetails, CallLogUpdated, ConnectorError, CreateCallLogRequest,
    DispositionRequest, DispositionResult, ErrorKind, GetCallLogRequest, RecordKey, RequestContext, ReturnMessage,
    UpdateCallLogRequest, User,
};
use chrono::SecondsFormat;
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::NAME;
use crate::api::{Communication, Party};
use crate::client::{ClioClient, RECORD_KEY_PROPERTY, id_number, id_text, numeric_id};
use crate::settings;

/// What Clio gets as the body when the host composed nothing (Clio refuses an empty body).
const NO_DETAILS: &str = "No details available";
const GET_FIELDS: &str = "subject,body,matter,senders,receivers,id";

pub(crate) async fn create(
    client: &ClioClient,
    ctx: &RequestContext,
    request: &CreateCallLogRequest,
) -> Result<CallLogCreated, ConnectorError> {
    let host = &ctx.user.hostname;
    let user_id = user_number(&ctx.user)?;
    let contact_id = id_number(&request.contact.id, "contact")?;
    let call = &request.call_log;
    let subject = match call.custom_subject.as_deref().filter(|it| !it.is_empty()) {
        Some(custom) => custom.to_owned(),
        None => {
            let (direction, preposition) = if call.is_outbound() { ("Outbound", "to") } else { ("Inbound", "from") };
            let phone = request.contact.phone_number.as_deref().unwrap_or_default();
            format!("[Call] {direction} Call {preposition} {} [{phone}]", request.contact.name)
        }
    };
    let assignee = assigned_user(ctx)?;
    // An admin-assigned log is the assignee's side of the call (§0.5); the session's user is still notified.
    let user = json!({ "id": assignee.unwrap_or(user_id), "type": "User" });
    let contact = json!({ "id": contact_id, "type": "Contact" });
    let (senders, receivers) = if call.is_outbound() { (user, contact) } else { (contact, user) };
    let body_text = if request.composed_log_details.is_empty() { NO_DETAILS } else { &request.composed_log_details };
    let received_at =
        call.start_time.as_ref().and_then(|it| it.to_utc()).map(|it| it.to_rfc3339_opts(SecondsFormat::Secs, true));
    let matter = matter_of(&request.additional_submission);
    let mut data = Map::new();
    data.insert("subject".to_owned(), json!(subject));
    data.insert("body".to_owned(), json!(body_text));
    data.insert("type".to_owned(), json!("PhoneCommunication"));
    data.insert("received_at".to_owned(), json!(received_at));
    data.insert("senders".to_owned(), json!([senders]));
    data.insert("receivers".to_owned(), json!([receivers]));
    data.insert("notification_event_subscribers".to_owned(), json!([{ "user_id": user_id }]));
    if let Some(matter) = &matter {
        data.insert("matter".to_owned(), json!({ "id": matter }));
    }
    insert_record_key(&mut data, &request.record_key);
    let created = client.create_communication(host, &ctx.auth_header, &json!({ "data": data })).await?;
    let log_id = id_text(&created.body.id);

    let mut return_message = ReturnMessage::success("Call logged", 2000);
    if settings::time_entries_enabled(&ctx.user.user_settings) {
        let non_billable = settings::call_non_billable(&request.additional_submission, &ctx.user.user_settings);
        let entry = json!({ "data": {
            "communication": { "id": log_id.parse::<u64>().ok() },
            "quantity": seconds(call.duration.as_ref()),
            "date": received_at,
            "type": "TimeEntry",
            "non_billable": non_billable,
            "note": body_text,
            "matter": matter.as_ref().map(|it| json!({ "id": it })),
            // The assignee's time, not the session user's; Clio books it to the token's user otherwise.
            "user": assignee.map(|it| json!({ "id": it })),
        }});
        // The communication exists: failing the whole create now would make the host release the call and a
        // retry write a second communication. Report it instead; the next update with a duration adds the entry.
        if let Err(error) = client.create_activity(host, &ctx.auth_header, &strip_nulls(entry)).await {
            warn!(connector = NAME, %error, "The call was logged but its time entry could not be created.");
            return_message = ReturnMessage::warning("Call logged, but its time entry could not be created.", 3000);
        }
    }
    Ok(CallLogCreated { log_id, return_message: Some(return_message), settings_update: None })
}

/// The communication an earlier create with this record key wrote, if any.
pub(crate) async fn find_created(
    client: &ClioClient,
    ctx: &RequestContext,
    key: &RecordKey,
) -> Result<Option<String>, ConnectorError> {
    if key.as_str().is_empty() {
        return Ok(None);
    }
    let found = client.communications_with_key(&ctx.user.hostname, &ctx.auth_header, key.as_str()).await?;
    Ok(found.first().map(|it| id_text(&it.id)))
}

/// Adds the record key as the communication's external property (`[{name, value}]`), apart from the composed
/// body; a request without a key adds nothing.
pub(crate) fn insert_record_key(data: &mut Map<String, Value>, key: &RecordKey) {
    if !key.as_str().is_empty() {
        data.insert("external_properties".to_owned(), json!([{ "name": RECORD_KEY_PROPERTY, "value": key.as_str() }]));
    }
}

pub(crate) async fn get(
    client: &ClioClient,
    ctx: &RequestContext,
    request: &GetCallLogRequest,
) -> Result<CallLogDetails, ConnectorError> {
    let host = &ctx.user.hostname;
    let id = communication_id(&request.log_id);
    let (communication, raw) = client.communication(host, &ctx.auth_header, id, GET_FIELDS).await?.body;
    // The contact is whichever party is not a Clio user (the reference only looked at a sender of type Person,
    // which picked the wrong party for companies and outbound calls).
    let contact = communication
        .senders
        .iter()
        .chain(&communication.receivers)
        .find(|it| it.kind.as_deref() != Some("User"))
        .map(|it| id_text(&it.id));
    let contact_name = match contact {
        Some(contact) => client.contact_name(host, &ctx.auth_header, &contact).await?,
        None => None,
    };
    let full_body = communication.body.unwrap_or_default();
    let matter = communication.matter.as_ref().and_then(|it| it.get("id")).cloned().unwrap_or(Value::Null);
    Ok(CallLogDetails {
        subject: communication.subject,
        note: Some(agent_note(&full_body, LogFormat::PlainText).unwrap_or_default()),
        full_body: Some(full_body),
        full_log_response: raw,
        contact_name,
        dispositions: Some(json!({ "matters": matter })),
    })
}

pub(crate) async fn update(
    client: &ClioClient,
    ctx: &RequestContext,
    request: &UpdateCallLogRequest,
) -> Result<CallLogUpdated, ConnectorError> {
    let host = &ctx.user.hostname;
    let id = numeric_id(communication_id(&request.log_id), "communication")?;
    let assignee = assigned_user(ctx)?;
    let received_at =
        request.start_time.as_ref().and_then(|it| it.to_utc()).map(|it| it.to_rfc3339_opts(SecondsFormat::Secs, true));
    if let Some(duration) = request.duration.as_ref().filter(|it| it.seconds().is_some())
        && settings::time_entries_enabled(&ctx.user.user_settings)
    {
        let entries = client.activities_of(host, &ctx.auth_header, id).await?;
        let mut data = Map::new();
        data.insert("quantity".to_owned(), json!(seconds(Some(duration))));
        data.insert("note".to_owned(), json!(request.composed_log_details));
        if let Some(date) = &received_at {
            data.insert("date".to_owned(), json!(date));
        }
        match entries.first() {
            Some(entry) => {
                client.update_activity(host, &ctx.auth_header, &id_text(&entry.id), &json!({ "data": data })).await?;
            }
            // The create could not add the entry (see `create`): add it now.
            None => {
                data.insert("communication".to_owned(), json!({ "id": id.parse::<u64>().ok() }));
                data.insert("type".to_owned(), json!("TimeEntry"));
                let non_billable = settings::call_non_billable(&request.additional_submission, &ctx.user.user_settings);
                data.insert("non_billable".to_owned(), json!(non_billable));
                if let Some(assignee) = assignee {
                    data.insert("user".to_owned(), json!({ "id": assignee }));
                }
                client.create_activity(host, &ctx.auth_header, &json!({ "data": data })).await?;
            }
        }
    }
    let mut data = Map::new();
    data.insert("body".to_owned(), json!(request.composed_log_details));
    if let Some(subject) = request.subject.as_deref().filter(|it| !it.is_empty()) {
        data.insert("subject".to_owned(), json!(subject));
    }
    if let Some(received_at) = received_at {
        data.insert("received_at".to_owned(), json!(received_at));
    }
    if let Some(assignee) = assignee {
        let communication = match &request.existing_log_details {
            Some(raw) => serde_json::from_value::<Communication>(raw.clone()).ok(),
            None => None,
        };
        let communication = match communication {
            Some(it) => it,
            None => client.communication(host, &ctx.auth_header, id, "senders,receivers").await?.body.0,
        };
        // Whichever side is the Clio user becomes the assignee; the contact's side stays.
        let reassign = |parties: &[Party]| -> Value {
            parties
                .iter()
                .map(|party| match party.kind.as_deref() {
                    Some("User") => json!({ "id": assignee, "type": "User" }),
                    kind => json!({ "id": party.id, "type": kind }),
                })
                .collect()
        };
        data.insert("senders".to_owned(), reassign(&communication.senders));
        data.insert("receivers".to_owned(), reassign(&communication.receivers));
    }
    client.update_communication(host, &ctx.auth_header, id, &json!({ "data": data })).await?;
    Ok(CallLogUpdated {
        updated_note: Some(request.composed_log_details.clone()),
        return_message: Some(ReturnMessage::success("Call log updated.", 2000)),
    })
}

pub(crate) async fn disposition(
    client: &ClioClient,
    ctx: &RequestContext,
    request: &DispositionRequest,
) -> Result<DispositionResult, ConnectorError> {
    let Some(matter) = matter_of(&request.dispositions) else {
        return Ok(DispositionResult::default());
    };
    let id = communication_id(&request.log_id);
    let body = json!({ "data": { "matter": { "id": matter } } });
    client.update_communication(&ctx.user.hostname, &ctx.auth_header, id, &body).await?;
    Ok(DispositionResult { log_id: Some(id.to_owned()), return_message: None })
}

/// The chosen matter's id as Clio wants it (a number), from the form's `matters` field.
pub(crate) fn matter_of(fields: &Map<String, Value>) -> Option<Value> {
    match fields.get("matters")? {
        Value::Number(number) => Some(Value::Number(number.clone())),
        Value::String(text) if !text.trim().is_empty() => {
            Some(text.trim().parse::<u64>().map_or_else(|_| json!(text.trim()), |it| json!(it)))
        }
        _ => None,
    }
}

/// The communication id in a stored log id: App Connect logs may carry a `.suffix`.
pub(crate) fn communication_id(log_id: &str) -> &str {
    log_id.split('.').next().unwrap_or(log_id)
}

/// The admin-assigned Clio user (§0.5), as Clio's numeric user id; `None` when the log is the session user's.
pub(crate) fn assigned_user(ctx: &RequestContext) -> Result<Option<u64>, ConnectorError> {
    let Some(id) = ctx.assigned_user() else {
        return Ok(None);
    };
    id.parse::<u64>()
        .map(Some)
        .map_err(|_| ConnectorError::new(ErrorKind::Rejected, format!("`{id}` is not a Clio user id")))
}

/// The logging user's numeric Clio id, from `<id>-clio`.
pub(crate) fn user_number(user: &User) -> Result<u64, ConnectorError> {
    user.crm_user_id().parse::<u64>().map_err(|_| {
        ConnectorError::new(
            ErrorKind::Unauthorized,
            format!("user id `{}` does not start with a Clio user id", user.id),
        )
    })
}

/// A call's length in whole seconds for a time entry; `pending` or a missing length counts as zero.
fn seconds(duration: Option<&CallDuration>) -> u64 {
    duration.and_then(CallDuration::seconds).filter(|it| *it > 0.0).map_or(0, |it| it.round() as u64)
}

/// The body without its `null` members: Clio reads an explicit null as "clear this".
pub(crate) fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter().filter(|(_, it)| !it.is_null()).map(|(key, it)| (key, strip_nulls(it))).collect(),
        ),
        other => other,
    }
}
