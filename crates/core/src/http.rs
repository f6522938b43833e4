//! `HttpClient`: the one HTTP client every connector uses to reach its CRM.
//!
//! It wraps a shared `reqwest::Client` with connect and request timeouts and a user agent, rewrites every URL to
//! the configured override origin (DESIGN.md invariant 5), retries 429, 502, 503, 504 and connection errors with
//! jittered exponential backoff that honours `Retry-After` within a total time budget, and captures the CRM's
//! rate-limit headers. Each attempt is traced at debug level, and each call can be reported to an observer
//! ([`HttpClient::with_observer`]) so the host can count CRM calls without connectors doing anything.
//!
//! # Which requests are retried
//!
//! A retry must never turn one intended CRM write into two records, so the rule depends on the method:
//!
//! * Idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) are retried on 429, 502, 503 and 504 and on
//!   any transport failure (refused connection, timeout, reset): repeating them changes nothing.
//! * Other methods (POST, PATCH) are retried only when the CRM certainly did not act on the request:
//!   a 429 (the CRM refused it to slow us down) or a failure to connect (nothing was sent). A 5xx (a 503 with
//!   `Retry-After` too: a CRM can create the record and then answer it), a timeout or a reset after the request
//!   went out may hide a record that was created, so they are returned to the caller, which knows whether the
//!   write is safe to repeat (the host's delivery engine looks for the record first).
//! * Any other status, 400 and 500 included, is returned at once.
//!
//! The wait before retry `n` is the larger of `Retry-After` and an exponential backoff with equal jitter
//! (`initial_backoff * 2^(n-1)`, capped at `max_backoff`, of which a random half is added to a fixed half).
//! A retry happens only while attempts remain (`max_attempts`) and its wait ends within the `budget` measured from
//! the first attempt; otherwise the last response (or error) is returned as it is.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Request and response bodies; re-exported so connectors need no `bytes` dependency of their own.
pub use bytes::Bytes;
pub use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;
use url::Url;

use crate::error::{ConnectorError, ErrorKind};
use crate::secret::Secret;

/// Timeouts, user agent and retry policy of an [`HttpClient`].
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    /// The limit for one attempt.
    pub request_timeout: Duration,
    pub user_agent: String,
    pub retry: RetryPolicy,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("callbridge/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
        }
    }
}

/// When and how long to retry a request that failed for a temporary reason.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 disables retries.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// No retry starts once this much time has passed since the first attempt, or would end after it.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            budget: Duration::from_secs(20),
        }
    }
}

/// A CRM's rate-limit headers (`x-ratelimit-remaining`, `-limit`, `-reset`) from the last response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    #[serde(rename = "ratelimitRemaining")]
    pub remaining: Option<String>,
    #[serde(rename = "ratelimitAmount")]
    pub limit: Option<String>,
    #[serde(rename = "ratelimitReset")]
    pub reset: Option<String>,
}

/// How one CRM call ended, after its retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The CRM answered with this status (any status, 4xx and 5xx included).
    Status(StatusCode),
    /// No response: the transport failed in this way.
    Failed(TransportFailure),
}

impl CallOutcome {
    /// A short label for metrics: the status code (`"200"`, `"429"`) or the failure (`"connect"`, `"timeout"`).
    pub fn label(&self) -> String {
        match self {
            CallOutcome::Status(status) => status.as_u16().to_string(),
            CallOutcome::Failed(failure) => failure.as_str().to_owned(),
        }
    }
}

/// Why a request got no response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be made (refused, DNS, TLS handshake, connect timeout): nothing was sent.
    Connect,
    /// The request or the response body took longer than the request timeout.
    Timeout,
    /// Anything else: a reset connection, an unreadable response body.
    Other,
}

impl TransportFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportFailure::Connect => "connect",
            TransportFailure::Timeout => "timeout",
            TransportFailure::Other => "other",
        }
    }

    fn of(error: &reqwest::Error) -> Self {
        if error.is_connect() {
            TransportFailure::Connect
        } else if error.is_timeout() {
            TransportFailure::Timeout
        } else {
            TransportFailure::Other
        }
    }
}

/// One CRM call as an observer sees it: reported once per [`HttpRequest::send`], after its last attempt.
///
/// It carries no query string, header or body: they may hold tokens and phone numbers.
#[derive(Clone, Debug)]
pub struct CallObservation {
    pub method: Method,
    /// The host the request went to (the override origin's host when one is set).
    pub host: String,
    pub outcome: CallOutcome,
    /// From the start of the first attempt to the end of the last, waits included.
    pub elapsed: Duration,
    /// Attempts made, the first included.
    pub attempts: u32,
}

/// A callback the host sets to observe every CRM call (see [`HttpClient::with_observer`]).
///
/// It runs on the request's task, so it must be quick (increment a counter, record a histogram).
pub type CallObserver = Arc<dyn Fn(&CallObservation) + Send + Sync>;

/// A cheap-to-clone handle on the shared client plus one connector's origin override.
///
/// Every clone, with or without an override, shares the one `reqwest::Client` built by [`HttpClient::new`] and so
/// its connection pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    origin_override: Option<Url>,
    retry: RetryPolicy,
    observer: Option<CallObserver>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("origin_override", &self.origin_override.as_ref().map(Url::as_str))
            .field("retry", &self.retry)
            .field("observer", &self.observer.as_ref().map(|_| "set"))
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(settings: &HttpSettings) -> Result<Self, ConnectorError> {
        #[expect(clippy::disallowed_methods, reason = "this is the one place that builds a reqwest client")]
        let inner = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(settings.user_agent.clone())
            .build()
            .map_err(|error| ConnectorError::config("cannot build the HTTP client").with_source(error))?;
        Ok(Self { inner, origin_override: None, retry: settings.retry.clone(), observer: None })
    }

    /// A client that sends every request to `origin` (scheme, host and port), keeping path and query.
    pub fn with_origin_override(mut self, origin: Option<Url>) -> Self {
        self.origin_override = origin;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A client that reports every call to `observer`, e.g. to count CRM calls per connector and status.
    ///
    /// The host sets one per connector and captures the connector's name in the closure:
    ///
    /// ```ignore
    /// let http = base.clone().with_observer(Arc::new(move |call: &CallObservation| {
    ///     metrics::counter!("crm_calls_total", "connector" => name, "status" => call.outcome.label()).increment(1);
    /// }));
    /// ```
    pub fn with_observer(mut self, observer: CallObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    pub fn origin_override(&self) -> Option<&Url> {
        self.origin_override.as_ref()
    }

    pub fn request(&self, method: Method, url: &str) -> HttpRequest {
        HttpRequest {
            client: self.clone(),
            method,
            url: url.to_owned(),
            headers: HeaderMap::new(),
            body: None,
            error: None,
        }
    }

    pub fn get(&self, url: &str) -> HttpRequest {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: &str) -> HttpRequest {
        self.request(Method::POST, url)
    }

    pub fn put(&self, url: &str) -> HttpRequest {
        self.request(Method::PUT, url)
    }

    pub fn patch(&self, url: &str) -> HttpRequest {
        self.request(Method::PATCH, url)
    }

    pub fn delete(&self, url: &str) -> HttpRequest {
        self.request(Method::DELETE, url)
    }

    /// `url` with scheme, host and port replaced by the override origin, if one is set.
    pub fn resolve(&self, url: &str) -> Result<Url, ConnectorError> {
        let mut parsed = Url::parse(url).map_err(|error| {
            ConnectorError::new(ErrorKind::Config, format!("invalid URL `{url}`")).with_source(error)
        })?;
        if let Some(origin) = &self.origin_override {
            let rewrite = |parsed: &mut Url| -> Result<(), ()> {
                parsed.set_scheme(origin.scheme())?;
                parsed.set_host(origin.host_str()).map_err(|_| ())?;
                parsed.set_port(origin.port())
            };
            rewrite(&mut parsed).map_err(|()| {
                ConnectorError::config(format!("cannot redirect `{url}` to the override origin {origin}"))
            })?;
        }
        Ok(parsed)
    }
}

/// A request being built; nothing is sent until [`HttpRequest::send`].
#[derive(Debug)]
pub struct HttpRequest {
    client: HttpClient,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Option<(Bytes, Option<&'static str>)>,
    /// The first error while building (an invalid header, a body that does not serialise), reported by `send`.
    error: Option<ConnectorError>,
}

impl HttpRequest {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(mut value)) => {
                if name == http::header::AUTHORIZATION {
                    value.set_sensitive(true);
                }
                self.headers.insert(name, value);
            }
            _ => self.fail(ConnectorError::config(format!("invalid value for header `{name}`"))),
        }
        self
    }

    /// `Authorization: <value>` as the host prepared it (`Bearer ...` or `Basic ...`).
    pub fn authorization(self, value: &Secret) -> Self {
        self.header("authorization", value.expose())
    }

    pub fn bearer_auth(self, token: &Secret) -> Self {
        self.header("authorization", &format!("Bearer {}", token.expose()))
    }

    pub fn basic_auth(self, user: &str, password: &Secret) -> Self {
        use base64::Engine as _;
        let credential = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
        self.header("authorization", &format!("Basic {credential}"))
    }

    /// Appends query parameters, URL-encoded.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        match Url::parse(&self.url) {
            Ok(mut url) => {
                url.query_pairs_mut().extend_pairs(pairs);
                self.url = url.into();
            }
            Err(error) => self.fail(ConnectorError::config(format!("invalid URL `{}`", self.url)).with_source(error)),
        }
        self
    }

    pub fn json(mut self, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Some((Bytes::from(bytes), Some("application/json"))),
            Err(error) => self.fail(ConnectorError::config("request body does not serialise").with_source(error)),
        }
        self
    }

    pub fn form(mut self, body: &[(&str, &str)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(body).finish();
        self.body = Some((Bytes::from(encoded), Some("application/x-www-form-urlencoded")));
        self
    }

    /// A body of raw bytes (a file upload), sent as it is. No `Content-Type` is added: the caller sets the one the
    /// receiver expects with [`HttpRequest::header`] (an upload URL may have been signed with it).
    pub fn bytes(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some((body.into(), None));
        self
    }

    fn fail(&mut self, error: ConnectorError) {
        self.error.get_or_insert(error);
    }

    /// Sends the request, retrying temporary failures within the client's policy (see the module docs for
    /// which failures are retried for which methods).
    ///
    /// Any HTTP status is `Ok`: the connector decides what a status means (see [`HttpResponse::error_for_status`]).
    /// `Err` is a transport failure (connection refused, timeout) that outlived its retries, or a request that
    /// could not be built.
    pub async fn send(self) -> Result<HttpResponse, ConnectorError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let url = self.client.resolve(&self.url)?;
        // The query string is left out of every log and error: it may carry tokens or phone numbers.
        let host = url.host_str().unwrap_or_default().to_owned();
        let span = tracing::debug_span!("crm_request", method = %self.method, host = %host, path = %url.path());
        let call =
            Call { client: &self.client, method: &self.method, url: &url, headers: &self.headers, body: &self.body };
        let started = Instant::now();
        let (result, attempts) = call.run(started).instrument(span).await;
        if let Some(observer) = &self.client.observer {
            let outcome = match &result {
                Ok(response) => CallOutcome::Status(response.status()),
                Err(failed) => CallOutcome::Failed(failed.failure),
            };
            observer(&CallObservation {
                method: self.method.clone(),
                host: host.clone(),
                outcome,
                elapsed: started.elapsed(),
                attempts,
            });
        }
        result.map_err(|failed| {
            let message = match failed.failure {
                TransportFailure::Connect => {
                    format!("cannot connect to the CRM for {} {host}{}", self.method, url.path())
                }
                TransportFailure::Timeout => format!("{} {host}{} timed out", self.method, url.path()),
                TransportFailure::Other => format!("{} {host}{} failed", self.method, url.path()),
            };
            let message = if attempts > 1 { format!("{message} (after {attempts} attempts)") } else { message };
            let error = ConnectorError::upstream(message).temporary(true).with_source(failed.error);
            if failed.failure == TransportFailure::Connect { error.not_sent() } else { error }
        })
    }
}

/// A transport failure of one attempt.
struct FailedAttempt {
    failure: TransportFailure,
    error: reqwest::Error,
}

/// The parts of a request that every attempt sends again.
struct Call<'a> {
    client: &'a HttpClient,
    method: &'a Method,
    url: &'a Url,
    headers: &'a HeaderMap,
    body: &'a Option<(Bytes, Option<&'static str>)>,
}

impl Call<'_> {
    /// Runs attempts until one is final; returns its result and the number of attempts made.
    async fn run(&self, started: Instant) -> (Result<HttpResponse, FailedAttempt>, u32) {
        let policy = &self.client.retry;
        let idempotent = is_idempotent(self.method);
        let mut attempt = 1;
        loop {
            let attempt_started = Instant::now();
            let result = self.attempt().await;
            let retry_after = match &result {
                Ok(response) => {
                    tracing::debug!(
                        attempt,
                        status = response.status().as_u16(),
                        elapsed_ms = attempt_started.elapsed().as_millis() as u64,
                        "CRM request attempt answered."
                    );
                    if !should_retry_status(response.status(), idempotent) {
                        return (result, attempt);
                    }
                    response.retry_after()
                }
                Err(failed) => {
                    tracing::debug!(
                        attempt,
                        failure = failed.failure.as_str(),
                        elapsed_ms = attempt_started.elapsed().as_millis() as u64,
                        "CRM request attempt failed."
                    );
                    if !(idempotent || failed.failure == TransportFailure::Connect) {
                        return (result, attempt);
                    }
                    None
                }
            };
            if attempt >= policy.max_attempts {
                return (result, attempt);
            }
            let wait = backoff(policy, attempt).max(retry_after.unwrap_or_default());
            if started.elapsed() + wait > policy.budget {
                tracing::debug!(
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "Not retrying: the wait would end after the retry budget."
                );
                return (result, attempt);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(&self) -> Result<HttpResponse, FailedAttempt> {
        let failed = |error: reqwest::Error| FailedAttempt { failure: TransportFailure::of(&error), error };
        let mut request =
            self.client.inner.request(self.method.clone(), self.url.clone()).headers(self.headers.clone());
        if let Some((body, content_type)) = self.body {
            if let Some(content_type) = content_type {
                request = request.header(http::header::CONTENT_TYPE, *content_type);
            }
            request = request.body(body.clone());
        }
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(failed)?;
        Ok(HttpResponse::new(status, headers, body))
    }
}

/// Methods whose repetition has the same effect as one request (RFC 9110 section 9.2.2).
fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE)
}

/// The status rule of the module docs: which answers are worth another attempt.
fn should_retry_status(status: StatusCode, idempotent: bool) -> bool {
    match status {
        StatusCode::TOO_MANY_REQUESTS => true,
        StatusCode::SERVICE_UNAVAILABLE => idempotent,
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => idempotent,
        _ => false,
    }
}

/// The jittered wait before the attempt after `attempt`: equal jitter over an exponential, capped backoff.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    use rand::Rng as _;
    let exponent = attempt.saturating_sub(1).min(30);
    let ceiling = policy.initial_backoff.saturating_mul(1 << exponent).min(policy.max_backoff);
    let half = ceiling / 2;
    let jitter_nanos = rand::rng().random_range(0..=u64::try_from(half.as_nanos()).unwrap_or(u64::MAX));
    half + Duration::from_nanos(jitter_nanos)
}

/// `Retry-After` as a wait from `now`: delay-seconds, or an HTTP-date (a date in the past means no wait).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value)
        .map(|it| it.with_timezone(&chrono::Utc))
        .or_else(|_| {
            // The two obsolete HTTP-date forms recipients must still accept (RFC 9110 section 5.6.7).
            chrono::NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%a %b %e %H:%M:%S %Y"))
                .map(|it| it.and_utc())
        })
        .ok()?;
    Some((date - now).to_std().unwrap_or_default())
}

/// A CRM's response, fully read.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl HttpResponse {
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self { status, headers, body }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn body(&self) -> &Bytes {
        &self.body
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON of type `T`; an unreadable body is an upstream error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            ConnectorError::upstream(format!("unexpected response body from the CRM (status {})", self.status.as_u16()))
                .with_source(error)
        })
    }

    /// The rate-limit headers, if the CRM sent any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        let header = |name: &str| self.headers.get(name).and_then(|it| it.to_str().ok()).map(str::to_owned);
        let rate_limit = RateLimit {
            remaining: header("x-ratelimit-remaining"),
            limit: header("x-ratelimit-limit"),
            reset: header("x-ratelimit-reset"),
        };
        (rate_limit != RateLimit::default()).then_some(rate_limit)
    }

    /// `Retry-After` as a wait, if present and readable: delay-seconds or an HTTP-date.
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
        parse_retry_after(value, chrono::Utc::now())
    }

    /// `Ok(self)` for a 2xx status, else the connector's reading of the error response.
    pub fn error_for_status(
        self,
        parse_error: impl FnOnce(StatusCode, &[u8]) -> ConnectorError,
    ) -> Result<Self, ConnectorError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            let retry_after = self.retry_after();
            Err(parse_error(self.status, &self.body).with_retry_after(retry_after))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retried_statuses_depend_on_the_method() {
        #[rustfmt::skip]
        let table = [
            // status, idempotent, has Retry-After, retried
            (429, true, false, true),
            (429, false, false, true),
            (503, true, false, true),
            (503, false, false, false),
            (503, false, true, false),
            (502, true, false, true),
            (502, false, true, false),
            (504, true, false, true),
            (504, false, true, false),
            (500, true, true, false),
            (400, true, true, false),
            (401, true, false, false),
            (404, true, false, false),
            (409, false, false, false),
            (200, true, false, false),
        ];
        // `Retry-After` changes nothing: a POST answered 503 may still have created the record.
        for (status, idempotent, _has_retry_after, retried) in table {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(should_retry_status(status, idempotent), retried, "{status} {idempotent}");
        }
    }

    #[test]
    fn only_safe_methods_are_idempotent() {
        for method in [Method::GET, Method::HEAD, Method::PUT, Method::DELETE, Method::OPTIONS] {
            assert!(is_idempotent(&method), "{method}");
        }
        for method in [Method::POST, Method::PATCH] {
            assert!(!is_idempotent(&method), "{method}");
        }
    }

    #[test]
    fn backoff_grows_exponentially_with_equal_jitter_and_a_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            budget: Duration::from_secs(60),
        };
        for _ in 0..200 {
            for (attempt, ceiling_ms) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (40, 1000)] {
                let wait = backoff(&policy, attempt);
                let ceiling = Duration::from_millis(ceiling_ms);
                assert!(wait >= ceiling / 2 && wait <= ceiling, "attempt {attempt}: {wait:?}");
            }
        }
    }
}
