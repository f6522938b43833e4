//! Operations routes: liveness and Prometheus metrics.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /isAlive`.
#[utoipa::path(get, path = "/isAlive", operation_id = "isAlive", tag = "operations",
    responses((status = 200, description = "The server is up.", body = String, content_type = "text/plain")))]
pub async fn is_alive() -> &'static str {
    "OK"
}

/// `GET /metrics`: Prometheus text format; 404 when metrics have an address of their own.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations", security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format.", body = String, content_type = "text/plain"),
        (status = 401, description = "A metrics token is configured and was not given.", body = String, content_type = "text/plain"),
        (status = 404, description = "Metrics are served on their own address.", body = String, content_type = "text/plain"),
    ))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.limits.metrics_on_api {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    crate::metrics::render(state.metrics.as_ref(), state.limits.metrics_token.as_deref(), &headers)
}

/// `GET /openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openApiDocument", tag = "operations",
    responses((status = 200, description = "The OpenAPI document.", body = Object)))]
pub async fn openapi_json() -> Response {
    super::openapi::serve()
}
