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

pub async fn update(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UpdateCallLogBody>,
) -> RouteResult {
    call_log::update(&state, &session, &request_facts(&headers), body).await
}

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

pub async fn disposition(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<DispositionBody>,
) -> RouteResult {
    call_log::disposition(&state, &session, &request_facts(&headers), body).await
}

pub async fn cache_note(
    State(state): State<AppState>,
    session: Session,
    JsonBody(body): JsonBody<CacheNoteBody>,
) -> RouteResult {
    call_log::cache_note(&state, &session, body).await
}

pub async fn message_log(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<MessageLogBody>,
) -> RouteResult {
    message_log::create(&state, &session, &request_facts(&headers), body).await
}
