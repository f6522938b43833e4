//! `callbridge-load` (run as `cargo xtask load`): puts an App Connect-compatible server under a call-logging load
//! against a mock Pipedrive and reports throughput, latency, errors, memory and the exactly-once verdict.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use callbridge_tests::load::driver::{self, Instance, LoadConfig, Mix, Outage, Target};
use callbridge_tests::load::mock::MockPipedrive;
use callbridge_tests::load::server::{self, ServerOptions};
use clap::Parser;

/// Load generator for callbridge (or any App Connect-compatible server) with a mock Pipedrive.
///
/// By default it builds `callbridge` in release mode, starts it on a fresh SQLite file (or --instances of it on one
/// PostgreSQL database) with the pipedrive connector pointed at an in-process mock Pipedrive, logs in --users users
/// through GET /oauth-callback, then runs a mix of contact lookups, call-log creates (a few of them duplicates),
/// updates and reads. At the end it reads every session back and fails (exit code 1) unless each one is exactly one
/// CRM activity and one logged session.
#[derive(Debug, Parser)]
#[command(name = "callbridge-load", version)]
struct Args {
    /// Users to log in; each has at most one request in flight.
    #[arg(long, default_value_t = 100)]
    users: usize,

    /// Concurrent clients (closed loop: each sends its next request when the previous one is answered).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,

    /// Seconds of measured load.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,

    /// Seconds of load before the measured window (not counted).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,

    /// Requests per second, open loop (scheduled by time; latency counts from the scheduled start). In-flight
    /// requests are then bounded by --users instead of --concurrency.
    #[arg(long)]
    rate: Option<f64>,

    /// The mock CRM's delay before each answer, in milliseconds.
    #[arg(long, default_value_t = 20)]
    crm_delay_ms: u64,

    /// Operation weights, e.g. `contact=25,create=25,update=20,get=25,duplicate=5`.
    #[arg(long, default_value = "contact=25,create=25,update=20,get=25,duplicate=5", value_parser = parse_mix)]
    mix: Mix,

    /// A PostgreSQL URL for the server's database (default: a fresh SQLite file). Sessions are unique per run, so
    /// an existing database can be reused.
    #[arg(long)]
    database_url: Option<String>,

    /// Server instances to start on the one PostgreSQL database of --database-url, with the same secrets; requests
    /// go to them in turn, as a round-robin load balancer sends them.
    #[arg(long, default_value_t = 1, conflicts_with = "server")]
    instances: usize,

    /// Drive an App Connect-compatible server already running at this URL instead of starting callbridge. Point its
    /// Pipedrive connector at the mock (see --mock-port) before the run.
    #[arg(long)]
    server: Option<String>,

    /// The pid of the --server process, for its memory and CPU figures.
    #[arg(long, requires = "server")]
    server_pid: Option<u32>,

    /// Use this callbridge binary instead of building one with `cargo build --release`.
    #[arg(long, conflicts_with = "server")]
    server_bin: Option<PathBuf>,

    /// The mock Pipedrive's port (0 = any free port; give one when an external server must be pointed at it).
    #[arg(long, default_value_t = 0)]
    mock_port: u16,

    /// The server's log filter.
    #[arg(long, default_value = "warn")]
    log: String,

    /// Seconds before a request counts as timed out.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,

    /// Seconds of CRM outage during the measured window: every Pipedrive data call is answered 503 with
    /// `Retry-After`. The run then waits for every accepted create and update to reach the CRM and reports how long
    /// that took.
    #[arg(long)]
    outage: Option<f64>,

    /// Seconds into the measured window at which the outage starts.
    #[arg(long, default_value_t = 5.0, requires = "outage")]
    outage_start: f64,

    /// Seconds to wait after the load for accepted creates and updates to reach the CRM.
    #[arg(long, default_value_t = 600.0)]
    settle_timeout: f64,

    /// Give each user a connection of its own, kept open between its requests, as each user's browser holds one
    /// (by default all users share one pool, about as many connections as requests in flight). With --users 1000
    /// the server holds 1,000 open connections while --concurrency of them are busy.
    #[arg(long)]
    connection_per_user: bool,

    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn parse_mix(text: &str) -> Result<Mix, String> {
    let mut mix = Mix { contact: 0, create: 0, update: 0, get: 0, duplicate: 0 };
    for part in text.split(',').filter(|part| !part.trim().is_empty()) {
        let (name, weight) = part.split_once('=').ok_or_else(|| format!("`{part}` is not name=weight"))?;
        let weight: u32 = weight.trim().parse().map_err(|_| format!("`{weight}` is not a whole number"))?;
        let slot = match name.trim() {
            "contact" => &mut mix.contact,
            "create" => &mut mix.create,
            "update" => &mut mix.update,
            "get" => &mut mix.get,
            "duplicate" => &mut mix.duplicate,
            other => return Err(format!("unknown operation `{other}` (contact, create, update, get, duplicate)")),
        };
        *slot = weight;
    }
    if mix.contact + mix.create + mix.update + mix.get + mix.duplicate == 0 {
        return Err("the mix needs at least one operation with a weight above 0".into());
    }
    Ok(mix)
}

fn seconds(value: f64, name: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| anyhow::anyhow!("--{name} must be a non-negative number of seconds"))
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let config = LoadConfig {
        users: args.users,
        concurrency: args.concurrency,
        duration: seconds(args.duration, "duration")?,
        warmup: seconds(args.warmup, "warmup")?,
        rate: args.rate,
        request_timeout: seconds(args.timeout, "timeout")?,
        mix: args.mix,
        outage: match args.outage {
            Some(length) => {
                Some(Outage { start: seconds(args.outage_start, "outage-start")?, length: seconds(length, "outage")? })
            }
            None => None,
        },
        settle_timeout: seconds(args.settle_timeout, "settle-timeout")?,
        connection_per_user: args.connection_per_user,
    };
    if config.duration.is_zero() {
        bail!("--duration must be above 0");
    }
    server::check_instances(args.instances, args.database_url.as_deref())?;
    let mock =
        Arc::new(MockPipedrive::start(args.mock_port, args.users, Duration::from_millis(args.crm_delay_ms)).await?);
    eprintln!("callbridge-load: mock Pipedrive listening on {}", mock.url());

    let mut spawned = Vec::new();
    let target = match &args.server {
        Some(url) => Target {
            instances: vec![Instance { base_url: url.trim_end_matches('/').to_owned(), pid: args.server_pid }],
            server: "external".into(),
            database: "unknown".into(),
        },
        None => {
            let binary = match &args.server_bin {
                Some(binary) => binary.clone(),
                None => tokio::task::spawn_blocking(server::build_release_server).await??,
            };
            let options = ServerOptions {
                binary,
                database_url: args.database_url.clone(),
                crm_url: mock.url(),
                log_filter: args.log.clone(),
            };
            spawned = server::start_instances(&options, args.instances).await.context("starting callbridge serve")?;
            let mut instances = Vec::new();
            for server in &spawned {
                eprintln!("callbridge-load: callbridge serve (pid {}) at {}", server.pid(), server.base_url());
                instances.push(Instance { base_url: server.base_url().to_owned(), pid: Some(server.pid()) });
            }
            let database = spawned.first().map_or("unknown", |server| server.database());
            Target { instances, server: "callbridge".into(), database: database.into() }
        }
    };
    eprintln!(
        "callbridge-load: {} users, {}, {:.0} s after {:.0} s warm-up",
        config.users,
        match config.rate {
            Some(rate) => format!("{rate} requests/s"),
            None => format!("{} concurrent clients", config.concurrency),
        },
        config.duration.as_secs_f64(),
        config.warmup.as_secs_f64()
    );
    let outcome = driver::run(&config, &target, Arc::clone(&mock)).await;
    // The servers' logs explain a failed run or check, and go with their scratch directories when they stop.
    if !outcome.as_ref().is_ok_and(|report| report.passed()) {
        for server in &spawned {
            eprintln!(
                "callbridge-load: the log of the server at {} ends with:\n{}",
                server.base_url(),
                server.log_tail()
            );
        }
    }
    for server in spawned {
        server.stop().await?;
    }
    let report = outcome?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    if !report.passed() {
        eprintln!("\n{}", report.exactly_once.failure_message());
    }
    Ok(report.passed())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("callbridge-load: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("callbridge-load: {error:#}");
            ExitCode::from(2)
        }
    }
}
