//! Test support: databases (a SQLite file always, a private PostgreSQL schema when
//! `CALLBRIDGE_TEST_POSTGRES_URL` is set), states with chosen connectors, request helpers, and free ports for the
//! binary.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{Connector, ConnectorConfig, Secret, registry};
use callbridge_host::crypto::TokenCipher;
use callbridge_host::delivery::DeliverySettings;
use callbridge_host::state::{AppState, Tunables};
use callbridge_host::store::Store;
use callbridge_host::test_schema::TestSchema;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// A local address nobody listens on right now, for a `callbridge` process a test starts. Its port lies below the
/// kernel's ephemeral range: a port that `bind(0)` gives is in that range, where another test's outgoing connection
/// or mock server can take it before the process binds it (it did, once: "Address already in use").
pub fn free_addr() -> std::net::SocketAddr {
    use rand::Rng as _;
    let first_ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    for _ in 0..1_000 {
        let port = rand::rng().random_range(10_000..first_ephemeral.max(10_001));
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            return listener.local_addr().unwrap();
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

pub const JWT_SECRET: &str = "test-jwt-secret";
pub const HASH_KEY: &str = "test-hash-key";
const TOKEN_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Runs each listed `async fn name(backend: Backend)` as two tests, `name::sqlite` and `name::postgres` (the
/// latter returns at once when `CALLBRIDGE_TEST_POSTGRES_URL` is not set).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if $crate::support::Backend::postgres_configured() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        }
    )*};
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn postgres_configured() -> bool {
        callbridge_host::config::test_postgres_url().is_some()
    }
}

/// One test database; several stores (server instances) can be opened on it.
pub struct TestDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the test's private schema, dropped with the `TestDb`.
    postgres_schema: Option<TestSchema>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("callbridge.db").display());
                TestDb { url, _dir: Some(dir), postgres_schema: None }
            }
            Backend::Postgres => {
                let schema = TestSchema::create("host_it_").await;
                TestDb { url: schema.url().to_owned(), _dir: None, postgres_schema: Some(schema) }
            }
        }
    }

    /// Runs SQL statements in the test's PostgreSQL schema, for a test that arranges a fault in the database.
    pub async fn execute_postgres(&self, sql: &str) {
        assert!(self.postgres_schema.is_some(), "execute_postgres on a SQLite test database");
        let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
        pool.close().await;
    }

    /// A migrated store with the test cipher: its own pool, like a separate server instance.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url).await.unwrap();
        store.migrate().await.unwrap();
        store.with_cipher(TokenCipher::from_base64_key(TOKEN_KEY).unwrap())
    }
}

/// An HTTP client for test connectors: no retries, so request counts at the mock are exact.
pub fn test_http() -> HttpClient {
    let settings = HttpSettings {
        retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
        request_timeout: Duration::from_secs(10),
        ..HttpSettings::default()
    };
    HttpClient::new(&settings).unwrap()
}

/// The registered sandbox connector.
pub fn sandbox() -> Arc<dyn Connector> {
    (registry::get("sandbox").unwrap().build)(ConnectorConfig::new(test_http())).unwrap()
}

/// A state over `store` with the given connectors and short coordination timings, and its delivery worker
/// running (as `callbridge serve` does; it stops with the test's runtime).
pub fn state_with(store: Store, connectors: Vec<Arc<dyn Connector>>) -> AppState {
    let state = state_without_worker(store, connectors);
    callbridge_host::delivery::spawn_worker(&state, tokio_util::sync::CancellationToken::new());
    state
}

/// As [`state_with`], without the delivery worker: only requests' immediate attempts deliver.
pub fn state_without_worker(store: Store, connectors: Vec<Arc<dyn Connector>>) -> AppState {
    state_tuned(store, connectors, test_tunables())
}

/// Short coordination timings, so tests of retries and waits run fast.
pub fn test_tunables() -> Tunables {
    Tunables {
        refresh_lease_ttl: Duration::from_secs(10),
        refresh_wait_limit: Duration::from_secs(20),
        note_cache_ttl: Duration::from_secs(60),
        delivery: DeliverySettings {
            immediate_wait: Duration::from_secs(10),
            poll_interval: Duration::from_millis(50),
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
            ..DeliverySettings::default()
        },
    }
}

/// A state over `store` with the given connectors and timings, without the delivery worker.
pub fn state_tuned(store: Store, connectors: Vec<Arc<dyn Connector>>, tunables: Tunables) -> AppState {
    let mut builder = AppState::builder(store, &Secret::new(JWT_SECRET), Secret::new(HASH_KEY))
        .public_url(Some("https://callbridge.test".to_owned()))
        .metrics(callbridge_host::metrics::install())
        .tunables(tunables);
    for connector in connectors {
        builder = builder.connector(connector, test_http());
    }
    builder.build()
}

/// A fresh database and one server instance with the sandbox connector.
pub async fn sandbox_app(backend: Backend) -> (TestDb, AppState, Router) {
    let db = TestDb::new(backend).await;
    let state = state_with(db.store().await, vec![sandbox()]);
    let app = callbridge_host::app(state.clone());
    (db, state, app)
}

/// A response, fully read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a 200 and returns the JSON body.
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text());
        self.json()
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> TestResponse {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    TestResponse { status, headers, body }
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub fn json_request(method: Method, uri: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

pub fn raw_request(method: Method, uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder().method(method).uri(uri).header("content-type", "application/json").body(body.into()).unwrap()
}

/// Logs into the sandbox with `api_key` and returns the session token.
pub async fn sandbox_login(app: &Router, api_key: &str) -> String {
    let body = serde_json::json!({"platform": "sandbox", "apiKey": api_key, "hostname": "sandbox.test", "additionalInfo": {"apiKey": api_key}});
    let response = send(app, json_request(Method::POST, "/apiKeyLogin?state=platform=sandbox", &body)).await;
    let json = response.ok_json();
    json["jwtToken"].as_str().unwrap().to_owned()
}

/// A unique API key, so tests sharing a database never share a sandbox user.
pub fn unique_key() -> String {
    format!("key-{}", uuid::Uuid::new_v4().simple())
}

/// A RingCentral call record as the extension sends it in `logInfo`.
pub fn call_record(session_id: &str, other_number: &str) -> Value {
    serde_json::json!({
        "id": format!("rec-{session_id}"),
        "sessionId": session_id,
        "telephonySessionId": format!("tel-{session_id}"),
        "partyId": "p-1",
        "direction": "Inbound",
        "type": "Voice",
        "action": "Phone Call",
        "result": "Accepted",
        "startTime": 1_700_000_000_000i64,
        "duration": 95,
        "from": {"phoneNumber": other_number, "name": "Caller"},
        "to": {"phoneNumber": "+16505550999", "extensionNumber": "101", "name": "Agent"},
        "recording": {"link": "(pending...)", "expiry": 1_700_000_600_000i64},
        "toNumberEntity": {"widget": "only"},
        "telephonyStatus": "NoCall",
        "customSubject": "Inbound Call from Grace Hopper"
    })
}
