//! Operations routes: liveness and Prometheus metrics.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /isAlive`.
pub async fn is_alive() -> &'static str {
    "OK"
}

/// `GET /metrics`: Prometheus text format; 404 when metrics have an address of their own.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.limits.metrics_on_api {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    crate::metrics::render(state.metrics.as_ref(), state.limits.metrics_token.as_deref(), &headers)
}
