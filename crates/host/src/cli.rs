//! The `callbridge` command line: subcommands and the settings each one reads.

use clap::{Parser, Subcommand};

use crate::compose_cmd::ComposeArgs;
use crate::connectors_cmd::ConnectorsArgs;

/// callbridge: logs RingCentral calls into CRMs, speaking App Connect's HTTP API.
#[derive(Debug, Parser)]
#[command(name = "callbridge", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compose a call-log body from one JSON object on stdin (the shape of a golden vector's `input`).
    Compose(ComposeArgs),
    /// List the registered connectors: name, display name, auth type, log format and implemented operations.
    Connectors(ConnectorsArgs),
}
