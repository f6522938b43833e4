//! Bounds on what one client can make the server hold or do: request-body sizes per route and how long a body may
//! take to arrive, the size of stored settings, and per-IP and per-user request rates (tower_governor).
//!
//! Login fields, cached notes and message logs are bounded by their route's body limit (the fields are nearly the
//! whole body); settings accumulate over requests, so their stored total is checked as well.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use callbridge_core::Secret;
use futures::future::Either;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde_json::{Map, Value};
use tower::{Layer, Service};
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

use crate::config::LimitsArgs;
use crate::error::{ApiError, MAX_BODY_BYTES};
use crate::state::AppState;

/// The largest `POST /apiKeyLogin` body: an API key, a hostname and a few extra fields.
pub const LOGIN_BODY_BYTES: usize = 16 * 1024;
/// The largest `POST /callLog/cacheNote` body: the note is stored until the call is logged.
pub const NOTE_BODY_BYTES: usize = 64 * 1024;
/// The largest `POST /user/settings` body.
pub const SETTINGS_BODY_BYTES: usize = 256 * 1024;
/// The largest `POST /messageLog` body: a day of one conversation's messages.
pub const MESSAGE_LOG_BODY_BYTES: usize = 512 * 1024;
/// The most settings one user may store; the extension sends a few dozen.
pub const MAX_SETTINGS: usize = 500;
/// The longest setting name.
pub const MAX_SETTING_KEY_BYTES: usize = 128;
/// The largest single setting value, as JSON.
pub const MAX_SETTING_VALUE_BYTES: usize = 16 * 1024;
/// The largest stored settings map, as JSON.
pub const MAX_SETTINGS_BYTES: usize = 256 * 1024;

/// The limits one server applies; `Default` is what a test router gets: no rate limits, metrics open.
#[derive(Clone, Debug)]
pub struct Limits {
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// Requests per second per client IP address; 0 for none.
    pub rate_limit_ip: u32,
    /// Requests per second per signed-in user; 0 for none.
    pub rate_limit_user: u32,
    /// Whether `/metrics` is served with the API (false when it has an address of its own).
    pub metrics_on_api: bool,
    /// The bearer token `/metrics` requires, if any.
    pub metrics_token: Option<Arc<Secret>>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_timeout: Duration::from_secs(30),
            rate_limit_ip: 0,
            rate_limit_user: 0,
            metrics_on_api: true,
            metrics_token: None,
        }
    }
}

impl Limits {
    pub fn from_args(args: &LimitsArgs) -> Self {
        Self {
            body_timeout: Duration::from_secs(args.body_timeout_secs.max(1)),
            rate_limit_ip: args.rate_limit_ip,
            rate_limit_user: args.rate_limit_user,
            metrics_on_api: args.metrics_addr.is_none(),
            metrics_token: args
                .metrics_token
                .as_deref()
                .map(str::trim)
                .filter(|it| !it.is_empty())
                .map(|it| Arc::new(Secret::new(it.to_owned()))),
        }
    }
}

/// The largest body a route accepts.
fn body_limit(route: &str) -> usize {
    match route {
        "/apiKeyLogin" => LOGIN_BODY_BYTES,
        "/callLog/cacheNote" => NOTE_BODY_BYTES,
        "/user/settings" => SETTINGS_BODY_BYTES,
        "/messageLog" => MESSAGE_LOG_BODY_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

fn too_large(route: &str, limit: usize) -> Response {
    ApiError::TooLarge(format!("Request body is too large: the limit for {route} is {} KiB.", limit / 1024))
        .into_response()
}

/// Reads the request body within the route's size limit and the configured time, so handlers get a complete body
/// or the client a clear 413 or 408 (and the connection is closed: its unread rest is of no use).
pub async fn guard_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Unmatched requests are answered 404 without their body being read.
    let Some(route) = request.extensions().get::<MatchedPath>().map(|it| it.as_str().to_owned()) else {
        return next.run(request).await;
    };
    let limit = body_limit(&route);
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|it| it.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return close(too_large(&route, limit));
    }
    let (parts, body) = request.into_parts();
    if axum::body::HttpBody::size_hint(&body).exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let read = tokio::time::timeout(state.limits.body_timeout, Limited::new(body, limit).collect()).await;
    match read {
        Ok(Ok(collected)) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => close(too_large(&route, limit)),
        Ok(Err(_)) => close(ApiError::bad_request("Cannot read the request body.").into_response()),
        Err(_) => close(ApiError::RequestTimeout(state.limits.body_timeout).into_response()),
    }
}

/// Marks an answer given before the body was read to the end: the connection cannot carry another request.
fn close(mut response: Response) -> Response {
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Checks a user's settings map before it is stored: how many, how long each name, how large each value and all.
pub fn check_settings(settings: &Map<String, Value>) -> Result<(), ApiError> {
    if settings.len() > MAX_SETTINGS {
        return Err(ApiError::TooLarge(format!("Too many settings: at most {MAX_SETTINGS} are kept.")));
    }
    if let Some(key) = settings.keys().find(|key| key.len() > MAX_SETTING_KEY_BYTES) {
        let shown: String = key.chars().take(32).collect();
        return Err(ApiError::TooLarge(format!(
            "Setting name `{shown}…` is too long: the limit is {MAX_SETTING_KEY_BYTES} bytes."
        )));
    }
    let mut total = 0;
    for (key, value) in settings {
        let size = serde_json::to_vec(value).map_or(usize::MAX, |it| it.len());
        if size > MAX_SETTING_VALUE_BYTES {
            return Err(ApiError::TooLarge(format!(
                "Setting `{key}` is too large: the limit is {} KiB per setting.",
                MAX_SETTING_VALUE_BYTES / 1024
            )));
        }
        total += key.len() + size;
    }
    if total > MAX_SETTINGS_BYTES {
        return Err(ApiError::TooLarge(format!(
            "Settings are too large: the limit is {} KiB for all of a user's settings.",
            MAX_SETTINGS_BYTES / 1024
        )));
    }
    Ok(())
}

/// The client's address; a router served without connection info (a test's) counts as one client.
fn peer_ip<T>(request: &axum::http::Request<T>) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip())
}

/// Keys requests by client IP address.
#[derive(Clone, Copy, Debug)]
struct ByIp;

impl KeyExtractor for ByIp {
    type Key = IpAddr;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(peer_ip(request))
    }
}

/// Keys requests by the session's user (only signed-in requests reach it, see [`SignedInOnly`]).
#[derive(Clone, Copy, Debug)]
struct ByUser;

impl KeyExtractor for ByUser {
    type Key = String;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<String, GovernorError> {
        crate::session::session_user_id(request.extensions())
            .map(str::to_owned)
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// Wraps `router` in the per-user and per-IP rate limits that are switched on. Each answers an excess request with
/// 429, a text naming the limit, and `Retry-After` in whole seconds (at least 1).
pub fn rate_limited(router: Router<AppState>, limits: &Limits) -> Router<AppState> {
    let router = layer_limit(router, ByUser, limits.rate_limit_user, Scope::SignedInUser);
    layer_limit(router, ByIp, limits.rate_limit_ip, Scope::ClientAddress)
}

/// What one rate limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Each signed-in user's requests; requests without a session are not counted.
    SignedInUser,
    /// Each client address's requests.
    ClientAddress,
}

fn layer_limit<K>(router: Router<AppState>, key: K, per_second: u32, scope: Scope) -> Router<AppState>
where
    K: KeyExtractor + Send + Sync + 'static,
    K::Key: Send + Sync + 'static,
{
    if per_second == 0 {
        return router;
    }
    let config = GovernorConfigBuilder::default()
        .period(Duration::from_secs(1) / per_second)
        .burst_size(per_second.saturating_mul(10))
        .key_extractor(key)
        .finish();
    let Some(config) = config else {
        return router;
    };
    let config = Arc::new(config);
    // Forget keys that have been quiet for a while, so the limiter's memory follows the active clients only.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let limiter = Arc::downgrade(config.limiter());
        runtime.spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(60));
            loop {
                interval.tick().await;
                let Some(limiter) = limiter.upgrade() else { break };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
    }
    let layer = tower_governor::GovernorLayer::new(config).error_handler(move |error| match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let retry_after = wait_time.max(1);
            let scope = match scope {
                Scope::SignedInUser => "per user",
                Scope::ClientAddress => "per client address",
            };
            let text =
                format!("Too many requests: the limit is {per_second} a second {scope}. Retry after {retry_after} s.");
            let mut response = (StatusCode::TOO_MANY_REQUESTS, text).into_response();
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        other => ApiError::internal(other).into_response(),
    });
    match scope {
        Scope::SignedInUser => router.layer(SignedInOnlyLayer(layer)),
        Scope::ClientAddress => router.layer(layer),
    }
}

/// Applies a layer to signed-in requests only; the others go straight to the inner service.
#[derive(Clone, Debug)]
struct SignedInOnlyLayer<L>(L);

impl<L: Layer<S>, S: Clone> Layer<S> for SignedInOnlyLayer<L> {
    type Service = SignedInOnly<L::Service, S>;

    fn layer(&self, inner: S) -> Self::Service {
        SignedInOnly { governed: self.0.layer(inner.clone()), plain: inner }
    }
}

#[derive(Clone, Debug)]
struct SignedInOnly<G, S> {
    governed: G,
    plain: S,
}

impl<G, S> Service<Request> for SignedInOnly<G, S>
where
    G: Service<Request, Response = Response, Error = Infallible>,
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<G::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        ready!(self.governed.poll_ready(cx))?;
        self.plain.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if crate::session::session_user_id(request.extensions()).is_some() {
            Either::Left(self.governed.call(request))
        } else {
            Either::Right(self.plain.call(request))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_limits_name_the_limit() {
        let many: Map<String, Value> = (0..=MAX_SETTINGS).map(|it| (format!("k{it}"), json!(1))).collect();
        assert!(check_settings(&many).unwrap_err().to_string().contains("at most 500"));
        let long_key: Map<String, Value> = [("k".repeat(200), json!(1))].into_iter().collect();
        assert!(check_settings(&long_key).unwrap_err().to_string().contains("128 bytes"));
        let big: Map<String, Value> = [("k".to_owned(), json!("x".repeat(20_000)))].into_iter().collect();
        assert!(check_settings(&big).unwrap_err().to_string().contains("16 KiB per setting"));
        let total: Map<String, Value> = (0..20).map(|it| (format!("k{it}"), json!("x".repeat(15_000)))).collect();
        assert!(check_settings(&total).unwrap_err().to_string().contains("256 KiB"));
        let fine: Map<String, Value> = [("autoLogCall".to_owned(), json!({"value": true}))].into_iter().collect();
        check_settings(&fine).unwrap();
    }
}
