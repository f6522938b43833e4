//! The load generator end to end for a few seconds: the real callbridge server (its router, store, delivery worker
//! and the pipedrive connector, in-process on a real TCP port and a SQLite file) against the mock Pipedrive, once
//! steady and once through a CRM outage, and two instances sharing one PostgreSQL database. Asserts what the report
//! proves (every session logged exactly once, every accepted update applied once, every operation ran), never
//! timings.

#[path = "support/database.rs"]
mod database;

use std::sync::Arc;
use std::time::Duration;

use callbridge_core::http::{HttpClient, HttpSettings, RetryPolicy};
use callbridge_core::{ConnectorConfig, Secret, registry};
use callbridge_host::AppState;
use callbridge_host::crypto::TokenCipher;
use callbridge_host::delivery::DeliverySettings;
use callbridge_host::state::Tunables;
use callbridge_host::store::Store;
use callbridge_tests::load::driver::{self, Instance, LoadConfig, Outage, Target};
use callbridge_tests::load::mock::MockPipedrive;
use callbridge_tests::load::report::OpKind;
use callbridge_tests::load::server::{CLIENT_ID, CLIENT_SECRET};

use crate::database::Database;

/// Serves callbridge with only the pipedrive connector, its CRM traffic sent to `crm_url`, and its delivery
/// worker (retrying within a second, so a short outage recovers quickly); returns the base URL. Instances given
/// the same database and token key share their state, as the JWT secret and hash key are the same for all.
async fn start_server(database_url: &str, token_key: &str, crm_url: &str) -> String {
    let store = Store::connect(database_url).await.unwrap();
    store.migrate().await.unwrap();
    let store = store.with_cipher(TokenCipher::from_base64_key(token_key).unwrap());
    // No in-request retries: an outage reaches the delivery engine at once instead of after the retry budget.
    let settings =
        HttpSettings { retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }, ..HttpSettings::default() };
    let http = HttpClient::new(&settings).unwrap().with_origin_override(Some(crm_url.parse().unwrap()));
    let config = ConnectorConfig::new(http.clone())
        .with_value("client_id", CLIENT_ID)
        .with_value("client_secret", CLIENT_SECRET);
    let descriptor = registry::get(connector_pipedrive::NAME).unwrap();
    let connector = (descriptor.build)(config).unwrap();
    let state = AppState::builder(store, &Secret::new("load-smoke-jwt-secret"), Secret::new("load-smoke-hash-key"))
        .connector(connector, http)
        .tunables(Tunables {
            delivery: DeliverySettings {
                poll_interval: Duration::from_millis(100),
                initial_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(1),
                ..DeliverySettings::default()
            },
            ..Tunables::default()
        })
        .build();
    callbridge_host::delivery::spawn_worker(&state, tokio_util::sync::CancellationToken::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, callbridge_host::app(state)).await });
    format!("http://{addr}")
}

/// A short closed-loop run: 4 clients, 2 seconds, no warm-up.
fn smoke_config(users: usize) -> LoadConfig {
    LoadConfig {
        users,
        concurrency: 4,
        duration: Duration::from_secs(2),
        warmup: Duration::ZERO,
        ..LoadConfig::default()
    }
}

/// The one in-process server on SQLite at `base_url`.
fn sqlite_target(base_url: String) -> Target {
    Target { instances: vec![Instance { base_url, pid: None }], server: "callbridge".into(), database: "sqlite".into() }
}

fn sqlite_file(scratch: &tempfile::TempDir) -> String {
    scratch.path().join("load.db").display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_seconds_of_load_log_every_session_exactly_once() {
    let scratch = tempfile::tempdir().unwrap();
    let users = 6;
    let mock = Arc::new(MockPipedrive::start(0, users, Duration::from_millis(2)).await.unwrap());
    let base_url = start_server(&sqlite_file(&scratch), &TokenCipher::generate_key(), &mock.url()).await;
    let config = smoke_config(users);
    let target = sqlite_target(base_url);

    let report = driver::run(&config, &target, Arc::clone(&mock)).await.unwrap();
    eprintln!("{}", report.to_text());

    assert!(report.passed(), "{}", report.to_text());
    assert_eq!(report.login.requests, users as u64);
    assert_eq!(report.login.failed, 0, "{}", report.to_text());
    for op in [OpKind::Contact, OpKind::Create, OpKind::Update, OpKind::Get, OpKind::DuplicateCreate] {
        let figures = report.operations.iter().find(|it| it.operation == op);
        assert!(figures.is_some_and(|it| it.ok > 0), "no successful {op:?}:\n{}", report.to_text());
    }
    assert!(report.errors.is_empty(), "{}", report.to_text());
    let e = &report.exactly_once;
    assert!(e.logged_once > 0 && e.logged_once == e.sessions, "{}", report.to_text());
    assert!(e.create_attempts > e.sessions as u64, "duplicates were sent: {}", report.to_text());
    // Every create reached the CRM once; the mock saw no endpoint it does not know.
    assert_eq!(report.crm.calls_by_endpoint["POST /api/v2/activities"], e.sessions as u64);
    assert!(report.crm.unexpected.is_empty() && report.crm.unauthorized == 0, "{}", report.to_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_outage_under_load_delivers_everything_accepted_once_and_reports_the_recovery() {
    let scratch = tempfile::tempdir().unwrap();
    let users = 6;
    let mock = Arc::new(MockPipedrive::start(0, users, Duration::from_millis(2)).await.unwrap());
    let base_url = start_server(&sqlite_file(&scratch), &TokenCipher::generate_key(), &mock.url()).await;
    let config = LoadConfig {
        duration: Duration::from_secs(3),
        outage: Some(Outage { start: Duration::from_millis(500), length: Duration::from_secs(2) }),
        settle_timeout: Duration::from_secs(30),
        ..smoke_config(users)
    };
    let target = sqlite_target(base_url);

    let report = driver::run(&config, &target, Arc::clone(&mock)).await.unwrap();
    eprintln!("{}", report.to_text());

    assert!(report.passed(), "{}", report.to_text());
    let e = &report.exactly_once;
    assert!(e.logged_once > 0 && e.logged_once + e.never_logged == e.sessions, "{}", report.to_text());
    let d = &report.delivery;
    assert!(d.creates_accepted > 0 && d.updates_accepted > 0, "{}", report.to_text());
    // Something was answered before the CRM had it: the outage queued work that was delivered later.
    assert!(d.max_create_lag_s > 0.0 || d.max_update_lag_s > 0.0, "{}", report.to_text());
    let outage = d.outage.as_ref().expect("the outage is reported");
    assert!(outage.refused_requests > 0, "{}", report.to_text());
    assert_eq!(outage.length_s, 2.0);
    // The text names the recovery figure.
    assert!(report.to_text().contains("after the outage ended"), "{}", report.to_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_connection_per_user_every_user_keeps_its_connection_open() {
    let scratch = tempfile::tempdir().unwrap();
    let users = 6;
    let concurrency = 2;
    let mock = Arc::new(MockPipedrive::start(0, users, Duration::from_millis(2)).await.unwrap());
    let base_url = start_server(&sqlite_file(&scratch), &TokenCipher::generate_key(), &mock.url()).await;
    let config = LoadConfig { concurrency, connection_per_user: true, ..smoke_config(users) };
    let target = sqlite_target(base_url);

    let report = driver::run(&config, &target, Arc::clone(&mock)).await.unwrap();
    eprintln!("{}", report.to_text());

    assert!(report.passed() && report.errors.is_empty(), "{}", report.to_text());
    // Each user logged in over its own connection and kept it through the window (this server closes no idle
    // connection); on top come at most the tool's own client and a second connection per client while it sends
    // two creates at once.
    let open = report.connections.expect("Linux's socket tables are readable");
    assert!(open.min >= users, "{}", report.to_text());
    assert!(open.max <= users + 1 + concurrency, "{}", report.to_text());
    assert!(report.to_text().contains("open connections to the server"), "{}", report.to_text());
}

/// Two instances on one PostgreSQL database, each request sent to the next one: users log in on one instance and
/// are served by both, and the two simultaneous creates of a duplicate reach different instances. Runs only when
/// `CALLBRIDGE_TEST_POSTGRES_URL` is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_database_log_every_session_exactly_once() {
    if callbridge_host::config::test_postgres_url().is_none() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let database = Database::new(true, &scratch).await;
    let users = 6;
    let mock = Arc::new(MockPipedrive::start(0, users, Duration::from_millis(2)).await.unwrap());
    let token_key = TokenCipher::generate_key();
    let mut instances = Vec::new();
    for _ in 0..2 {
        let base_url = start_server(&database.url, &token_key, &mock.url()).await;
        instances.push(Instance { base_url, pid: None });
    }
    let config = smoke_config(users);
    let target = Target { instances, server: "callbridge".into(), database: "postgres".into() };

    let report = driver::run(&config, &target, Arc::clone(&mock)).await.unwrap();
    eprintln!("{}", report.to_text());

    assert!(report.passed() && report.errors.is_empty(), "{}", report.to_text());
    assert_eq!(report.settings.server_url.split(", ").count(), 2, "{}", report.to_text());
    let e = &report.exactly_once;
    assert!(e.logged_once > 0 && e.logged_once == e.sessions, "{}", report.to_text());
    assert!(e.create_attempts > e.sessions as u64, "duplicates were sent: {}", report.to_text());
    assert_eq!(report.crm.calls_by_endpoint["POST /api/v2/activities"], e.sessions as u64);
}
