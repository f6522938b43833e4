//! `callbridge serve`, `callbridge migrate` and `callbridge keys rotate`: open the store, settle the secrets
//! (`keys.rs`), build the selected connectors, and serve the HTTP API until SIGTERM or SIGINT.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use callbridge_core::http::{HttpClient, HttpSettings};
use callbridge_core::{Connector, ConnectorConfig, Secret, registry};
use tokio_util::sync::CancellationToken;

use crate::config::{DatabaseArgs, ServeArgs, connector_settings, select_connectors};
use crate::http_server::{self, ConnectionLimits};
use crate::state::{AppState, Tunables};
use crate::store::Store;

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

/// Builds the registered connectors `selection` (`CALLBRIDGE_CONNECTORS`) names, with their settings from the
/// environment and one shared HTTP client.
pub fn build_connectors(public_url: &str, selection: &str) -> anyhow::Result<Vec<(Arc<dyn Connector>, HttpClient)>> {
    let descriptors = registry::all();
    let names: Vec<&str> = descriptors.iter().map(|it| it.name).collect();
    registry::validate(&names).context("the connector registry is invalid")?;
    let selected = select_connectors(selection, &names).map_err(anyhow::Error::msg)?;
    let http = HttpClient::new(&HttpSettings::default()).context("cannot build the HTTP client")?;
    let mut connectors = Vec::new();
    for descriptor in descriptors.into_iter().filter(|it| selected.contains(&it.name)) {
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

/// `callbridge keys rotate`: a new token key (stored tokens sealed again) or JWT secret; prints what it did.
pub async fn rotate_keys(args: &crate::cli::KeysArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.database.url).await.context("cannot open the database")?;
    store.migrate().await.context("database migrations failed")?;
    let summary = crate::keys::rotate(&args.secrets, &args.database.url, &store, args.rotation()).await;
    store.close().await;
    println!("{}", summary?);
    Ok(())
}

/// Opens and migrates the store, settles the secrets and builds the state for `args`.
pub async fn build_state(args: &ServeArgs) -> anyhow::Result<AppState> {
    let store = Store::connect(&args.database.url).await.context("cannot open the database")?;
    store.migrate().await.context("database migrations failed")?;
    let secrets = crate::keys::settle(&args.secrets, &args.database.url, &store).await?;
    let store = store.with_cipher(secrets.cipher);
    let public_url = args.public_url();
    let mut tunables = Tunables::default();
    tunables.delivery.max_age = Duration::from_secs(args.delivery_max_age_secs);
    tunables.delivery.lease_ttl = Duration::from_secs(args.delivery_lease_secs);
    tunables.delivery.idle_retention = Duration::from_secs(args.delivery_retention_secs);
    // The settled JWT keys (current and still-valid previous secrets) replace the builder's single-secret keys.
    let mut builder = AppState::builder(store, &Secret::default(), secrets.hash_key)
        .jwt_keys(secrets.jwt)
        .public_url(Some(public_url.clone()))
        .metrics(crate::metrics::install())
        .limits(crate::limits::Limits::from_args(&args.limits))
        .tunables(tunables);
    let ringcentral_origin = crate::config::ringcentral_origin().map_err(anyhow::Error::msg)?;
    let ringcentral_http = HttpClient::new(&HttpSettings::default()).context("cannot build the HTTP client")?;
    builder = builder.ringcentral(crate::ringcentral::RingCentral::new(ringcentral_http, ringcentral_origin));
    let mut names = BTreeMap::new();
    for (connector, http) in build_connectors(&public_url, &args.connectors)? {
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
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(args.limits.header_timeout_secs.max(1)),
        max_connections: args.limits.max_connections,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let metrics_server = match args.limits.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for metrics"))?;
            tracing::info!(addr = %listener.local_addr().unwrap_or(addr), "Metrics are served on their own address.");
            let router = crate::metrics::metrics_router(state.metrics.clone(), state.limits.metrics_token.clone());
            let metrics_limits = ConnectionLimits { max_connections: 16, ..limits };
            let mut stopped = stopped.clone();
            let until_stopped = async move {
                let _ = stopped.wait_for(|it| *it).await;
            };
            Some(tokio::spawn(http_server::serve(listener, router, metrics_limits, until_stopped)))
        }
        None => None,
    };
    let stop_delivery = CancellationToken::new();
    crate::delivery::spawn_worker(&state, stop_delivery.clone());
    let engine_state = state.clone();
    let served = http_server::serve(listener, crate::app(state), limits, shutdown_signal()).await;
    let _ = stop.send(true);
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    served.context("server error")?;
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
