//! `RestClient`: a JSON REST client over [`HttpClient`], the part every connector's client used to repeat: the API
//! root, the user's `Authorization`, the connector's `parse_error` on a non-2xx answer, and decoding the body
//! (whole, or its `{"data": ...}` envelope) with the rate-limit headers that came with it.
//!
//! A connector keeps one `RestClient` with its configured root and derives a per-request one with
//! [`RestClient::with_base`] (CRMs with a host per company or region, checked by [`https_origin`]) and
//! [`RestClient::with_auth`]. Cloning is cheap.

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ConnectorError, ErrorKind};
use crate::http::{HttpClient, HttpRequest, HttpResponse, Method, RateLimit, StatusCode};
use crate::secret::Secret;

/// A connector's reading of its CRM's error answers (status and body), usually ending in
/// [`ConnectorError::from_crm_response`].
pub type ErrorParser = fn(StatusCode, &[u8]) -> ConnectorError;

/// A decoded answer and the rate-limit headers that came with it.
#[derive(Debug)]
pub struct Reply<T> {
    pub body: T,
    pub rate_limit: Option<RateLimit>,
}

impl<T> Reply<T> {
    /// The body; the rate-limit headers replace `latest` when the answer had any (they describe the budget left
    /// after the most recent request).
    pub fn into_body(self, latest: &mut Option<RateLimit>) -> T {
        if self.rate_limit.is_some() {
            *latest = self.rate_limit;
        }
        self.body
    }
}

impl<T: Default> Reply<Option<T>> {
    /// Many CRMs answer `data: null` for an empty list; that reads as the empty value.
    pub fn or_default(self) -> Reply<T> {
        Reply { body: self.body.unwrap_or_default(), rate_limit: self.rate_limit }
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// Requests to one CRM's REST API.
#[derive(Clone)]
pub struct RestClient {
    http: HttpClient,
    base: String,
    auth: Option<Secret>,
    parse_error: ErrorParser,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient").field("base", &self.base).field("auth", &self.auth.is_some()).finish()
    }
}

impl RestClient {
    /// Requests go to `base` (an API root such as `https://api.example.com/v1`; a trailing `/` is dropped) and
    /// error answers are read by `parse_error`.
    pub fn new(http: HttpClient, base: &str, parse_error: ErrorParser) -> Self {
        Self { http, base: base.trim_end_matches('/').to_owned(), auth: None, parse_error }
    }

    /// The same client with another API root (the user's company or regional host).
    pub fn with_base(mut self, base: &str) -> Self {
        self.base = base.trim_end_matches('/').to_owned();
        self
    }

    /// The same client sending `Authorization: <auth>` (what the host prepared for the user) with every request.
    pub fn with_auth(mut self, auth: &Secret) -> Self {
        self.auth = Some(auth.clone());
        self
    }

    /// A copy sending the user's `Authorization` ([`RequestContext::auth_header`](crate::RequestContext)).
    pub fn for_user(&self, auth: &Secret) -> Self {
        self.clone().with_auth(auth)
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// `path` under the API root; an absolute URL (`https://...`, another host of the CRM) is taken as it is.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("https://") || path.starts_with("http://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// A request to `path` (see [`RestClient::url`]), authorised when the client has the user's `Authorization`.
    pub fn request(&self, method: Method, path: &str) -> HttpRequest {
        let request = self.http.request(method, &self.url(path));
        match &self.auth {
            Some(auth) => request.authorization(auth),
            None => request,
        }
    }

    pub fn get(&self, path: &str) -> HttpRequest {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> HttpRequest {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> HttpRequest {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> HttpRequest {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> HttpRequest {
        self.request(Method::DELETE, path)
    }

    /// Sends `request`; a non-2xx answer becomes the connector's error (with `Retry-After`).
    pub async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        request.send().await?.error_for_status(self.parse_error)
    }

    /// Sends `request` and decodes the whole body of its 2xx answer.
    pub async fn send<T: DeserializeOwned>(&self, request: HttpRequest) -> Result<Reply<T>, ConnectorError> {
        let response = self.execute(request).await?;
        Ok(Reply { body: response.json()?, rate_limit: response.rate_limit() })
    }

    /// Sends `request` and decodes `data` of its 2xx answer (`{"data": ..., ...}`, the other keys ignored).
    pub async fn data<T: DeserializeOwned>(&self, request: HttpRequest) -> Result<Reply<T>, ConnectorError> {
        let reply: Reply<Envelope<T>> = self.send(request).await?;
        Ok(Reply { body: reply.body.data, rate_limit: reply.rate_limit })
    }
}

/// `https://<host>` for a CRM host a user connected with (a company's own host name, `host:port` allowed),
/// refusing anything that is not a bare host name, so that no stored host name can add a path, a user or a query.
pub fn https_origin(host: &str, crm: &str) -> Result<String, ConnectorError> {
    let host = host.trim();
    let bare = !host.is_empty()
        && host.chars().all(|it| it.is_ascii_alphanumeric() || matches!(it, '.' | '-' | ':'))
        && !host.starts_with(['.', '-', ':']);
    if !bare {
        return Err(ConnectorError::new(ErrorKind::Rejected, format!("`{host}` is not a {crm} host name")));
    }
    Ok(format!("https://{host}"))
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::http::HttpSettings;

    fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
        ConnectorError::from_crm_response("test", status, body, None)
    }

    fn client(server: &MockServer) -> RestClient {
        let http = HttpClient::new(&HttpSettings::default()).unwrap();
        RestClient::new(http, &format!("{}/api/", server.uri()), parse_error)
    }

    #[tokio::test]
    async fn requests_carry_the_root_the_auth_and_decode_data() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/items"))
            .and(query_param("q", "a b"))
            .and(header("authorization", "Bearer t"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-ratelimit-remaining", "9")
                    .set_body_json(serde_json::json!({ "success": true, "data": [1, 2] })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let rest = client(&server).with_auth(&Secret::new("Bearer t"));
        let reply: Reply<Vec<u8>> = rest.data(rest.get("/items").query(&[("q", "a b")])).await.unwrap();
        let mut latest = None;
        assert_eq!(reply.into_body(&mut latest), vec![1, 2]);
        assert_eq!(latest.unwrap().remaining.as_deref(), Some("9"));
    }

    #[tokio::test]
    async fn null_data_reads_as_empty_and_errors_go_through_parse_error() {
        let server = MockServer::start().await;
        Mock::given(path("/api/empty"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({ "data": null })))
            .mount(&server)
            .await;
        Mock::given(path("/api/missing")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
        let rest = client(&server);
        let empty = rest.data::<Option<Vec<u8>>>(rest.get("/empty")).await.unwrap().or_default();
        assert!(empty.body.is_empty() && empty.rate_limit.is_none());
        let error = rest.send::<serde_json::Value>(rest.get("/missing")).await.unwrap_err();
        assert_eq!((error.kind(), error.message()), (ErrorKind::NotFound, "test answered 404: Not Found"));
    }

    #[test]
    fn absolute_urls_and_other_roots() {
        let http = HttpClient::new(&HttpSettings::default()).unwrap();
        let rest = RestClient::new(http, "https://api.example.com/v1/", parse_error);
        assert_eq!(rest.url("/me"), "https://api.example.com/v1/me");
        assert_eq!(rest.url("https://oauth.example.com/revoke"), "https://oauth.example.com/revoke");
        assert_eq!(rest.with_base("https://eu.example.com").url("/me"), "https://eu.example.com/me");
    }

    #[test]
    fn only_bare_host_names_become_origins() {
        assert_eq!(https_origin(" acme.pipedrive.com ", "Pipedrive").unwrap(), "https://acme.pipedrive.com");
        assert_eq!(https_origin("127.0.0.1:9000", "Pipedrive").unwrap(), "https://127.0.0.1:9000");
        for bad in ["", "acme.example.com/evil", "evil.com#", "a b", "user@evil.com", ".acme", "-a", ":80"] {
            let error = https_origin(bad, "Example").unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Rejected, "{bad:?}");
        }
        assert_eq!(https_origin("a/b", "Example").unwrap_err().message(), "`a/b` is not a Example host name");
    }
}
