//! The `callbridge` command line: subcommands and the settings each one reads.

use clap::{Parser, Subcommand};

use crate::compose_cmd::ComposeArgs;
use crate::config::{DatabaseArgs, LogFormatArg, ServeArgs};
use crate::connectors_cmd::ConnectorsArgs;
use crate::jobs_cmd::JobsArgs;

/// callbridge: logs RingCentral calls into CRMs, speaking App Connect's HTTP API.
///
/// Connector settings come from the environment: `CALLBRIDGE_<NAME>_<KEY>` (or App Connect's `<NAME>_<KEY>`),
/// e.g. `PIPEDRIVE_CLIENT_ID`, `PIPEDRIVE_CLIENT_SECRET`; `CALLBRIDGE_<NAME>_BASE_URL` sends every request of that
/// connector to another origin (a mock or a CRM sandbox).
#[derive(Debug, Parser)]
#[command(name = "callbridge", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve App Connect's HTTP API for every registered connector (zero configuration: SQLite file, generated
    /// secrets).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(MigrateArgs),
    /// Compose a call-log body from one JSON object on stdin (the shape of a golden vector's `input`).
    Compose(ComposeArgs),
    /// List the registered connectors: name, display name, auth type, log format and implemented operations.
    Connectors(ConnectorsArgs),
    /// The delivery queue: list pending and failed jobs, retry or drop one.
    Jobs(JobsArgs),
}

/// Settings of `callbridge migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Which log lines to write, as a tracing filter.
    #[arg(long = "log", env = "CALLBRIDGE_LOG", default_value = "info")]
    pub log_filter: String,

    /// The log line format.
    #[arg(long = "log-format", env = "CALLBRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Text)]
    pub log_format: LogFormatArg,
}
