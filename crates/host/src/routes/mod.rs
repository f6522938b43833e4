//! The HTTP API: App Connect's routes, the connectors' own routes, and the layers around them (CORS, body limit,
//! session, request id, tracing, metrics).

mod admin;
mod auth;
mod call_log;
mod connector_routes;
mod contact;
mod manifest;
mod openapi;
mod ops;
mod startup;
mod user;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderName, Method, Request, Response, StatusCode};
use axum::middleware;
use axum::routing::{get, post, put};
use tower::ServiceBuilder;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::{ApiError, MAX_BODY_BYTES, ResponseError};
use crate::limits::guard_body;
use crate::services::auth_context::RequestFacts;
use crate::session::{REFRESHED_TOKEN_HEADER, session_middleware};
use crate::state::AppState;

/// The paths App Connect's routes use; a connector route may not take one of them.
const BUILT_IN_PATHS: &[&str] = &[
    "/isAlive",
    "/metrics",
    "/crmManifest",
    "/implementedInterfaces",
    "/authValidation",
    "/oauth-callback",
    "/apiKeyLogin",
    "/unAuthorize",
    "/hostname",
    "/user/preloadSettings",
    "/user/settings",
    "/contact",
    "/custom/contact/search",
    "/callLog",
    "/callLog/cacheNote",
    "/callDisposition",
    "/messageLog",
    "/admin/settings",
    "/admin/userMapping",
    "/admin/reinitializeUserMapping",
    "/admin/serverLoggingSettings",
    "/accountData",
    "/openapi.json",
    "/userInfoHash",
    "/releaseNotes",
    "/serverVersionInfo",
    "/licenseStatus",
];

/// Builds the router over `state`.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/isAlive", get(ops::is_alive))
        .route("/metrics", get(ops::metrics))
        .route("/crmManifest", get(manifest::crm_manifest))
        .route("/implementedInterfaces", get(manifest::implemented_interfaces))
        .route("/authValidation", get(auth::auth_validation))
        .route("/oauth-callback", get(auth::oauth_callback))
        .route("/apiKeyLogin", post(auth::api_key_login))
        .route("/unAuthorize", post(auth::unauthorize))
        .route("/hostname", get(user::hostname))
        .route("/user/preloadSettings", get(user::preload_settings))
        .route("/user/settings", get(user::get_settings).post(user::post_settings))
        .route("/contact", get(contact::find).post(contact::create))
        .route("/custom/contact/search", get(contact::search))
        .route("/callLog", get(call_log::get).post(call_log::create).patch(call_log::update))
        .route("/callLog/cacheNote", post(call_log::cache_note))
        .route("/callDisposition", put(call_log::disposition))
        .route("/messageLog", post(call_log::message_log))
        .route("/admin/settings", get(admin::get_settings).post(admin::post_settings))
        .route("/admin/userMapping", post(admin::user_mapping))
        .route("/admin/reinitializeUserMapping", post(admin::reinitialize_user_mapping))
        .route(
            "/admin/serverLoggingSettings",
            get(admin::get_server_logging_settings).post(admin::post_server_logging_settings),
        )
        .route("/accountData", get(admin::account_data))
        .route("/openapi.json", get(ops::openapi_json))
        .route("/userInfoHash", get(startup::user_info_hash))
        .route("/releaseNotes", get(startup::release_notes))
        .route("/serverVersionInfo", get(startup::server_version_info))
        .route("/licenseStatus", get(startup::license_status));
    let routes = connector_routes::mount(routes, &state);
    let routes = routes.fallback(not_found).layer(middleware::from_fn_with_state(state.clone(), guard_body));
    crate::limits::rate_limited(routes, &state.limits)
        .layer(middleware::from_fn(crate::metrics::track_requests))
        .layer(middleware::from_fn_with_state(state.clone(), session_middleware))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(make_span)
                        .on_request(())
                        .on_response(on_response)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(cors()),
        )
}

/// CORS for the extension (a `chrome-extension://` page with no host permissions): any origin, the methods and
/// headers it uses, and the renewed-token header exposed.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([HeaderName::from_static(REFRESHED_TOKEN_HEADER)])
        .max_age(Duration::from_secs(600))
}

/// The request span: method, path (never the query: it holds tokens and phone numbers) and request id.
fn make_span<B>(request: &Request<B>) -> Span {
    let request_id = request.extensions().get::<RequestId>().and_then(|it| it.header_value().to_str().ok());
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = request_id.unwrap_or_default(),
    )
}

fn on_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_millis() as u64;
    match response.extensions().get::<ResponseError>() {
        Some(ResponseError(error)) if response.status().is_server_error() => {
            tracing::error!(status, latency_ms, %error, "Request failed.");
        }
        Some(ResponseError(error)) => tracing::info!(status, latency_ms, %error, "Request answered with an error."),
        None => tracing::info!(status, latency_ms, "Request answered."),
    }
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "Not found")
}

/// The request facts every CRM-touching route passes on.
pub(crate) fn request_facts(headers: &HeaderMap) -> RequestFacts {
    let header =
        |name: &str| headers.get(name).and_then(|it| it.to_str().ok()).map(str::trim).filter(|it| !it.is_empty());
    RequestFacts {
        hashed_account_id: header("rc-account-id").filter(|it| it.len() <= 128).map(str::to_owned),
        is_from_sscl: header("user-agent") == Some("SSCL"),
        assigned_crm_user_id: None,
    }
}

/// A `Result` of route handlers.
pub(crate) type RouteResult = Result<axum::response::Response, ApiError>;
