//! `HttpClient`: the one HTTP client every connector uses to reach its CRM.
//!
//! It wraps a shared `reqwest::Client` with connect and request timeouts and a user agent, rewrites every URL to
//! the configured override origin (DESIGN.md invariant 5), retries 429, 502, 503, 504 and connection errors with
//! jittered exponential backoff that honours `Retry-After` within a total time budget, and captures the CRM's
//! rate-limit headers.

use std::time::Duration;

use bytes::Bytes;
pub use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
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

/// A cheap-to-clone handle on the shared client plus one connector's origin override.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    origin_override: Option<Url>,
    retry: RetryPolicy,
}

impl HttpClient {
    pub fn new(settings: &HttpSettings) -> Result<Self, ConnectorError> {
        #[allow(clippy::disallowed_methods)] // this is the one place that builds a reqwest client
        let inner = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(settings.user_agent.clone())
            .build()
            .map_err(|error| ConnectorError::config("cannot build the HTTP client").with_source(error))?;
        Ok(Self { inner, origin_override: None, retry: settings.retry.clone() })
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
    body: Option<(Bytes, &'static str)>,
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
            Ok(bytes) => self.body = Some((Bytes::from(bytes), "application/json")),
            Err(error) => self.fail(ConnectorError::config("request body does not serialise").with_source(error)),
        }
        self
    }

    pub fn form(mut self, body: &[(&str, &str)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(body).finish();
        self.body = Some((Bytes::from(encoded), "application/x-www-form-urlencoded"));
        self
    }

    fn fail(&mut self, error: ConnectorError) {
        self.error.get_or_insert(error);
    }

    /// Sends the request, retrying temporary failures within the client's policy.
    ///
    /// Any HTTP status is `Ok`: the connector decides what a status means (see [`HttpResponse::error_for_status`]).
    /// `Err` is a transport failure (connection refused, timeout) that outlived its retries, or a request that
    /// could not be built.
    pub async fn send(self) -> Result<HttpResponse, ConnectorError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let url = self.client.resolve(&self.url)?;
        let mut request = self.client.inner.request(self.method.clone(), url).headers(self.headers.clone());
        if let Some((body, content_type)) = &self.body {
            request = request.header(http::header::CONTENT_TYPE, *content_type).body(body.clone());
        }
        let response = request.send().await.map_err(|error| {
            ConnectorError::upstream(format!("{} {} failed", self.method, self.url)).temporary(true).with_source(error)
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|error| {
            ConnectorError::upstream("reading the response body failed").temporary(true).with_source(error)
        })?;
        Ok(HttpResponse::new(status, headers, body))
    }
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

    /// `Retry-After` in seconds, if present.
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
        value.trim().parse::<u64>().ok().map(Duration::from_secs)
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
