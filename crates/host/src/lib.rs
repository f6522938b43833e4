//! callbridge-host: the callbridge server as a library; `main.rs` is a thin command line over it.
//!
//! [`app`] builds the HTTP API over an [`AppState`]; [`serve`] wires configuration, the store and the registered
//! connectors together and runs it.

pub mod cli;
pub mod compose_cmd;
pub mod config;
pub mod connectors;
pub mod connectors_cmd;
pub mod crypto;
pub mod delivery;
pub mod error;
pub mod extract;
pub mod hashing;
pub mod http_server;
pub mod jobs_cmd;
pub mod jwt;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod oauth;
pub mod ringcentral;
mod routes;
pub mod serve;
pub mod services;
pub mod session;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod test_schema;

pub use state::AppState;

/// The HTTP API over `state`: every App Connect route, the connectors' own routes, and the layers around them.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}
