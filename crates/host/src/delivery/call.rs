//! Applying a call session's operations to the CRM: create (reconciled when an earlier attempt's outcome is
//! unknown), update (the CRM's current body recomposed in place) and disposition.

use callbridge_core::compose::{ComposeContact, ComposeUser};
use callbridge_core::connector::{
    CreateCallLogRequest, DispositionRequest, GetCallLogRequest, LogContact, RecordKey, UpdateCallLogRequest,
};
use callbridge_core::{
    CallRecord, ComposeInput, ConnectorError, Operation, ReturnMessage, User, UserSettings, compose,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Applied, AttemptFailure, Delivered};
use crate::hashing::hash_id;
use crate::metrics::crm_call;
use crate::services::auth_context::{RequestFacts, context_for};
use crate::services::call_log::{CreateCallLogBody, UpdateCallLogBody, best_match};
use crate::services::reply::is_unsupported;
use crate::state::{AppState, ConnectorEntry};
use crate::store::{CallLogKey, CallLogRow, CompletedCallLog, JobOp, SettingsChange};

/// The session and extension identity a request names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallIdentity {
    pub session_id: String,
    pub extension_number: String,
    pub hashed_extension_id: String,
}

impl CallIdentity {
    pub fn key(&self, user_id: &str) -> CallLogKey {
        CallLogKey {
            user_id: user_id.to_owned(),
            session_id: self.session_id.clone(),
            extension_number: self.extension_number.clone(),
            hashed_extension_id: self.hashed_extension_id.clone(),
        }
    }
}

/// A queued `POST /callLog`, validated.
#[derive(Debug, Serialize, Deserialize)]
pub struct CallCreatePayload {
    pub facts: RequestFacts,
    pub call: CallIdentity,
    pub contact_id: String,
    pub body: CreateCallLogBody,
}

/// A queued `PATCH /callLog`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CallEditPayload {
    pub facts: RequestFacts,
    pub call: CallIdentity,
    pub body: UpdateCallLogBody,
}

/// A queued `PUT /callDisposition`.
#[derive(Debug, Serialize, Deserialize)]
pub struct DispositionPayload {
    pub facts: RequestFacts,
    pub call: CallIdentity,
    pub dispositions: Map<String, Value>,
}

/// The key a connector stores with the record it creates for this user's call (or message), the same on every
/// attempt: a digest, so it says nothing about the user or the call to whoever reads the CRM.
pub fn record_key(user_id: &str, kind: &str, id: &str) -> RecordKey {
    let digest = hash_id(&format!("{kind}\u{1f}{user_id}\u{1f}{id}"), "callbridge-record-key");
    RecordKey(format!("cb1{}", &digest[..29]))
}

/// The user as the composer sees them: their settings with the account's admin-enforced ones applied.
fn compose_user(user: &User, admin_settings: &UserSettings) -> ComposeUser {
    let user_settings = crate::services::admin::enforced_settings(&user.user_settings, admin_settings);
    ComposeUser { timezone_offset: user.timezone_offset.clone(), user_settings }
}

/// Creates the call's record, unless the session is logged already or an earlier attempt created it.
pub(super) async fn create(
    state: &AppState,
    entry: &ConnectorEntry,
    user: User,
    op: &JobOp,
    marked_by_this_run: bool,
    known_unlogged: bool,
    payload: CallCreatePayload,
) -> Result<Applied, AttemptFailure> {
    let key = payload.call.key(&user.id);
    // Logged under another identity of the same extension counts too: the extension sends no extension identity,
    // server-side logging (SSCL) sends the raw extension id, and one call must still make one record.
    let call = &payload.call;
    if !known_unlogged {
        let rows = state.store.find_call_logs(&user.id, std::slice::from_ref(&call.session_id)).await?;
        if let Some(log_id) = best_match(&rows, &call.session_id, &call.extension_number, &call.hashed_extension_id)
            .and_then(|row| row.third_party_log_id.clone())
        {
            return Ok(Applied { delivered: Delivered::CallAlreadyLogged { log_id }, call_log: None });
        }
    }
    let operation = Operation::CreateCallLog;
    let ctx = match context_for(state, entry, user, &payload.facts).await {
        Ok(ctx) => ctx,
        Err(error) => {
            if marked_by_this_run {
                // Nothing was sent: the next attempt must not take the mark for an unknown outcome.
                state.store.mark_op_sent(op.id, false).await?;
            }
            return Err(AttemptFailure::from_context(&error, operation, entry));
        }
    };
    let request = create_request(state, entry, &ctx, &payload).await;
    let connector = &entry.connector;
    let logged = |log_id: String| {
        let log_info = &payload.body.log_info;
        let record_id = log_info.telephony_session_id.clone().or_else(|| log_info.id.clone()).unwrap_or_default();
        let platform = connector.name().to_owned();
        (key.clone(), CompletedCallLog { record_id, platform, contact_id: payload.contact_id.clone(), log_id })
    };
    // An earlier attempt was sent and its outcome is unknown: look for its record before creating.
    if op.sent_at.is_some()
        && !marked_by_this_run
        && let Some(log_id) = find_created(entry, &ctx, &request).await?
    {
        let delivered = Delivered::CallCreated { log_id: log_id.clone(), return_message: Some(logged_message()) };
        return Ok(Applied { delivered, call_log: Some(logged(log_id)) });
    }
    if !marked_by_this_run {
        state.store.mark_op_sent(op.id, true).await?;
    }
    match crm_call(connector.name(), operation, connector.create_call_log(&ctx, request)).await {
        Ok(created) if !created.log_id.is_empty() => {
            if let Some(update) = created.settings_update {
                store_settings_update(state, &ctx.user.id, update).await;
            }
            let delivered =
                Delivered::CallCreated { log_id: created.log_id.clone(), return_message: created.return_message };
            Ok(Applied { delivered, call_log: Some(logged(created.log_id)) })
        }
        Ok(created) => {
            state.store.mark_op_sent(op.id, false).await?;
            let message = created.return_message.unwrap_or_else(|| {
                ConnectorError::upstream("no record id").to_return_message(operation, &entry.display_name)
            });
            Err(AttemptFailure::refused("the connector created no record", message))
        }
        Err(error) => {
            if !error.outcome_unknown() {
                state.store.mark_op_sent(op.id, false).await?;
            }
            Err(AttemptFailure::from_connector(&error, operation, entry))
        }
    }
}

/// Merges settings a connector hands back after a create into the user's stored ones, field by field within each
/// setting (so the user's chosen `value` survives new `options`), in one transaction. The record exists already,
/// so a failure is logged, never turned into a failed create.
async fn store_settings_update(state: &AppState, user_id: &str, update: UserSettings) {
    let change = |settings: &mut Map<String, Value>| {
        merge_fields(settings, update);
        crate::limits::check_settings(settings)
    };
    match state.store.change_user_settings(user_id, change).await {
        Ok(SettingsChange::Changed(_)) => {}
        Ok(SettingsChange::Refused(error)) => tracing::warn!(?error, "The connector's settings update was refused."),
        Ok(SettingsChange::UserNotFound) => {
            tracing::warn!("The user left before the connector's settings were stored.")
        }
        Err(error) => tracing::warn!(%error, "Storing the connector's settings update failed."),
    }
}

/// Each setting of `update` merged into the stored one: an object's fields replace the stored fields of the same
/// name and leave the others; anything else replaces the stored setting.
fn merge_fields(settings: &mut Map<String, Value>, update: UserSettings) {
    for (key, value) in update.0 {
        match (settings.get_mut(&key), value) {
            (Some(Value::Object(stored)), Value::Object(fields)) => stored.extend(fields),
            (_, value) => {
                settings.insert(key, value);
            }
        }
    }
}

fn logged_message() -> ReturnMessage {
    ReturnMessage::success("Call logged", 2000)
}

/// After an attempt whose outcome is unknown: the record it made, if any. A connector that cannot look stops the
/// job rather than risk a second record.
async fn find_created(
    entry: &ConnectorEntry,
    ctx: &callbridge_core::RequestContext,
    request: &CreateCallLogRequest,
) -> Result<Option<String>, AttemptFailure> {
    let connector = &entry.connector;
    let operation = Operation::FindCreatedRecord;
    if !connector.operations().contains(&operation) {
        return Err(unknown_outcome(entry));
    }
    crm_call(connector.name(), operation, connector.find_created_call_log(ctx, request))
        .await
        .map_err(|error| AttemptFailure::from_connector(&error, operation, entry))
}

/// The refusal for a write that may have reached a CRM whose connector cannot look for its records.
pub(super) fn unknown_outcome(entry: &ConnectorEntry) -> AttemptFailure {
    let display = &entry.display_name;
    AttemptFailure::refused(
        "the outcome of an earlier attempt is unknown and the connector cannot look for its records",
        ReturnMessage::warning(
            format!(
                "This log may or may not be in {display}: the connection broke while it was being saved. Please check \
                 {display}; an administrator can then retry or drop it with `callbridge jobs`."
            ),
            5000,
        ),
    )
}

/// The connector's request for a create: the composed body, the note cached during the call, the voicemail.
async fn create_request(
    state: &AppState,
    entry: &ConnectorEntry,
    ctx: &callbridge_core::RequestContext,
    payload: &CallCreatePayload,
) -> CreateCallLogRequest {
    let body = &payload.body;
    let log_info = &body.log_info;
    let contact_number = log_info.other_party().and_then(|party| party.phone_number.clone()).unwrap_or_default();
    // The note typed during the call and cached then counts when the request brings none.
    let mut note = body.note.clone().filter(|it| !it.is_empty());
    if note.is_none() {
        match state.store.cached_note(&ctx.user.id, &payload.call.session_id).await {
            Ok(cached) => note = cached,
            Err(error) => tracing::warn!(%error, "Reading the note cache failed."),
        }
    }
    let voicemail = log_info.extra.get("voicemail");
    let voicemail_text = |field: &str| match voicemail.and_then(|it| it.get(field)) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let voicemail_link = body.voicemail_link.clone().or_else(|| voicemail_text("link"));
    let voicemail_message_id = body.voicemail_message_id.clone().or_else(|| voicemail_text("messageId"));
    let composed_log_details = match entry.connector.log_format() {
        Some(format) => {
            let mut input = ComposeInput {
                existing_body: String::new(),
                call_log: Some(log_info.clone()),
                contact_info: Some(ComposeContact { phone_number: Some(contact_number.clone()) }),
                user: compose_user(&ctx.user, &ctx.admin_settings),
                note: note.clone(),
                ai_note: body.ai_note.clone(),
                transcript: body.transcript.clone(),
                recording_link: log_info.recording.as_ref().and_then(|it| it.link.clone()),
                voicemail_link: voicemail_link.clone(),
                subject: log_info.custom_subject.clone(),
                start_time: log_info.start_time.clone(),
                duration: log_info.duration.clone(),
                result: log_info.result.clone(),
                ..ComposeInput::default()
            };
            body.ring_sense.fill(&mut input);
            compose(&input, format)
        }
        None => String::new(),
    };
    CreateCallLogRequest {
        record_key: record_key(&ctx.user.id, "call", &payload.call.session_id),
        contact: LogContact {
            id: payload.contact_id.clone(),
            phone_number: Some(contact_number),
            kind: body.contact_type.clone().unwrap_or_default(),
            name: body.contact_name.clone().unwrap_or_default(),
        },
        call_log: log_info.clone(),
        note,
        additional_submission: body.additional_submission.clone().unwrap_or_default(),
        ai_note: body.ai_note.clone(),
        transcript: body.transcript.clone(),
        voicemail_link,
        voicemail_message_id,
        ring_sense: body.ring_sense.to_ring_sense(),
        composed_log_details,
    }
}

/// The user's logged row for the call (the one the request matched, when it did), or the "Cannot find log"
/// refusal.
async fn logged_row(
    state: &AppState,
    user: &User,
    call: &CallIdentity,
    matched: Option<CallLogRow>,
) -> Result<(CallLogRow, String), AttemptFailure> {
    let row = match matched {
        Some(row) => Some(row),
        None => {
            let rows = state.store.find_call_logs(&user.id, std::slice::from_ref(&call.session_id)).await?;
            best_match(&rows, &call.session_id, &call.extension_number, &call.hashed_extension_id).cloned()
        }
    };
    row.and_then(|row| row.third_party_log_id.clone().map(|log_id| (row, log_id)))
        .ok_or_else(|| AttemptFailure::refused("no logged record", ReturnMessage::warning("Cannot find log", 3000)))
}

/// Updates the call's record: the CRM's current body, recomposed in place with the request's fields.
pub(super) async fn update(
    state: &AppState,
    entry: &ConnectorEntry,
    user: User,
    matched: Option<CallLogRow>,
    payload: CallEditPayload,
) -> Result<Applied, AttemptFailure> {
    let operation = Operation::UpdateCallLog;
    let (row, log_id) = logged_row(state, &user, &payload.call, matched).await?;
    let ctx = context_for(state, entry, user, &payload.facts)
        .await
        .map_err(|error| AttemptFailure::from_context(&error, operation, entry))?;
    let connector = &entry.connector;
    let body = &payload.body;
    let session_id = payload.call.session_id.clone();
    let mut composed = String::new();
    let mut existing_log_details = None;
    if let Some(format) = connector.log_format() {
        let fetch = GetCallLogRequest {
            log_id: log_id.clone(),
            session_id: session_id.clone(),
            telephony_session_id: Some(row.record_id.clone()).filter(|it| !it.is_empty()),
            contact_id: row.contact_id.clone(),
        };
        let mut existing_body = String::new();
        match crm_call(connector.name(), Operation::GetCallLog, connector.get_call_log(&ctx, fetch)).await {
            Ok(details) => {
                existing_body = details.full_body.or(details.note).unwrap_or_default();
                existing_log_details = Some(details.full_log_response);
            }
            // A connector that cannot read logs back gets the body of the update alone, as it always has.
            Err(error) if is_unsupported(&error) => {}
            // Never rebuild a body from nothing because the fetch failed.
            Err(error) => return Err(AttemptFailure::from_connector(&error, operation, entry)),
        }
        let mut input = ComposeInput {
            existing_body,
            call_log: Some(CallRecord {
                session_id: Some(session_id.clone()),
                start_time: body.start_time.clone(),
                duration: body.duration.clone(),
                result: body.result.clone(),
                direction: body.direction.clone(),
                from: body.from.clone(),
                to: body.to.clone(),
                legs: Some(body.legs.clone().unwrap_or_default()),
                ..CallRecord::default()
            }),
            contact_info: None,
            user: compose_user(&ctx.user, &ctx.admin_settings),
            note: body.note.clone(),
            ai_note: body.ai_note.clone(),
            transcript: body.transcript.clone(),
            recording_link: body.recording_link.clone(),
            voicemail_link: body.voicemail_link.clone(),
            subject: body.subject.clone(),
            start_time: body.start_time.clone(),
            duration: body.duration.clone(),
            result: body.result.clone(),
            ..ComposeInput::default()
        };
        body.ring_sense.fill(&mut input);
        composed = compose(&input, format);
    }
    let request = UpdateCallLogRequest {
        log_id: log_id.clone(),
        session_id,
        contact_id: row.contact_id.clone(),
        recording_link: body.recording_link.clone(),
        recording_download_link: body.recording_download_link.clone(),
        voicemail_link: body.voicemail_link.clone(),
        voicemail_message_id: body.voicemail_message_id.clone(),
        subject: body.subject.clone(),
        note: body.note.clone(),
        start_time: body.start_time.clone(),
        duration: body.duration.clone(),
        result: body.result.clone(),
        ai_note: body.ai_note.clone(),
        transcript: body.transcript.clone(),
        legs: body.legs.clone().unwrap_or_default(),
        ring_sense: body.ring_sense.to_ring_sense(),
        additional_submission: body.additional_submission.clone().unwrap_or_default(),
        composed_log_details: composed,
        existing_log_details,
    };
    match crm_call(connector.name(), operation, connector.update_call_log(&ctx, request)).await {
        Ok(updated) => Ok(Applied {
            delivered: Delivered::CallUpdated {
                log_id,
                updated_note: updated.updated_note,
                return_message: updated.return_message,
            },
            call_log: None,
        }),
        Err(error) => Err(AttemptFailure::from_connector(&error, operation, entry)),
    }
}

/// Sets the call's dispositions.
pub(super) async fn disposition(
    state: &AppState,
    entry: &ConnectorEntry,
    user: User,
    matched: Option<CallLogRow>,
    payload: DispositionPayload,
) -> Result<Applied, AttemptFailure> {
    let operation = Operation::UpsertCallDisposition;
    let (_, log_id) = logged_row(state, &user, &payload.call, matched).await?;
    let ctx = context_for(state, entry, user, &payload.facts)
        .await
        .map_err(|error| AttemptFailure::from_context(&error, operation, entry))?;
    let connector = &entry.connector;
    let request = DispositionRequest { log_id, dispositions: payload.dispositions };
    let delivered = match crm_call(connector.name(), operation, connector.upsert_call_disposition(&ctx, request)).await
    {
        Ok(result) => Delivered::DispositionSet { log_id: result.log_id, return_message: result.return_message },
        // The extension sends a disposition after every edit; a CRM without dispositions has nothing to say.
        Err(error) if is_unsupported(&error) => Delivered::DispositionUnsupported,
        Err(error) => return Err(AttemptFailure::from_connector(&error, operation, entry)),
    };
    Ok(Applied { delivered, call_log: None })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_settings_update_replaces_only_the_fields_it_names() {
        let mut stored = json!({
            "defaultCategory": { "value": "1", "customizable": false, "options": [{ "id": 9, "name": "Old" }] },
            "redtailCustomTimezone": { "value": "-5" },
            "plain": 3
        })
        .as_object()
        .unwrap()
        .clone();
        let update = json!({
            "defaultCategory": { "options": [{ "id": 1, "name": "Client Service" }] },
            "plain": { "value": 4 },
            "new": { "value": true }
        });
        merge_fields(&mut stored, UserSettings(update.as_object().unwrap().clone()));
        assert_eq!(
            Value::Object(stored),
            json!({
                "defaultCategory": { "value": "1", "customizable": false, "options": [{ "id": 1, "name": "Client Service" }] },
                "redtailCustomTimezone": { "value": "-5" },
                "plain": { "value": 4 },
                "new": { "value": true }
            })
        );
    }
}
