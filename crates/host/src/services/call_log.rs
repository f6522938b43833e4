//! Call logging: create (exactly once per call, per user), update, read and disposition, following App Connect's
//! flows with its known defects fixed.
//!
//! - Every lookup is scoped to the session's user: one user can neither see nor block another's logs.
//! - Create claims the call's identity in the store before the CRM is called. Of any number of concurrent or
//!   repeated creates exactly one gets the claim and calls the CRM; the others answer "Existing log for session".
//!   A CRM failure releases the claim so that a later attempt can succeed.
//! - Update reports a failure to fetch the existing log instead of rebuilding the body from nothing.

use axum::response::{IntoResponse, Response};
use callbridge_core::compose::{ComposeContact, ComposeUser};
use callbridge_core::connector::{
    CallLogDetails, CreateCallLogRequest, DispositionRequest, GetCallLogRequest, LogContact, RingSense,
    UpdateCallLogRequest,
};
use callbridge_core::{
    AdditionalSubmission, CallDuration, CallLeg, CallRecord, ComposeInput, Operation, Party, RequestContext,
    ReturnMessage, Secret, StartTime, User, compose,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::extract::{check_id, lenient_string};
use crate::hashing::hash_id;
use crate::metrics::crm_call;
use crate::services::auth_context::{RequestFacts, context_for};
use crate::services::reply::{
    Reply, connector_failure, context_failure, database_failure, is_unsupported, platform_entry, warning,
};
use crate::session::Session;
use crate::state::{AppState, ConnectorEntry};
use crate::store::{CallLogKey, CallLogRow, Claim, NewCallLogClaim};

/// `GET /callLog` looks at no more than this many session ids, as App Connect does.
pub const MAX_SESSION_IDS: usize = 5;

/// The body of `POST /callLog`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCallLogBody {
    pub log_info: CallRecord,
    #[serde(default, deserialize_with = "lenient_string")]
    pub extension_number: Option<String>,
    #[serde(default)]
    pub hashed_extension_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub rc_extension_id: Option<String>,
    /// A string or a number: whatever `GET /contact` returned.
    #[serde(default)]
    pub contact_id: Option<Value>,
    #[serde(default)]
    pub contact_type: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub additional_submission: Option<AdditionalSubmission>,
    #[serde(default)]
    pub ai_note: Option<String>,
    #[serde(default)]
    pub transcript: Option<String>,
    #[serde(default)]
    pub voicemail_link: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub voicemail_message_id: Option<String>,
    #[serde(flatten)]
    pub ring_sense: RingSenseFields,
}

/// The RingSense fields as the extension names them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RingSenseFields {
    #[serde(default)]
    pub ring_sense_transcript: Option<String>,
    #[serde(default)]
    pub ring_sense_summary: Option<String>,
    #[serde(default, rename = "ringSenseAIScore")]
    pub ring_sense_ai_score: Option<Value>,
    #[serde(default)]
    pub ring_sense_bulleted_summary: Option<String>,
    #[serde(default)]
    pub ring_sense_link: Option<String>,
}

impl RingSenseFields {
    fn to_ring_sense(&self) -> RingSense {
        RingSense {
            transcript: self.ring_sense_transcript.clone(),
            summary: self.ring_sense_summary.clone(),
            ai_score: self.ring_sense_ai_score.clone(),
            bulleted_summary: self.ring_sense_bulleted_summary.clone(),
            link: self.ring_sense_link.clone(),
        }
    }

    fn fill(&self, input: &mut ComposeInput) {
        let ring_sense = self.to_ring_sense();
        input.ring_sense_transcript = ring_sense.transcript;
        input.ring_sense_summary = ring_sense.summary;
        input.ring_sense_ai_score = ring_sense.ai_score;
        input.ring_sense_bulleted_summary = ring_sense.bulleted_summary;
        input.ring_sense_link = ring_sense.link;
    }
}

/// The body of `PATCH /callLog`: flat, with only `sessionId` required.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCallLogBody {
    #[serde(deserialize_with = "lenient_string")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub extension_number: Option<String>,
    #[serde(default)]
    pub hashed_extension_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub rc_extension_id: Option<String>,
    #[serde(default)]
    pub recording_link: Option<String>,
    #[serde(default)]
    pub recording_download_link: Option<Secret>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub start_time: Option<StartTime>,
    #[serde(default)]
    pub duration: Option<CallDuration>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub from: Option<Party>,
    #[serde(default)]
    pub to: Option<Party>,
    #[serde(default)]
    pub legs: Option<Vec<CallLeg>>,
    #[serde(default)]
    pub ai_note: Option<String>,
    #[serde(default)]
    pub transcript: Option<String>,
    #[serde(default)]
    pub additional_submission: Option<AdditionalSubmission>,
    #[serde(default)]
    pub voicemail_link: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub voicemail_message_id: Option<String>,
    #[serde(flatten)]
    pub ring_sense: RingSenseFields,
}

/// The body of `PUT /callDisposition`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DispositionBody {
    #[serde(deserialize_with = "lenient_string")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub extension_number: Option<String>,
    #[serde(default)]
    pub hashed_extension_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub rc_extension_id: Option<String>,
    #[serde(default)]
    pub dispositions: Option<Map<String, Value>>,
}

/// The body of `POST /callLog/cacheNote`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheNoteBody {
    #[serde(deserialize_with = "lenient_string")]
    pub session_id: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The extension identity of a request: `(extensionNumber, hashedExtensionId)`, App Connect's rules.
fn identity(
    state: &AppState,
    extension_number: Option<&str>,
    hashed_extension_id: Option<&str>,
    rc_extension_id: Option<&str>,
) -> (String, String) {
    let extension_number = extension_number.unwrap_or_default().trim().to_owned();
    let hashed = match hashed_extension_id.map(str::trim).filter(|it| !it.is_empty()) {
        Some(hashed) => hashed.to_owned(),
        None => rc_extension_id
            .map(str::trim)
            .filter(|it| !it.is_empty())
            .map(|raw| hash_id(raw, state.hash_key.expose()))
            .unwrap_or_default(),
    };
    (extension_number, hashed)
}

/// The row of `rows` that best matches a session and identity, with App Connect's preference order: the exact
/// hashed extension, then a legacy row (no hash) with the same extension number, then a legacy row with neither.
pub fn best_match<'a>(
    rows: &'a [CallLogRow],
    session_id: &str,
    extension_number: &str,
    hashed_extension_id: &str,
) -> Option<&'a CallLogRow> {
    let mut candidates: Vec<&CallLogRow> = rows.iter().filter(|row| row.key.session_id == session_id).collect();
    candidates.sort_by(|a, b| {
        (a.key.hashed_extension_id.as_str(), a.key.extension_number.as_str())
            .cmp(&(b.key.hashed_extension_id.as_str(), b.key.extension_number.as_str()))
    });
    let legacy = |number: &str| {
        candidates
            .iter()
            .copied()
            .find(|row| row.key.hashed_extension_id.is_empty() && row.key.extension_number == number)
    };
    if !hashed_extension_id.is_empty() {
        return candidates
            .iter()
            .copied()
            .find(|row| row.key.hashed_extension_id == hashed_extension_id)
            .or_else(|| if extension_number.is_empty() { None } else { legacy(extension_number) })
            .or_else(|| legacy(""));
    }
    if !extension_number.is_empty() {
        return candidates.iter().copied().find(|row| row.key.extension_number == extension_number);
    }
    candidates.first().copied()
}

/// The session's user if it exists on the session's platform and has credentials.
async fn load_user(state: &AppState, session: &Session, platform: &str) -> Result<Option<User>, Response> {
    match state.store.user(session.user_id()).await {
        Ok(Some(user)) if user.platform == platform && !user.access_token.is_empty() => Ok(Some(user)),
        Ok(_) => Ok(None),
        Err(error) => Err(database_failure(&error)),
    }
}

/// A JSON id that is missing, empty, `0` or `false` counts as no id, as in JavaScript.
fn truthy_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) if number.as_f64() != Some(0.0) => Some(number.to_string()),
        _ => None,
    }
}

/// `POST /callLog`.
pub async fn create(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    body: CreateCallLogBody,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let log_info = &body.log_info;
    let session_id = log_info
        .session_id
        .clone()
        .filter(|it| !it.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing logInfo.sessionId."))?;
    check_id("sessionId", &session_id)?;
    let extra_text = |name: &str| match log_info.extra.get(name) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let (extension_number, hashed_extension_id) = identity(
        state,
        body.extension_number.clone().or_else(|| extra_text("extensionNumber")).as_deref(),
        body.hashed_extension_id.clone().or_else(|| extra_text("hashedExtensionId")).as_deref(),
        body.rc_extension_id.clone().or_else(|| extra_text("rcExtensionId")).as_deref(),
    );
    check_id("extensionNumber", &extension_number)?;
    check_id("hashedExtensionId", &hashed_extension_id)?;
    let contact_id = truthy_id(body.contact_id.as_ref());
    if let Some(contact_id) = &contact_id {
        check_id("contactId", contact_id)?;
    }

    let Some(user) = (match load_user(state, session, entry.connector.name()).await {
        Ok(user) => user,
        Err(response) => return Ok(response),
    }) else {
        return Ok(warning("User not found", 5000));
    };

    // A log written under another identity of the same extension (a legacy row without a hash) also counts.
    match state.store.find_call_logs(&user.id, std::slice::from_ref(&session_id)).await {
        Ok(rows) => {
            if best_match(&rows, &session_id, &extension_number, &hashed_extension_id).is_some() {
                return Ok(existing_log(&session_id));
            }
        }
        Err(error) => return Ok(database_failure(&error)),
    }

    let key =
        CallLogKey { user_id: user.id.clone(), session_id: session_id.clone(), extension_number, hashed_extension_id };
    let record_id = log_info.telephony_session_id.clone().or_else(|| log_info.id.clone()).unwrap_or_default();
    let claim = NewCallLogClaim {
        key: key.clone(),
        record_id,
        platform: entry.connector.name().to_owned(),
        contact_id: contact_id.clone().unwrap_or_default(),
        stale_after: state.tunables.claim_stale_after,
    };
    let claim_token = match state.store.claim_call_log(&claim).await {
        Ok(Claim::Claimed { claim_token }) => claim_token,
        Ok(Claim::Existing(_)) => return Ok(existing_log(&session_id)),
        Err(error) => return Ok(database_failure(&error)),
    };

    // Detached from the request, so that a client hanging up cannot leave a CRM record without its mapping (a
    // later retry would then create a second record once the claim went stale).
    let (task_state, task_entry, task_facts) = (state.clone(), entry.clone(), facts.clone());
    let created = tokio::spawn(tracing::Instrument::in_current_span(async move {
        let outcome = create_claimed(&task_state, &task_entry, user, &task_facts, &body, contact_id, &session_id).await;
        finish_claim(&task_state, &key, &claim_token, outcome).await
    }));
    created.await.map_err(|error| ApiError::internal(format!("the call-log task failed: {error}")))
}

/// Completes the claim with the CRM record's id, or releases it so that a later attempt can succeed.
async fn finish_claim(state: &AppState, key: &CallLogKey, claim_token: &str, outcome: CreateOutcome) -> Response {
    match outcome {
        CreateOutcome::Created { log_id, return_message } => {
            if let Err(error) = state.store.complete_call_log(key, claim_token, &log_id).await {
                // The CRM record exists; say so, and leave a trace for the operator.
                tracing::error!(%error, log_id, "Recording a created call log failed.");
            }
            Reply::new(true).field("logId", log_id).message(return_message).into_response()
        }
        CreateOutcome::NotCreated(response) => {
            if let Err(error) = state.store.release_call_log(key, claim_token).await {
                // The claim goes stale and can be taken over later.
                tracing::error!(%error, "Releasing a call-log claim failed.");
            }
            response
        }
    }
}

enum CreateOutcome {
    Created { log_id: String, return_message: Option<ReturnMessage> },
    NotCreated(Response),
}

fn existing_log(session_id: &str) -> Response {
    warning(format!("Existing log for session {session_id}"), 3000)
}

/// Everything after the claim: context, composition, the CRM call.
async fn create_claimed(
    state: &AppState,
    entry: &ConnectorEntry,
    user: User,
    facts: &RequestFacts,
    body: &CreateCallLogBody,
    contact_id: Option<String>,
    session_id: &str,
) -> CreateOutcome {
    let log_info = &body.log_info;
    let contact_number = log_info.other_party().and_then(|party| party.phone_number.clone()).unwrap_or_default();
    let Some(contact_id) = contact_id else {
        return CreateOutcome::NotCreated(warning(format!("Contact not found for number {contact_number}"), 5000));
    };
    let ctx = match context_for(state, entry, user, facts).await {
        Ok(ctx) => ctx,
        Err(error) => return CreateOutcome::NotCreated(context_failure(&error, Operation::CreateCallLog, entry)),
    };
    // The note typed during the call and cached then counts when the request brings none.
    let mut note = body.note.clone().filter(|it| !it.is_empty());
    if note.is_none() {
        match state.store.cached_note(&ctx.user.id, session_id).await {
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
                user: compose_user(&ctx.user),
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
    let request = CreateCallLogRequest {
        // No connector reconciles yet, so no key is needed; the delivery engine will derive one per session.
        record_key: Default::default(),
        contact: LogContact {
            id: contact_id,
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
    };
    let connector = &entry.connector;
    match crm_call(connector.name(), Operation::CreateCallLog, connector.create_call_log(&ctx, request)).await {
        Ok(created) if !created.log_id.is_empty() => {
            CreateOutcome::Created { log_id: created.log_id, return_message: created.return_message }
        }
        Ok(created) => CreateOutcome::NotCreated(Reply::new(false).message(created.return_message).into_response()),
        Err(error) => CreateOutcome::NotCreated(connector_failure(&error, Operation::CreateCallLog, entry)),
    }
}

fn compose_user(user: &User) -> ComposeUser {
    ComposeUser { timezone_offset: user.timezone_offset.clone(), user_settings: user.user_settings.clone() }
}

/// `PATCH /callLog`.
pub async fn update(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    body: UpdateCallLogBody,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let call = RequestedCall::parse(
        state,
        body.session_id.as_deref(),
        body.extension_number.as_deref(),
        body.hashed_extension_id.as_deref(),
        body.rc_extension_id.as_deref(),
    )?;
    let missing_user = warning("User not found", 5000);
    let LoggedCall { row, log_id, ctx } =
        match logged_call(state, session, facts, entry, &call, missing_user, Operation::UpdateCallLog).await {
            Ok(logged) => logged,
            Err(response) => return Ok(response),
        };
    let connector = &entry.connector;
    let mut existing_body = String::new();
    let mut existing_log_details = None;
    if let Some(format) = connector.log_format() {
        let fetch = GetCallLogRequest {
            log_id: log_id.clone(),
            session_id: call.session_id.clone(),
            telephony_session_id: Some(row.record_id.clone()).filter(|it| !it.is_empty()),
            contact_id: row.contact_id.clone(),
        };
        match crm_call(connector.name(), Operation::GetCallLog, connector.get_call_log(&ctx, fetch)).await {
            Ok(details) => {
                existing_body = details.full_body.or(details.note).unwrap_or_default();
                existing_log_details = Some(details.full_log_response);
            }
            // A connector that cannot read logs back gets the body of the update alone, as it always has.
            Err(error) if is_unsupported(&error) => {}
            Err(error) => return Ok(connector_failure(&error, Operation::UpdateCallLog, entry)),
        }
        let mut input = ComposeInput {
            existing_body,
            call_log: Some(CallRecord {
                session_id: Some(call.session_id.clone()),
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
            user: compose_user(&ctx.user),
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
        existing_body = compose(&input, format);
    }
    let request = UpdateCallLogRequest {
        log_id: log_id.clone(),
        session_id: call.session_id,
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
        composed_log_details: existing_body,
        existing_log_details,
    };
    match crm_call(connector.name(), Operation::UpdateCallLog, connector.update_call_log(&ctx, request)).await {
        Ok(updated) => Ok(Reply::new(true)
            .field("logId", log_id)
            .field("updatedNote", updated.updated_note)
            .message(updated.return_message)
            .into_response()),
        Err(error) => Ok(connector_failure(&error, Operation::UpdateCallLog, entry)),
    }
}

fn required_session_id(session_id: Option<&str>) -> Result<String, ApiError> {
    let session_id = session_id.map(str::trim).filter(|it| !it.is_empty());
    let session_id = session_id.ok_or_else(|| ApiError::bad_request("Missing sessionId."))?;
    check_id("sessionId", session_id)?;
    Ok(session_id.to_owned())
}

/// A logged call of the session's user, ready for a CRM call.
struct LoggedCall {
    row: CallLogRow,
    /// The CRM record's id.
    log_id: String,
    ctx: RequestContext,
}

/// A call session as a request names it: the session id and the extension identity it was logged under.
struct RequestedCall {
    session_id: String,
    extension_number: String,
    hashed_extension_id: String,
}

impl RequestedCall {
    /// The session and identity of a request's fields, App Connect's rules; a missing session id is a bad request.
    fn parse(
        state: &AppState,
        session_id: Option<&str>,
        extension_number: Option<&str>,
        hashed_extension_id: Option<&str>,
        rc_extension_id: Option<&str>,
    ) -> Result<Self, ApiError> {
        let session_id = required_session_id(session_id)?;
        let (extension_number, hashed_extension_id) =
            identity(state, extension_number, hashed_extension_id, rc_extension_id);
        Ok(Self { session_id, extension_number, hashed_extension_id })
    }
}

/// The user's logged call for `call`, with its request context.
/// `Err` is the answer to send: `missing_user` when the user is gone, "Cannot find log" when the session is not
/// logged for this user, or the failure of the store or of the token refresh.
async fn logged_call(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    entry: &ConnectorEntry,
    call: &RequestedCall,
    missing_user: Response,
    operation: Operation,
) -> Result<LoggedCall, Response> {
    let Some(user) = load_user(state, session, entry.connector.name()).await? else {
        return Err(missing_user);
    };
    let row = find_row(state, &user, &call.session_id, &call.extension_number, &call.hashed_extension_id).await?;
    let Some((row, log_id)) = row.and_then(|row| row.third_party_log_id.clone().map(|log_id| (row, log_id))) else {
        return Err(warning("Cannot find log", 3000));
    };
    match context_for(state, entry, user, facts).await {
        Ok(ctx) => Ok(LoggedCall { row, log_id, ctx }),
        Err(error) => Err(context_failure(&error, operation, entry)),
    }
}

/// The user's logged row for a session and identity.
async fn find_row(
    state: &AppState,
    user: &User,
    session_id: &str,
    extension_number: &str,
    hashed_extension_id: &str,
) -> Result<Option<CallLogRow>, Response> {
    match state.store.find_call_logs(&user.id, &[session_id.to_owned()]).await {
        Ok(rows) => Ok(best_match(&rows, session_id, extension_number, hashed_extension_id).cloned()),
        Err(error) => Err(database_failure(&error)),
    }
}

/// The query of `GET /callLog`.
#[derive(Debug, Default)]
pub struct CallLogQuery {
    pub session_ids: Option<String>,
    pub extension_number: Option<String>,
    pub hashed_extension_id: Option<String>,
    pub require_details: bool,
}

/// `GET /callLog`.
pub async fn get(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    query: CallLogQuery,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let Some(user) = (match load_user(state, session, entry.connector.name()).await {
        Ok(user) => user,
        Err(response) => return Ok(response),
    }) else {
        return Ok(warning("User not found", 5000));
    };
    let Some(raw_ids) = query.session_ids.as_deref().filter(|it| !it.trim().is_empty()) else {
        return Ok(warning("No session IDs provided", 3000));
    };
    let session_ids: Vec<String> = raw_ids
        .split(',')
        .map(str::trim)
        .filter(|it| !it.is_empty())
        .take(MAX_SESSION_IDS)
        .map(str::to_owned)
        .collect();
    for session_id in &session_ids {
        check_id("sessionIds", session_id)?;
    }
    let (extension_number, hashed_extension_id) =
        identity(state, query.extension_number.as_deref(), query.hashed_extension_id.as_deref(), None);
    let rows = match state.store.find_call_logs(&user.id, &session_ids).await {
        Ok(rows) => rows,
        Err(error) => return Ok(database_failure(&error)),
    };
    let matches: Vec<(String, Option<CallLogRow>)> = session_ids
        .iter()
        .map(|id| {
            let row = best_match(&rows, id, &extension_number, &hashed_extension_id)
                .filter(|row| row.third_party_log_id.is_some())
                .cloned();
            (id.clone(), row)
        })
        .collect();
    if !query.require_details {
        let logs: Vec<Value> = matches
            .iter()
            .map(|(session_id, row)| match row {
                Some(row) => {
                    serde_json::json!({"sessionId": session_id, "matched": true, "logId": row.third_party_log_id})
                }
                None => serde_json::json!({"sessionId": session_id, "matched": false}),
            })
            .collect();
        return Ok(Reply::new(true).field("logs", logs).into_response());
    }
    let connector = &entry.connector;
    let mut ctx = None;
    let mut logs = Vec::new();
    for (session_id, row) in &matches {
        let (Some(row), false) = (row, session_id == "0") else {
            logs.push(serde_json::json!({"sessionId": session_id, "matched": false}));
            continue;
        };
        let log_id = row.third_party_log_id.clone().unwrap_or_default();
        if ctx.is_none() {
            match context_for(state, entry, user.clone(), facts).await {
                Ok(made) => ctx = Some(made),
                Err(error) => return Ok(context_failure(&error, Operation::GetCallLog, entry)),
            }
        }
        let Some(ctx) = ctx.as_ref() else { continue };
        let fetch = GetCallLogRequest {
            log_id: log_id.clone(),
            session_id: session_id.clone(),
            telephony_session_id: Some(row.record_id.clone()).filter(|it| !it.is_empty()),
            contact_id: row.contact_id.clone(),
        };
        let details: CallLogDetails =
            match crm_call(connector.name(), Operation::GetCallLog, connector.get_call_log(ctx, fetch)).await {
                Ok(details) => details,
                Err(error) => return Ok(connector_failure(&error, Operation::GetCallLog, entry)),
            };
        logs.push(serde_json::json!({
            "sessionId": session_id,
            "matched": true,
            "logId": log_id,
            "logData": details,
        }));
    }
    Ok(Reply::new(true).field("logs", logs).into_response())
}

/// `PUT /callDisposition`.
pub async fn disposition(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    body: DispositionBody,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let call = RequestedCall::parse(
        state,
        body.session_id.as_deref(),
        body.extension_number.as_deref(),
        body.hashed_extension_id.as_deref(),
        body.rc_extension_id.as_deref(),
    )?;
    let missing_user = warning("Cannot find user", 3000);
    let LoggedCall { log_id, ctx, .. } =
        match logged_call(state, session, facts, entry, &call, missing_user, Operation::UpsertCallDisposition).await {
            Ok(logged) => logged,
            Err(response) => return Ok(response),
        };
    let request = DispositionRequest { log_id, dispositions: body.dispositions.unwrap_or_default() };
    let connector = &entry.connector;
    let call = connector.upsert_call_disposition(&ctx, request);
    match crm_call(connector.name(), Operation::UpsertCallDisposition, call).await {
        Ok(result) => Ok(Reply::new(result.log_id.is_some())
            .field("logId", result.log_id)
            .message(result.return_message)
            .into_response()),
        // The extension sends a disposition after every edit; a CRM without dispositions has nothing to say.
        Err(error) if is_unsupported(&error) => Ok(Reply::new(false).into_response()),
        Err(error) => Ok(connector_failure(&error, Operation::UpsertCallDisposition, entry)),
    }
}

/// `POST /callLog/cacheNote`.
pub async fn cache_note(state: &AppState, session: &Session, body: CacheNoteBody) -> Result<Response, ApiError> {
    let session_id = required_session_id(body.session_id.as_deref())?;
    let note = body.note.unwrap_or_default();
    match state.store.put_cached_note(session.user_id(), &session_id, &note, state.tunables.note_cache_ttl).await {
        Ok(()) => Ok(Reply::new(true).field("returnMessage", "Note cache saved").into_response()),
        Err(error) => Ok(database_failure(&error)),
    }
}
