//! A wiremock CRM with the `mockcrm` connector in front of it, and users seeded straight into the store.

use axum::Router;
use callbridge_core::{Secret, User};
use callbridge_host::state::AppState;
use chrono::{DateTime, Utc};
use wiremock::MockServer;

use crate::mock_crm::MockCrm;
use crate::reset_proxy::ResetProxy;
use callbridge_host::state::Tunables;

use crate::support::{Backend, TestDb, sandbox, state_tuned, state_with, test_http, test_tunables};

pub struct OAuthEnv {
    pub server: MockServer,
    pub db: TestDb,
    pub state: AppState,
    pub app: Router,
    /// Between the connector and the mock when the env was built [`OAuthEnv::behind_reset_proxy`].
    pub reset_proxy: Option<ResetProxy>,
}

/// How the connector reaches the mock.
enum CrmLink {
    Direct,
    ThroughResetProxy,
}

impl OAuthEnv {
    pub async fn new(backend: Backend) -> OAuthEnv {
        Self::build(backend, false, true, test_http(), CrmLink::Direct, test_tunables()).await
    }

    /// With a [`ResetProxy`] between the connector and the mock, so a test can have the CRM make a record and
    /// then reset the connection.
    pub async fn behind_reset_proxy(backend: Backend) -> OAuthEnv {
        Self::build(backend, false, true, test_http(), CrmLink::ThroughResetProxy, test_tunables()).await
    }

    /// With a `mockcrm` that refreshes tokens itself.
    pub async fn with_own_refresh(backend: Backend) -> OAuthEnv {
        Self::build(backend, true, true, test_http(), CrmLink::Direct, test_tunables()).await
    }

    /// An instance whose delivery worker never runs: it stands for one that is about to die.
    pub async fn without_worker(backend: Backend) -> OAuthEnv {
        Self::build(backend, false, false, test_http(), CrmLink::Direct, test_tunables()).await
    }

    /// With a `mockcrm` whose client gives up on a CRM answer after `timeout`.
    pub async fn with_crm_timeout(backend: Backend, timeout: std::time::Duration) -> OAuthEnv {
        let settings = callbridge_core::http::HttpSettings {
            retry: callbridge_core::http::RetryPolicy { max_attempts: 1, ..Default::default() },
            request_timeout: timeout,
            ..Default::default()
        };
        let http = callbridge_core::http::HttpClient::new(&settings).unwrap();
        Self::build(backend, false, true, http, CrmLink::Direct, test_tunables()).await
    }

    /// With delivery leases that expire after `ttl` unless renewed.
    pub async fn with_lease_ttl(backend: Backend, ttl: std::time::Duration) -> OAuthEnv {
        let mut tunables = test_tunables();
        tunables.delivery.lease_ttl = ttl;
        Self::build(backend, false, true, test_http(), CrmLink::Direct, tunables).await
    }

    async fn build(
        backend: Backend,
        own_refresh: bool,
        worker: bool,
        http: callbridge_core::http::HttpClient,
        link: CrmLink,
        tunables: Tunables,
    ) -> OAuthEnv {
        let server = MockServer::start().await;
        let reset_proxy = match link {
            CrmLink::Direct => None,
            CrmLink::ThroughResetProxy => Some(ResetProxy::start(&server.uri()).await),
        };
        let crm = reset_proxy.as_ref().map_or_else(|| server.uri(), |proxy| proxy.uri().to_owned());
        let db = TestDb::new(backend).await;
        // As `serve` builds connectors: their client reports every CRM request to the metrics.
        let http = http.with_observer(callbridge_host::metrics::http_observer("mockcrm"));
        let mock = if own_refresh { MockCrm::with_own_refresh(http, &crm) } else { MockCrm::connector(http, &crm) };
        let store = db.store().await;
        let state = state_tuned(store, vec![mock, sandbox()], tunables);
        if worker {
            callbridge_host::delivery::spawn_worker(&state, tokio_util::sync::CancellationToken::new());
        }
        let app = callbridge_host::app(state.clone());
        OAuthEnv { server, db, state, app, reset_proxy }
    }

    /// Another server instance on the same database: its own store pool, its own in-process locks.
    pub async fn second_instance(&self) -> (AppState, Router) {
        let state = state_with(self.db.store().await, vec![MockCrm::connector(test_http(), &self.server.uri())]);
        let app = callbridge_host::app(state.clone());
        (state, app)
    }

    /// Stores a `mockcrm` user with the given tokens and returns its id and a session token.
    pub async fn seed_user(&self, access: &str, refresh: &str, expiry: DateTime<Utc>) -> (String, String) {
        let id = format!("{}-mockcrm", uuid::Uuid::new_v4().simple());
        let user = User {
            id: id.clone(),
            platform: "mockcrm".to_owned(),
            hostname: "crm.test".to_owned(),
            access_token: Secret::new(access),
            refresh_token: Some(Secret::new(refresh)),
            token_expiry: Some(expiry),
            ..User::default()
        };
        self.state.store.upsert_user(&user).await.unwrap();
        let jwt = self.state.jwt.issue(&id, Some("mockcrm"), None).unwrap();
        (id, jwt)
    }
}

/// A token that is valid for another hour.
pub fn in_an_hour() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::hours(1)
}

/// A token that expired an hour ago.
pub fn an_hour_ago() -> DateTime<Utc> {
    Utc::now() - chrono::Duration::hours(1)
}
