//! Building and starting `callbridge serve` for a load run: a release build, a free port, a fresh SQLite file (or
//! the PostgreSQL database given, which several instances may share), the pipedrive connector pointed at the mock,
//! and logs in a file beside the database so a failed start can be explained.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::Rng as _;
use tokio::process::{Child, Command};

/// The OAuth app credentials the server is given; the mock accepts any.
pub const CLIENT_ID: &str = "callbridge-load-client";
pub const CLIENT_SECRET: &str = "callbridge-load-secret";

/// The workspace root, where `cargo build` runs.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Builds the server in release mode and returns the binary's path.
pub fn build_release_server() -> anyhow::Result<PathBuf> {
    eprintln!("callbridge-load: building the server (cargo build --release -p callbridge-host --bin callbridge)");
    build_server(&["--release"], "release")
}

/// Builds the server as `cargo test` builds everything else (debug), for end-to-end tests; returns its path.
pub fn build_debug_server() -> anyhow::Result<PathBuf> {
    build_server(&["--quiet"], "debug")
}

fn build_server(flags: &[&str], profile_dir: &str) -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    #[expect(clippy::disallowed_methods, reason = "build tooling finds cargo and its target folder")]
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .arg("build")
        .args(flags)
        .args(["-p", "callbridge-host", "--bin", "callbridge"])
        .current_dir(&root)
        .status()
        .context("cannot run cargo to build the server")?;
    if !status.success() {
        bail!("building the server failed ({status})");
    }
    #[expect(clippy::disallowed_methods, reason = "build tooling finds cargo and its target folder")]
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let binary = target_dir.join(profile_dir).join(format!("callbridge{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        bail!("the build finished but {} does not exist", binary.display());
    }
    Ok(binary)
}

/// How to start the server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub binary: PathBuf,
    /// `postgres://...`; `None` uses a fresh SQLite file in a temporary directory.
    pub database_url: Option<String>,
    /// The mock CRM's origin (`CALLBRIDGE_PIPEDRIVE_BASE_URL`, `CALLBRIDGE_INSIGHTLY_BASE_URL`).
    pub crm_url: String,
    /// The server's tracing filter (`CALLBRIDGE_LOG`).
    pub log_filter: String,
}

/// Checks `--instances` against the database: instances share state only through PostgreSQL, and SQLite is one
/// instance by design (one writer, in one process).
pub fn check_instances(instances: usize, database_url: Option<&str>) -> anyhow::Result<()> {
    if instances == 0 {
        bail!("--instances must be at least 1");
    }
    if instances > 1 && !database_url.is_some_and(|url| url.starts_with("postgres")) {
        bail!(
            "--instances {instances} needs --database-url postgres://...: several instances share one PostgreSQL \
             database (SQLite is one instance by design)"
        );
    }
    Ok(())
}

/// Starts `count` servers on one database. Several get the same secrets, generated for this run, so that a session
/// token one signs is valid on the others and a CRM token one seals the others open: left to themselves, each would
/// generate its own into `./callbridge.keys` in its own scratch directory. One server is started as before.
pub async fn start_instances(options: &ServerOptions, count: usize) -> anyhow::Result<Vec<SpawnedServer>> {
    if count == 1 {
        return Ok(vec![SpawnedServer::start(options).await?]);
    }
    let random = || BASE64.encode(rand::rng().random::<[u8; 32]>());
    let secrets = [("APP_SERVER_SECRET_KEY", random()), ("HASH_KEY", random()), ("CALLBRIDGE_TOKEN_KEY", random())];
    let env: Vec<(&str, &str)> = secrets.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        servers.push(SpawnedServer::start_with_env(options, &env).await?);
    }
    Ok(servers)
}

/// A running `callbridge serve`; dropping it kills the process and removes its temporary files.
#[derive(Debug)]
pub struct SpawnedServer {
    child: Child,
    pid: u32,
    base_url: String,
    log_path: PathBuf,
    database: &'static str,
    _scratch: tempfile::TempDir,
}

/// How many ports a start tries when another process takes the free port first.
const START_ATTEMPTS: u32 = 5;

/// Why a start did not come up.
enum Start {
    /// The port was taken between [`free_port`] and the server's bind.
    PortTaken,
    Failed(anyhow::Error),
}

/// Waits until the server answers `/isAlive` (at most a minute: migrations run first).
async fn wait_until_alive(child: &mut Child, base_url: &str, log_path: &Path) -> Result<(), Start> {
    let http = crate::load::driver::http_client(Duration::from_secs(2)).map_err(Start::Failed)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().map_err(|error| Start::Failed(error.into()))? {
            let log = tail(log_path);
            if log.contains("Address already in use") {
                return Err(Start::PortTaken);
            }
            return Err(Start::Failed(anyhow::anyhow!(
                "the server exited during start-up ({status}); its log:\n{log}"
            )));
        }
        if let Ok(response) = http.get(format!("{base_url}/isAlive")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Start::Failed(anyhow::anyhow!(
                "the server did not answer /isAlive within a minute; its log:\n{}",
                tail(log_path)
            )));
        }
        // sleep-ok: poll interval of a start-up wait bounded by the deadline
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A free local port (the listener is dropped just before the server binds it).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

impl SpawnedServer {
    /// Starts the server and waits until `/isAlive` answers (at most a minute: migrations run first).
    pub async fn start(options: &ServerOptions) -> anyhow::Result<Self> {
        Self::start_with_env(options, &[]).await
    }

    /// As [`SpawnedServer::start`], with more environment variables (another connector's origin and OAuth app).
    pub async fn start_with_env(options: &ServerOptions, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let scratch = tempfile::Builder::new().prefix("callbridge-load-").tempdir()?;
        let (database_url, database) = match &options.database_url {
            Some(url) if url.starts_with("postgres") => (url.clone(), "postgres"),
            Some(url) => (url.clone(), "sqlite"),
            None => (scratch.path().join("load.db").display().to_string(), "sqlite"),
        };
        let log_path = scratch.path().join("server.log");
        // The binary binds the port itself, so another process can take it between `free_port` and the bind (an
        // outgoing connection's local port comes from the same range): then it starts again on another port.
        let mut attempt = 1;
        let (child, pid, base_url) = loop {
            let port = free_port()?;
            let log = std::fs::File::create(&log_path)?;
            // The server runs in the scratch directory, so a relative binary path must be made absolute first.
            let binary = std::path::absolute(&options.binary)?;
            let mut command = Command::new(&binary);
            command
                .arg("serve")
                .env("CALLBRIDGE_ADDR", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", &database_url)
                .env("CALLBRIDGE_LOG", &options.log_filter)
                .env("CALLBRIDGE_PIPEDRIVE_BASE_URL", &options.crm_url)
                .env("CALLBRIDGE_INSIGHTLY_BASE_URL", &options.crm_url)
                .env("PIPEDRIVE_CLIENT_ID", CLIENT_ID)
                .env("PIPEDRIVE_CLIENT_SECRET", CLIENT_SECRET)
                // A load run is one client sending as fast as it can: the rate limits would measure themselves.
                .env("CALLBRIDGE_RATE_LIMIT_IP", "0")
                .env("CALLBRIDGE_RATE_LIMIT_USER", "0")
                .envs(env.iter().copied())
                .current_dir(scratch.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .kill_on_drop(true);
            let mut child = command.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
            let pid = child.id().context("the server exited at once")?;
            let base_url = format!("http://127.0.0.1:{port}");
            match wait_until_alive(&mut child, &base_url, &log_path).await {
                Ok(()) => break (child, pid, base_url),
                Err(Start::PortTaken) if attempt < START_ATTEMPTS => attempt += 1,
                Err(Start::PortTaken) => bail!("{START_ATTEMPTS} free ports were taken before the server bound them"),
                Err(Start::Failed(error)) => return Err(error),
            }
        };
        Ok(Self { child, pid, base_url, log_path, database, _scratch: scratch })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `sqlite` or `postgres`.
    pub fn database(&self) -> &'static str {
        self.database
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        tail(&self.log_path)
    }

    /// Kills the server at once (SIGKILL), as a crash would, and waits until it is gone.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Asks the server to shut down (SIGTERM) and waits a few seconds before killing it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let asked = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if asked && tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_ok() {
            return Ok(());
        }
        self.child.kill().await?;
        Ok(())
    }
}

/// The last 40 lines of a log file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
