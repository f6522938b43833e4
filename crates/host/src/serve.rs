//! `callbridge serve` and `callbridge migrate`: open the store, settle the secrets, build every registered
//! connector, and serve the HTTP API until SIGTERM or SIGINT.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use callbridge_core::http::{HttpClient, HttpSettings};
use callbridge_core::{Connector, ConnectorConfig, Secret, registry};
use rand::Rng as _;
use tokio_util::sync::CancellationToken;

use crate::config::{DatabaseArgs, ServeArgs, connector_settings};
use crate::crypto::TokenCipher;
use crate::state::{AppState, Tunables};
use crate::store::Store;

/// Names of the generated secrets in the store.
const JWT_SECRET: &str = "app_server_secret_key";
const HASH_KEY: &str = "hash_key";
const TOKEN_KEY: &str = "token_key";
/// How long shutdown waits for delivery runs in flight (a CRM call's timeout, roughly).
const DELIVERY_DRAIN: Duration = Duration::from_secs(30);

/// `callbridge migrate`: applies the database migrations and exits.
pub async fn migrate(args: &DatabaseArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.url).await.context("cannot open the database")?;
    store.migrate().await.context("migrations failed")?;
    tracing::info!(backend = store.backend_name(), "Database migrations applied.");
    store.close().await;
    Ok(())
}

/// A random 256-bit secret, hex-encoded.
fn random_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// A configured secret, or the stored one, generated on first start.
async fn secret(
    store: &Store,
    configured: Option<&str>,
    name: &str,
    generate: fn() -> String,
) -> anyhow::Result<String> {
    if let Some(value) = configured.map(str::trim).filter(|it| !it.is_empty()) {
        return Ok(value.to_owned());
    }
    let (value, created) =
        store.secret_or_init(name, generate).await.with_context(|| format!("cannot read or store the {name}"))?;
    if created {
        tracing::info!(secret = name, "Generated a secret and stored it in the database (set it to choose your own).");
    }
    Ok(value)
}

/// Builds every registered connector with its settings from the environment and one shared HTTP client.
pub fn build_connectors(public_url: &str) -> anyhow::Result<Vec<(Arc<dyn Connector>, HttpClient)>> {
    let descriptors = registry::all();
    let names: Vec<&str> = descriptors.iter().map(|it| it.name).collect();
    registry::validate(&names).context("the connector registry is invalid")?;
    let http = HttpClient::new(&HttpSettings::default()).context("cannot build the HTTP client")?;
    let mut connectors = Vec::new();
    for descriptor in descriptors {
        let settings = connector_settings(descriptor.name).map_err(anyhow::Error::msg)?;
        let connector_http = http
            .clone()
            .with_origin_override(settings.origin_override.clone())
            .with_observer(crate::metrics::http_observer(descriptor.name));
        let config = ConnectorConfig {
            values: settings.values,
            http: connector_http.clone(),
            public_url: Some(public_url.to_owned()),
        };
        let connector = (descriptor.build)(config)
            .map_err(|error| anyhow::anyhow!("connector `{}` does not build: {error}", descriptor.name))?;
        if let Some(origin) = &settings.origin_override {
            tracing::info!(connector = descriptor.name, %origin, "CRM requests are redirected.");
        }
        connectors.push((connector, connector_http));
    }
    Ok(connectors)
}

/// Opens and migrates the store, settles the secrets and builds the state for `args`.
pub async fn build_state(args: &ServeArgs) -> anyhow::Result<AppState> {
    let store = Store::connect(&args.database.url).await.context("cannot open the database")?;
    store.migrate().await.context("database migrations failed")?;
    let jwt_secret = secret(&store, args.jwt_secret.as_deref(), JWT_SECRET, random_secret).await?;
    let hash_key = secret(&store, args.hash_key.as_deref(), HASH_KEY, random_secret).await?;
    let token_key = secret(&store, args.token_key.as_deref(), TOKEN_KEY, TokenCipher::generate_key).await?;
    let cipher = TokenCipher::from_base64_key(&token_key).context("CALLBRIDGE_TOKEN_KEY is not a valid key")?;
    let store = store.with_cipher(cipher);
    let public_url = args.public_url();
    let mut tunables = Tunables::default();
    tunables.delivery.max_age = Duration::from_secs(args.delivery_max_age_secs);
    let mut builder = AppState::builder(store, &Secret::new(jwt_secret), Secret::new(hash_key))
        .public_url(Some(public_url.clone()))
        .metrics(crate::metrics::install())
        .tunables(tunables);
    let mut names = BTreeMap::new();
    for (connector, http) in build_connectors(&public_url)? {
        names.insert(connector.name(), connector.auth_type().as_str());
        builder = builder.connector(connector, http);
    }
    tracing::info!(connectors = ?names, "Connectors ready.");
    Ok(builder.build())
}

/// `callbridge serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let state = build_state(&args).await?;
    let store = state.store.clone();
    let listener =
        tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("cannot listen on {}", args.addr))?;
    let local_addr = listener.local_addr().unwrap_or(args.addr);
    tracing::info!(addr = %local_addr, backend = store.backend_name(), "callbridge is serving.");
    let stop_delivery = CancellationToken::new();
    crate::delivery::spawn_worker(&state, stop_delivery.clone());
    let engine_state = state.clone();
    axum::serve(listener, crate::app(state)).with_graceful_shutdown(shutdown_signal()).await.context("server error")?;
    // Stop taking new jobs; let the runs in flight finish their CRM calls. A run that outlasts the grace period
    // is parked: its lease expires and the next start (or another instance) takes the job over, looking for the
    // record first if its write was sent.
    stop_delivery.cancel();
    let tasks = engine_state.engine.tasks();
    tasks.close();
    if tokio::time::timeout(DELIVERY_DRAIN, tasks.wait()).await.is_err() {
        tracing::warn!("Delivery runs still in flight at shutdown; they resume on the next start.");
    }
    store.close().await;
    tracing::info!("callbridge stopped.");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "Cannot listen for Ctrl-C.");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "Cannot listen for SIGTERM.");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("Shutting down: finishing requests in flight.");
}
