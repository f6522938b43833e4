//! Call logging as App Connect's routes see it: the wire bodies, their validation, and the flows that hand
//! creates, updates and dispositions to the delivery engine (`crate::delivery`) and read logs back.
//!
//! - Every lookup is scoped to the session's user: one user can neither see nor block another's logs.
//! - A request is validated in full before anything is written; a rejected request changes nothing.
//! - A create, update or disposition is a queued operation of the call session's job: repeated and concurrent
//!   creates merge into one, and the session's operations reach the CRM one at a time, in order. A session whose
//!   create is queued reads as logged, so the extension sends updates, which queue behind it.

use axum::response::{IntoResponse, Response};
use callbridge_core::connector::{CallLogDetails, GetCallLogRequest, RingSense};
use callbridge_core::{
    AdditionalSubmission, CallDuration, CallLeg, CallRecord, ComposeInput, Operation, Party, Secret, StartTime,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::delivery::{
    self, CallCreatePayload, CallEditPayload, CallIdentity, DispositionPayload, Refusal, RequestReads,
};
use crate::error::ApiError;
use crate::extract::{check_id, lenient_string};
use crate::hashing::hash_id;
use crate::metrics::crm_call;
use crate::services::admin::{AssignmentUse, assigned_crm_user};
use crate::services::answers;
use crate::services::auth_context::{RequestFacts, context_for};
use crate::services::reply::{Reply, connector_failure, context_failure, database_failure, platform_entry, warning};
use crate::session::Session;
use crate::state::AppState;
use crate::store::{CallLogRow, JobState, JobSubject, NewOp, OpKind};

/// `GET /callLog` looks at no more than this many session ids, as App Connect does.
pub const MAX_SESSION_IDS: usize = 5;

/// The body of `POST /callLog`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCallLogBody {
    /// RingCentral's call record: `sessionId`, `direction`, `startTime`, `duration`, `from`, `to`, ...
    #[schema(value_type = Object)]
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
    #[schema(value_type = Option<Object>)]
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
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
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
    pub fn to_ring_sense(&self) -> RingSense {
        RingSense {
            transcript: self.ring_sense_transcript.clone(),
            summary: self.ring_sense_summary.clone(),
            ai_score: self.ring_sense_ai_score.clone(),
            bulleted_summary: self.ring_sense_bulleted_summary.clone(),
            link: self.ring_sense_link.clone(),
        }
    }

    pub fn fill(&self, input: &mut ComposeInput) {
        let ring_sense = self.to_ring_sense();
        input.ring_sense_transcript = ring_sense.transcript;
        input.ring_sense_summary = ring_sense.summary;
        input.ring_sense_ai_score = ring_sense.ai_score;
        input.ring_sense_bulleted_summary = ring_sense.bulleted_summary;
        input.ring_sense_link = ring_sense.link;
    }
}

/// The body of `PATCH /callLog`: flat, with only `sessionId` required.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCallLogBody {
    #[serde(deserialize_with = "lenient_string")]
    #[schema(required = true)]
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
    #[schema(value_type = Option<String>)]
    pub recording_download_link: Option<Secret>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// An ISO 8601 time or milliseconds since the epoch.
    #[serde(default)]
    #[schema(value_type = Option<Value>)]
    pub start_time: Option<StartTime>,
    /// Seconds, as a number or a numeric string.
    #[serde(default)]
    #[schema(value_type = Option<Value>)]
    pub duration: Option<CallDuration>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub from: Option<Party>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub to: Option<Party>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub legs: Option<Vec<CallLeg>>,
    #[serde(default)]
    pub ai_note: Option<String>,
    #[serde(default)]
    pub transcript: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub additional_submission: Option<AdditionalSubmission>,
    #[serde(default)]
    pub voicemail_link: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub voicemail_message_id: Option<String>,
    #[serde(flatten)]
    pub ring_sense: RingSenseFields,
}

/// The body of `PUT /callDisposition`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DispositionBody {
    #[serde(deserialize_with = "lenient_string")]
    #[schema(required = true)]
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
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CacheNoteBody {
    #[serde(deserialize_with = "lenient_string")]
    #[schema(required = true)]
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

/// A JSON id that is missing, empty, `0` or `false` counts as no id, as in JavaScript.
fn truthy_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) if number.as_f64() != Some(0.0) => Some(number.to_string()),
        _ => None,
    }
}

/// An operation for the queue: its payload as JSON, and a fingerprint that identical requests share.
fn new_op(kind: OpKind, payload: &impl Serialize) -> Result<NewOp, ApiError> {
    let payload = serde_json::to_string(payload).map_err(|error| ApiError::internal(format!("payload: {error}")))?;
    let fingerprint = hash_id(&payload, kind.as_str());
    Ok(NewOp { kind, payload, fingerprint })
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

    let Some(user) = (match session.crm_user(&state.store, entry.connector.name()) {
        Ok(user) => user,
        Err(error) => return Ok(database_failure(&error)),
    }) else {
        return Ok(warning("User not found", 5000));
    };

    // A log written under another identity of the same extension (a legacy row without a hash) also counts.
    match state.store.find_call_logs(&user.id, std::slice::from_ref(&session_id)).await {
        Ok(rows) => {
            if best_match(&rows, &session_id, &extension_number, &hashed_extension_id).is_some() {
                return Ok(answers::existing_log(&session_id));
            }
        }
        Err(error) => return Ok(database_failure(&error)),
    }
    let Some(contact_id) = contact_id else {
        let number = log_info.other_party().and_then(|party| party.phone_number.clone()).unwrap_or_default();
        return Ok(warning(format!("Contact not found for number {number}"), 5000));
    };

    let facts = match assigned(
        state,
        facts,
        entry.connector.name(),
        body.additional_submission.as_ref(),
        AssignmentUse::Create,
    )
    .await
    {
        Ok(facts) => facts,
        Err(response) => return Ok(response),
    };
    let call = CallIdentity { session_id, extension_number, hashed_extension_id };
    let subject = JobSubject::call(&user.id, entry.connector.name(), &call.session_id);
    // Server-side logging's create would merge into the extension's pending one and replace its fuller request
    // (the typed note, the final duration): it finds the session being logged instead, as it would once logged.
    if facts.is_from_sscl {
        match state.store.job_for(&subject).await {
            Ok(Some(job)) if create_queued(&job) => return Ok(answers::existing_log(&call.session_id)),
            Ok(_) => {}
            Err(error) => return Ok(database_failure(&error)),
        }
    }
    let key = call.key(&user.id);
    let payload = CallCreatePayload { facts, call, contact_id, body };
    let op = new_op(OpKind::CreateCall, &payload)?;
    match delivery::submit(state, &subject, op, Some(RequestReads { user, logged: None })).await {
        Ok((_, outcome)) => Ok(answers::call_created(state, entry, &key, outcome).await),
        Err(error) => Ok(database_failure(&error)),
    }
}

/// A call session as a request names it: the session id and the extension identity it was logged under.
struct RequestedCall(CallIdentity);

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
        check_id("extensionNumber", &extension_number)?;
        check_id("hashedExtensionId", &hashed_extension_id)?;
        Ok(Self(CallIdentity { session_id, extension_number, hashed_extension_id }))
    }
}

fn required_session_id(session_id: Option<&str>) -> Result<String, ApiError> {
    let session_id = session_id.map(str::trim).filter(|it| !it.is_empty());
    let session_id = session_id.ok_or_else(|| ApiError::bad_request("Missing sessionId."))?;
    check_id("sessionId", session_id)?;
    Ok(session_id.to_owned())
}

/// The call's job for a later operation on a logged call (or one whose create is queued), with what was read to
/// know it: the user, and the logged row the identity matched (none while the create is queued).
/// `Err` is the answer to send: `missing_user` when the user is gone, "Cannot find log" when the session is
/// neither logged nor being logged for this user.
async fn logged_call(
    state: &AppState,
    session: &Session,
    platform: &'static str,
    call: &CallIdentity,
    missing_user: Response,
) -> Result<(JobSubject, RequestReads), Response> {
    let Some(user) = session.crm_user(&state.store, platform).map_err(|error| database_failure(&error))? else {
        return Err(missing_user);
    };
    let subject = JobSubject::call(&user.id, platform, &call.session_id);
    let rows = state
        .store
        .find_call_logs(&user.id, std::slice::from_ref(&call.session_id))
        .await
        .map_err(|error| database_failure(&error))?;
    if let Some(row) = best_match(&rows, &call.session_id, &call.extension_number, &call.hashed_extension_id) {
        let logged = Some(row.clone());
        return Ok((subject, RequestReads { user, logged }));
    }
    let reads = RequestReads { user, logged: None };
    match state.store.job_for(&subject).await {
        Ok(Some(job)) if create_queued(&job) => Ok((subject, reads)),
        Ok(_) => {
            // The create may have finished between the two reads; its mapping is written in the same
            // transaction that ends the create, so a second read sees it.
            let rows = state
                .store
                .find_call_logs(&reads.user.id, std::slice::from_ref(&call.session_id))
                .await
                .map_err(|error| database_failure(&error))?;
            match best_match(&rows, &call.session_id, &call.extension_number, &call.hashed_extension_id) {
                Some(row) => Ok((subject, RequestReads { logged: Some(row.clone()), ..reads })),
                None => Err(warning("Cannot find log", 3000)),
            }
        }
        Err(error) => Err(database_failure(&error)),
    }
}

/// The request facts with the CRM user an admin assigned the log to, resolved now so a queued operation keeps it.
async fn assigned(
    state: &AppState,
    facts: &RequestFacts,
    platform: &str,
    submission: Option<&AdditionalSubmission>,
    usage: AssignmentUse,
) -> Result<RequestFacts, Response> {
    match assigned_crm_user(state, facts, platform, submission, usage).await {
        Ok(assigned_crm_user_id) => Ok(RequestFacts { assigned_crm_user_id, ..facts.clone() }),
        Err(error) => Err(database_failure(&error)),
    }
}

/// True when the job's next operation is a create that is still going to be tried.
fn create_queued(job: &crate::store::JobSummary) -> bool {
    job.head_op == Some(OpKind::CreateCall) && job.state == JobState::Queued
}

/// `PATCH /callLog`.
pub async fn update(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    body: UpdateCallLogBody,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let RequestedCall(call) = RequestedCall::parse(
        state,
        body.session_id.as_deref(),
        body.extension_number.as_deref(),
        body.hashed_extension_id.as_deref(),
        body.rc_extension_id.as_deref(),
    )?;
    let missing_user = warning("User not found", 5000);
    let (subject, reads) = match logged_call(state, session, entry.connector.name(), &call, missing_user).await {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let facts = match assigned(
        state,
        facts,
        entry.connector.name(),
        body.additional_submission.as_ref(),
        AssignmentUse::Update,
    )
    .await
    {
        Ok(facts) => facts,
        Err(response) => return Ok(response),
    };
    let op = new_op(OpKind::UpdateCall, &CallEditPayload { facts, call, body })?;
    match delivery::submit(state, &subject, op, Some(reads)).await {
        Ok((_, outcome)) => Ok(answers::call_updated(entry, outcome)),
        Err(error) => Ok(database_failure(&error)),
    }
}

/// `PUT /callDisposition`.
pub async fn disposition(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    body: DispositionBody,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let RequestedCall(call) = RequestedCall::parse(
        state,
        body.session_id.as_deref(),
        body.extension_number.as_deref(),
        body.hashed_extension_id.as_deref(),
        body.rc_extension_id.as_deref(),
    )?;
    let missing_user = warning("Cannot find user", 3000);
    let (subject, reads) = match logged_call(state, session, entry.connector.name(), &call, missing_user).await {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let payload =
        DispositionPayload { facts: facts.clone(), call, dispositions: body.dispositions.unwrap_or_default() };
    let op = new_op(OpKind::Disposition, &payload)?;
    match delivery::submit(state, &subject, op, Some(reads)).await {
        Ok((_, outcome)) => Ok(answers::disposition_set(entry, outcome)),
        Err(error) => Ok(database_failure(&error)),
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

/// What `GET /callLog` knows of one session.
enum SessionLog {
    Logged(Box<CallLogRow>),
    /// Its create is queued: it reads as logged, so the extension sends updates rather than a second create.
    Queued(Box<crate::store::JobSummary>),
    NotLogged,
}

/// `GET /callLog`.
pub async fn get(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    query: CallLogQuery,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let Some(user) = (match session.crm_user(&state.store, entry.connector.name()) {
        Ok(user) => user,
        Err(error) => return Ok(database_failure(&error)),
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
    // A failed delivery is told once per read, with the reference's words for why.
    let mut failure = None;
    let mut matches = Vec::new();
    for id in &session_ids {
        if let Some(row) = best_match(&rows, id, &extension_number, &hashed_extension_id) {
            matches.push((id.clone(), SessionLog::Logged(Box::new(row.clone()))));
            continue;
        }
        let subject = JobSubject::call(&user.id, entry.connector.name(), id);
        let found = match state.store.job_for(&subject).await {
            Ok(job) => job,
            Err(error) => return Ok(database_failure(&error)),
        };
        let log = match found {
            Some(job) if create_queued(&job) => SessionLog::Queued(Box::new(job)),
            Some(job) if job.state == JobState::Failed && job.head_op == Some(OpKind::CreateCall) => {
                failure = failure.or_else(|| Some(delivery::stored_refusal(job.last_message.as_deref())));
                SessionLog::NotLogged
            }
            _ => {
                // The create may have finished between the two reads; its mapping is written in the same
                // transaction that ends the create, so a second read sees it.
                let again = match state.store.find_call_logs(&user.id, std::slice::from_ref(id)).await {
                    Ok(rows) => rows,
                    Err(error) => return Ok(database_failure(&error)),
                };
                match best_match(&again, id, &extension_number, &hashed_extension_id) {
                    Some(row) => SessionLog::Logged(Box::new(row.clone())),
                    None => SessionLog::NotLogged,
                }
            }
        };
        matches.push((id.clone(), log));
    }
    // A revoked session is not repeated here: the extension learns it from its next CRM request.
    let return_message = match failure {
        Some(Refusal::Message { message }) => Some(message),
        Some(Refusal::Revoked) | None => None,
    };
    let connector = &entry.connector;
    let mut ctx = None;
    let mut logs = Vec::new();
    for (session_id, log) in &matches {
        let row = match log {
            SessionLog::Logged(row) => row,
            SessionLog::Queued(job) => {
                let mut entry = serde_json::json!({"sessionId": session_id, "matched": true});
                if query.require_details {
                    // What the queued operations will write: the CRM has no record to read yet.
                    let ops = match state.store.pending_ops(job).await {
                        Ok(ops) => ops,
                        Err(error) => return Ok(database_failure(&error)),
                    };
                    entry["logData"] = delivery::queued_call_details(&ops).unwrap_or_else(|| serde_json::json!({}));
                }
                logs.push(entry);
                continue;
            }
            SessionLog::NotLogged => {
                logs.push(serde_json::json!({"sessionId": session_id, "matched": false}));
                continue;
            }
        };
        let log_id = row.third_party_log_id.clone().unwrap_or_default();
        if !query.require_details {
            let log_id = answers::wire_id(entry, &log_id);
            logs.push(serde_json::json!({"sessionId": session_id, "matched": true, "logId": log_id}));
            continue;
        }
        if session_id == "0" {
            logs.push(serde_json::json!({"sessionId": session_id, "matched": false}));
            continue;
        }
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
            "logId": answers::wire_id(entry, &log_id),
            "logData": details,
        }));
    }
    Ok(Reply::new(true).field("logs", logs).message(return_message).into_response())
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
