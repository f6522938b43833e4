//! Prometheus metrics: HTTP requests by route template and status, CRM calls by connector, operation and outcome,
//! and latency histograms of both. Served as text at `/metrics`.
//!
//! The `metrics` facade has one global recorder per process, so the recorder is installed once ([`install`]) and
//! every `AppState` of the process (tests build many) shares its handle.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use callbridge_core::Secret;
use callbridge_core::http::{CallObservation, CallObserver};
use callbridge_core::{ConnectorError, Operation};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sha2::{Digest as _, Sha256};

/// Latency buckets in seconds, from a fast local answer to a CRM call that used its whole retry budget.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

pub const HTTP_REQUESTS: &str = "callbridge_http_requests_total";
pub const HTTP_DURATION: &str = "callbridge_http_request_duration_seconds";
pub const CRM_CALLS: &str = "callbridge_crm_calls_total";
pub const CRM_DURATION: &str = "callbridge_crm_call_duration_seconds";
pub const CRM_HTTP_REQUESTS: &str = "callbridge_crm_http_requests_total";
pub const CRM_HTTP_DURATION: &str = "callbridge_crm_http_request_duration_seconds";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder the first time it is called and returns its handle every time. `None` when
/// another recorder was installed first (metrics are then not served).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets(&LATENCY_BUCKETS).ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "Metrics recorder not installed; /metrics will be empty.");
                    None
                }
            }
        })
        .clone()
}

/// The `method` label: one of the methods the API uses, or `other`, so no client can add label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request under its route template (`/callLog`, or `unmatched`), never its raw path, and
/// a known method: every label value comes from a fixed set.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// Answers a `/metrics` request: the Prometheus text, or 401 when a token is configured and the request does not
/// carry it as `Authorization: Bearer <token>`.
pub fn render(handle: Option<&PrometheusHandle>, token: Option<&Secret>, headers: &HeaderMap) -> Response {
    if let Some(token) = token {
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|it| it.to_str().ok())
            .and_then(|it| it.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map_or("", |(_, value)| value.trim());
        // Digests are compared, so the time taken says nothing about how much of the token matched.
        if Sha256::digest(given.as_bytes()) != Sha256::digest(token.expose().as_bytes()) {
            return (StatusCode::UNAUTHORIZED, [(WWW_AUTHENTICATE, "Bearer")], "A metrics token is required.")
                .into_response();
        }
    }
    let body = handle.map(PrometheusHandle::render).unwrap_or_default();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// The router of a dedicated metrics address: `GET /metrics` and nothing else.
pub fn metrics_router(handle: Option<PrometheusHandle>, token: Option<Arc<Secret>>) -> Router {
    Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let response = render(handle.as_ref(), token.as_deref(), &headers);
            std::future::ready(response)
        }),
    )
}

/// Runs one CRM operation of a connector, counting its outcome (`ok` or the error kind) and timing it.
pub async fn crm_call<T>(
    connector: &'static str,
    operation: Operation,
    call: impl Future<Output = Result<T, ConnectorError>>,
) -> Result<T, ConnectorError> {
    let started = Instant::now();
    let result = call.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(error) => error.kind().as_str(),
    };
    let operation = operation.interface_name();
    metrics::counter!(CRM_CALLS, "connector" => connector, "operation" => operation, "outcome" => outcome).increment(1);
    metrics::histogram!(CRM_DURATION, "connector" => connector, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    if let Err(error) = &result {
        let error = crate::telemetry::redact_for_log(&error.to_string());
        tracing::warn!(connector, operation, %error, "CRM call failed.");
    }
    result
}

/// An observer for a connector's HTTP client: every request to the CRM (after its retries) by connector and status
/// (or transport failure), with its latency. Complements [`crm_call`], which counts operations.
pub fn http_observer(connector: &'static str) -> CallObserver {
    Arc::new(move |call: &CallObservation| {
        metrics::counter!(CRM_HTTP_REQUESTS, "connector" => connector, "outcome" => call.outcome.label()).increment(1);
        metrics::histogram!(CRM_HTTP_DURATION, "connector" => connector).record(call.elapsed.as_secs_f64());
    })
}
