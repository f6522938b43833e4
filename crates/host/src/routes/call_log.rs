//! `/callLog`, `/callLog/cacheNote` and `/callDisposition`.

use axum::extract::State;
use axum::http::HeaderMap;

use crate::extract::{JsonBody, QueryParams};
use crate::hashing::hash_id;
use crate::routes::{RouteResult, request_facts};
use crate::services::call_log::{
    self, CacheNoteBody, CallLogQuery, CreateCallLogBody, DispositionBody, UpdateCallLogBody,
};
use crate::services::message_log::{self, MessageLogBody};
use crate::session::Session;
use crate::state::AppState;

/// `POST /callLog`: logs a call into the CRM, once per call session.
#[utoipa::path(post, path = "/callLog", operation_id = "createCallLog", tag = "call logs", security((), ("bearer" = []), ("jwtToken" = [])), request_body = CreateCallLogBody,
    responses((status = 200, description = "`logId`, or `successful: false` with a message.", body = Object)))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateCallLogBody>,
) -> RouteResult {
    let mut facts = request_facts(&headers);
    if facts.hashed_account_id.is_none() {
        facts.hashed_account_id =
            body.log_info.account_id.as_deref().map(|account_id| hash_id(account_id, state.hash_key.expose()));
    }
    call_log::create(&state, &session, &facts, body).await
}

/// `PATCH /callLog`: updates a logged call (note, recording, subject).
#[utoipa::path(patch, path = "/callLog", operation_id = "updateCallLog", tag = "call logs", security((), ("bearer" = []), ("jwtToken" = [])), request_body = UpdateCallLogBody,
    responses((status = 200, description = "`logId`, or `successful: false` with a message.", body = Object)))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UpdateCallLogBody>,
) -> RouteResult {
    call_log::update(&state, &session, &request_facts(&headers), body).await
}

/// `GET /callLog`: which of the call sessions are logged.
#[utoipa::path(get, path = "/callLog", operation_id = "getCallLog", tag = "call logs", security((), ("bearer" = []), ("jwtToken" = [])),
    params(
        ("sessionIds" = String, Query, description = "Comma-separated call session ids."),
        ("extensionNumber" = Option<String>, Query),
        ("hashedExtensionId" = Option<String>, Query),
        ("requireDetails" = Option<bool>, Query),
    ),
    responses((status = 200, description = "`logs`, one per session id.", body = Object)))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> RouteResult {
    let query = CallLogQuery {
        session_ids: query.get("sessionIds").map(str::to_owned),
        extension_number: query.non_empty("extensionNumber").map(str::to_owned),
        hashed_extension_id: query.non_empty("hashedExtensionId").map(str::to_owned),
        require_details: query.flag("requireDetails"),
    };
    call_log::get(&state, &session, &request_facts(&headers), query).await
}

/// `PUT /callDisposition`: sets a logged call's disposition in the CRM.
#[utoipa::path(put, path = "/callDisposition", operation_id = "upsertCallDisposition", tag = "call logs", security((), ("bearer" = []), ("jwtToken" = [])), request_body = DispositionBody,
    responses((status = 200, description = "`logId`, or `successful: false` with a message.", body = Object)))]
pub async fn disposition(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<DispositionBody>,
) -> RouteResult {
    call_log::disposition(&state, &session, &request_facts(&headers), body).await
}

/// `POST /callLog/cacheNote`: keeps a note for the call's log to come.
#[utoipa::path(post, path = "/callLog/cacheNote", operation_id = "cacheCallNote", tag = "call logs", security((), ("bearer" = []), ("jwtToken" = [])), request_body = CacheNoteBody,
    responses((status = 200, description = "Whether the note was kept.", body = Object)))]
pub async fn cache_note(
    State(state): State<AppState>,
    session: Session,
    JsonBody(body): JsonBody<CacheNoteBody>,
) -> RouteResult {
    call_log::cache_note(&state, &session, body).await
}

/// `POST /messageLog`: logs a conversation's messages into the CRM.
#[utoipa::path(post, path = "/messageLog", operation_id = "createMessageLog", tag = "message logs", security((), ("bearer" = []), ("jwtToken" = [])), request_body = MessageLogBody,
    responses((status = 200, description = "`logIds`, or `successful: false` with a message.", body = Object)))]
pub async fn message_log(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<MessageLogBody>,
) -> RouteResult {
    message_log::create(&state, &session, &request_facts(&headers), body).await
}
