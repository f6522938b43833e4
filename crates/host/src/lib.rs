//! callbridge-host: the callbridge server as a library; `main.rs` is a thin command line over it.

pub mod cli;
pub mod compose_cmd;
pub mod connectors;
pub mod connectors_cmd;
pub mod crypto;
pub mod store;
