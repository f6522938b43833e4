//! The `callbridge` command line: subcommands and the settings each one reads.

use clap::{Parser, Subcommand};

use crate::compose_cmd::ComposeArgs;
use crate::config::{DatabaseArgs, LogFormatArg, SecretArgs, ServeArgs};
use crate::connectors_cmd::ConnectorsArgs;
use crate::jobs_cmd::JobsArgs;
use crate::keys::Rotation;

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

#[expect(clippy::large_enum_variant, reason = "parsed once at start-up: the largest variant's size costs nothing")]
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
    /// Manage the server's secrets (see docs/security.md).
    #[command(subcommand)]
    Keys(KeysCommand),

    /// The delivery queue: list pending and failed jobs, retry or drop one.
    Jobs(JobsArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate the token key: a new key seals from now on and every stored CRM token is sealed again under it (old
    /// keys stay in the key file, so nothing becomes unreadable). With `--jwt`, rotate the session-token secret
    /// instead: tokens signed with the old one stay valid until they expire, or, with `--cut-over`, are refused at
    /// once. Restart every instance afterwards.
    Rotate(KeysArgs),
}

/// Settings of `callbridge keys rotate`.
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub secrets: SecretArgs,

    /// Rotate the JWT secret instead of the token key.
    #[arg(long)]
    pub jwt: bool,

    /// With `--jwt`: refuse tokens signed with older secrets at once (every user logs in again).
    #[arg(long, requires = "jwt")]
    pub cut_over: bool,
}

impl KeysArgs {
    pub fn rotation(&self) -> Rotation {
        match (self.jwt, self.cut_over) {
            (false, _) => Rotation::TokenKey,
            (true, false) => Rotation::JwtSecret,
            (true, true) => Rotation::JwtSecretCutOver,
        }
    }
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
