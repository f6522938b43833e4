//! `AppState`: what every request handler shares: the store, the connectors, the keys and the coordination
//! structures (in-process refresh locks), built once at start-up (or by a test with any connectors it likes).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use callbridge_core::Connector;
use callbridge_core::Secret;
use callbridge_core::http::HttpClient;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::delivery::{DeliverySettings, Engine};
use crate::jwt::JwtKeys;
use crate::ringcentral::RingCentral;
use crate::services::auth_context::RefreshLocks;
use crate::store::Store;

/// Timings of the coordination protocols; tests shorten them.
#[derive(Clone, Debug)]
pub struct Tunables {
    /// How long a refresh lease is valid; a crashed holder's lease is taken over after this.
    pub refresh_lease_ttl: Duration,
    /// How long a request waits for another instance's token refresh before giving up.
    pub refresh_wait_limit: Duration,
    /// How long a note cached with `POST /callLog/cacheNote` is kept.
    pub note_cache_ttl: Duration,
    /// The delivery engine's timings.
    pub delivery: DeliverySettings,
}

impl Default for Tunables {
    fn default() -> Self {
        Self {
            // Longer than one token request can take (30 s request timeout), so a slow refresh keeps its lease.
            refresh_lease_ttl: Duration::from_secs(40),
            // Longer than the lease, so waiters outlast a crashed holder's lease and then refresh themselves.
            refresh_wait_limit: Duration::from_secs(45),
            note_cache_ttl: Duration::from_secs(3600),
            delivery: DeliverySettings::default(),
        }
    }
}

/// A connector and the HTTP client it was built with (the host reuses it for the OAuth token endpoint).
#[derive(Clone)]
pub struct ConnectorEntry {
    pub connector: Arc<dyn Connector>,
    pub http: HttpClient,
    /// The name users read in messages (`displayName` of the connector's manifest entry, else its name).
    pub display_name: String,
}

/// The shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

pub struct StateInner {
    pub store: Store,
    pub connectors: BTreeMap<&'static str, Arc<dyn Connector>>,
    entries: BTreeMap<&'static str, ConnectorEntry>,
    pub jwt: JwtKeys,
    pub hash_key: Secret,
    /// `CALLBRIDGE_PUBLIC_URL`: the manifest's `serverUrl`.
    pub public_url: Option<String>,
    /// This process's name in refresh leases.
    pub instance_id: String,
    pub refresh_locks: RefreshLocks,
    pub metrics: Option<PrometheusHandle>,
    pub tunables: Tunables,
    /// Body, storage and rate limits, and who may read `/metrics`.
    pub limits: crate::limits::Limits,
    /// The delivery engine's in-process parts (waiting requests, runs in flight).
    pub engine: Engine,
    /// RingCentral's API (admin checks, the account's extensions); `None` (nobody is an admin) unless configured.
    pub ringcentral: Option<RingCentral>,
}

impl Deref for AppState {
    type Target = StateInner;

    fn deref(&self) -> &StateInner {
        &self.inner
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("connectors", &self.connectors.keys().collect::<Vec<_>>())
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn builder(store: Store, jwt_secret: &Secret, hash_key: Secret) -> AppStateBuilder {
        AppStateBuilder {
            store,
            jwt: JwtKeys::new(jwt_secret.expose().as_bytes()),
            hash_key,
            entries: BTreeMap::new(),
            public_url: None,
            instance_id: uuid::Uuid::new_v4().to_string(),
            metrics: None,
            tunables: Tunables::default(),
            limits: crate::limits::Limits::default(),
            ringcentral: None,
        }
    }

    /// The connector registered under `platform`.
    pub fn connector(&self, platform: &str) -> Option<&ConnectorEntry> {
        self.entries.get(platform)
    }
}

pub struct AppStateBuilder {
    store: Store,
    jwt: JwtKeys,
    hash_key: Secret,
    entries: BTreeMap<&'static str, ConnectorEntry>,
    public_url: Option<String>,
    instance_id: String,
    metrics: Option<PrometheusHandle>,
    tunables: Tunables,
    limits: crate::limits::Limits,
    ringcentral: Option<RingCentral>,
}

impl AppStateBuilder {
    /// Adds a connector with the HTTP client it uses (for the OAuth token endpoint).
    pub fn connector(mut self, connector: Arc<dyn Connector>, http: HttpClient) -> Self {
        let manifest = connector.manifest();
        let display_name =
            Some(manifest.display_name).filter(|it| !it.is_empty()).unwrap_or_else(|| connector.name().to_owned());
        self.entries.insert(connector.name(), ConnectorEntry { connector, http, display_name });
        self
    }

    pub fn public_url(mut self, public_url: Option<String>) -> Self {
        self.public_url = public_url;
        self
    }

    pub fn instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_id = instance_id.into();
        self
    }

    pub fn metrics(mut self, metrics: Option<PrometheusHandle>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Replaces the session-token keys (a key file's current and previous JWT secrets).
    pub fn jwt_keys(mut self, jwt: JwtKeys) -> Self {
        self.jwt = jwt;
        self
    }

    pub fn tunables(mut self, tunables: Tunables) -> Self {
        self.tunables = tunables;
        self
    }

    pub fn limits(mut self, limits: crate::limits::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The RingCentral API to check admins with; without one, nobody is an admin (`serve` always sets it).
    pub fn ringcentral(mut self, ringcentral: RingCentral) -> Self {
        self.ringcentral = Some(ringcentral);
        self
    }

    pub fn build(self) -> AppState {
        let connectors = self.entries.iter().map(|(name, entry)| (*name, entry.connector.clone())).collect();
        AppState {
            inner: Arc::new(StateInner {
                store: self.store,
                connectors,
                entries: self.entries,
                jwt: self.jwt,
                hash_key: self.hash_key,
                public_url: self.public_url,
                instance_id: self.instance_id,
                refresh_locks: RefreshLocks::default(),
                metrics: self.metrics,
                tunables: self.tunables,
                limits: self.limits,
                engine: Engine::default(),
                ringcentral: self.ringcentral,
            }),
        }
    }
}
