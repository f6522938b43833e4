//! The store: everything callbridge keeps in its database, on SQLite (the embedded default) or PostgreSQL (when
//! several instances share one database).
//!
//! Both back ends run the same SQL wherever the dialects agree (both understand `$N` placeholders and `INSERT ... ON
//! CONFLICT ... DO UPDATE ... WHERE`), so they behave the same. The delivery engine's batched enqueue and completion
//! are the exception in form, not in content: PostgreSQL runs their statements inside a function each (migration 0005),
//! one round trip per batch instead of one per statement (`jobs.rs`, `postgres_batches.rs`), and SQLite runs them
//! outside sqlx, on a thread that owns a connection of its own and writes the enqueues and completions submitted
//! meanwhile in one transaction (`sqlite_batches.rs`). SQLite's reads on nearly every request's path skip sqlx too
//! (`sqlite_reads.rs`): sqlx hands each statement to a thread of its own, which cost more than the statements.
//! Coordination between instances is done by the database alone: every "only one may win" decision (delivery-job
//! leases, refresh leases, generated secrets) is a single atomic statement whose affected-row count says who won,
//! never a read followed by a write.
//!
//! The schema lives in `migrations/sqlite` and `migrations/postgres`, embedded at build time. The two folders
//! describe the same tables and change together. A migration that has run anywhere is never edited (sqlx records
//! its checksum and refuses a changed one): a change is a new numbered file in both folders.
//!
//! Times are stored as UTC epoch milliseconds. Times that instances compare with each other's (lease and note
//! expiry) follow the database's clock on PostgreSQL, so the instances' own clocks need not agree: each instance
//! samples how far the database's clock is ahead of its own every [`CLOCK_SAMPLE_EVERY`] and adds that, rather
//! than asking the database for the time before every write; a SQLite file has one machine, whose clock serves.

mod admin_configs;
mod call_logs;
mod jobs;
mod message_logs;
mod note_cache;
mod postgres_batches;
mod refresh_leases;
mod secrets;
mod sessions;
mod sqlite_batches;
mod sqlite_reads;
mod users;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::MigrateError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use admin_configs::AdminConfig;
pub use call_logs::{CallLogKey, CallLogRow};
pub use jobs::{
    CompletedCallLog, Completion, Enqueue, Enqueued, JobFilter, JobKind, JobOp, JobState, JobSubject, JobSummary,
    LeasedJob, NewOp, OpKind, Then, backing_off,
};
pub use message_logs::MessageLogRow;
pub use users::{ResealReport, SealedUser, SettingsChange};

use crate::crypto::{CryptoError, TokenCipher};

/// How long a SQLite writer waits for another writer before giving up with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// SQLite allows one writer at a time (this process's writes go through one connection of its own, taken in
/// turn: [`Store::sqlite_writer`]), so the pool is for concurrent readers in WAL mode, and a few are enough for
/// the cores there are to run them. Each connection is a thread of sqlx's with its own malloc arena, page cache and
/// prepared statements, about 1.3 MiB resident once warm: 8 connections peaked 5 MiB above 4 in a 1,000-connection
/// load run, with no throughput change visible at 64 clients; the cost is fewer reads at once when far more
/// requests than cores are waiting (docs/performance.md, "1,000 open connections"). The request path's reads on the
/// calling thread have connections of their own, one per runtime thread (`sqlite_reads.rs`).
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// Each SQLite connection's page cache, in KiB (`PRAGMA cache_size` takes a negative number as KiB). SQLite's
/// default, 2,000 KiB, fills as the file grows, so the 4 caches would end at 8 MiB; 512 KiB (128 pages) still
/// holds the upper levels of the indexes every request walks, and a page that misses is read from the
/// operating system's file cache (a `pread`, microseconds) rather than from disk.
const SQLITE_CACHE_KIB: i64 = 512;
/// How long an account's admin configuration is served from memory.
pub const ADMIN_CONFIG_TTL: Duration = Duration::from_secs(5);
/// How long each transaction of the delivery engine's batched writes took, from its turn to its commit, by back end
/// (`backend` = `sqlite` or `postgres`): every create and update waits for two of them, so a slow disk or database
/// shows here first.
pub const STORE_BATCH_DURATION: &str = "callbridge_store_batch_duration_seconds";
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// How many times a SQLite migration is tried when another instance migrates the same file at the same time.
const SQLITE_MIGRATE_ATTEMPTS: u32 = 5;
/// How long a caller waits for a free pooled connection before the request fails (rather than hangs).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// From the SQLite connections the store drives itself, not through sqlx (`sqlite_batches.rs`,
    /// `sqlite_reads.rs`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database file: {0}")]
    Io(#[from] std::io::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] MigrateError),
    #[error("token encryption: {0}")]
    Crypto(#[from] CryptoError),
    #[error("no token cipher configured: CRM tokens can be neither stored nor read")]
    NoCipher,
    #[error("unsupported database url (expected sqlite:<path>, a file path, or postgres://...): {0}")]
    UnsupportedUrl(String),
    #[error("user {0} not found")]
    UserNotFound(String),
    /// A delivery job's lease expired and another runner took the job over.
    #[error("delivery job {0} is leased by another runner")]
    LeaseLost(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("invalid JSON in {column}: {source}")]
    Json { column: &'static str, source: serde_json::Error },
    #[error("stored {0} is out of range")]
    CorruptValue(&'static str),
    #[error("gave up after {0} attempts: the row kept changing under us")]
    Contended(u32),
    /// A write batched with others failed for all of them; the text is the first failure's.
    #[error("a batched write failed: {0}")]
    Batch(String),
}

/// How often an instance samples the PostgreSQL clock's lead over its own.
const CLOCK_SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// The database clock's lead over this machine's in milliseconds, and this machine's time when it was sampled
/// (0: never).
#[derive(Debug, Default)]
struct ClockOffset {
    lead_ms: std::sync::atomic::AtomicI64,
    sampled_at_ms: std::sync::atomic::AtomicI64,
}

impl ClockOffset {
    /// PostgreSQL's shared clock ([`Store::shared_now`]): this machine's clock plus the lead, sampled again when the
    /// last sample is [`CLOCK_SAMPLE_EVERY`] old.
    async fn now_ms(&self, pool: &PgPool) -> Result<i64, StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        let local = now_ms();
        if local.saturating_sub(self.sampled_at_ms.load(Relaxed)) < duration_ms(CLOCK_SAMPLE_EVERY) {
            return Ok(local.saturating_add(self.lead_ms.load(Relaxed)));
        }
        let before = now_ms();
        let database: i64 = sqlx::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
            .fetch_one(pool)
            .await?;
        let after = now_ms();
        let lead = database.saturating_sub(before + (after - before) / 2);
        self.lead_ms.store(lead, Relaxed);
        self.sampled_at_ms.store(after, Relaxed);
        Ok(after.saturating_add(lead))
    }
}

/// The database connection pool (one per back end) and the cipher for credentials.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    cipher: Option<TokenCipher>,
    /// The database clock's lead over this machine's (PostgreSQL); see [`Store::shared_now_ms`].
    clock: std::sync::Arc<ClockOffset>,
    /// Admin configurations read recently (see [`Store::admin_config`]).
    admin_configs: moka::future::Cache<String, Option<AdminConfig>>,
    /// PostgreSQL's writers of the delivery engine's batches ([`Store::enqueue_batched`]); SQLite's batch writer
    /// is in [`SqliteWrites`].
    postgres_batches: std::sync::Arc<postgres_batches::PostgresBatches>,
}

#[derive(Clone, Debug)]
enum Backend {
    /// A pool for reads, the request path's reads on the calling thread (`sqlite_reads.rs`), and what writes.
    Sqlite {
        reads: SqlitePool,
        inline_reads: std::sync::Arc<sqlite_reads::InlineReads>,
        writes: std::sync::Arc<SqliteWrites>,
    },
    Postgres(PgPool),
}

/// What writes a SQLite file: the writers of this process, which take turns.
#[derive(Debug)]
struct SqliteWrites {
    /// Single statements and small transactions go through one sqlx connection of their own: apart from the batch
    /// connection it alone changes the file, so its page cache mostly stays valid between writes (a connection
    /// drops its cache whenever another one has written), and no write waits for a pooled connection behind reads.
    writer: SqlitePool,
    /// The delivery engine's batches, written by a thread of their own (`sqlite_batches.rs`).
    batches: sqlite_batches::BatchWriter,
    /// This process's SQLite writers take turns here, before either connection. SQLite admits one writer at a
    /// time; a connection that finds the write lock taken sleeps in SQLite's busy handler, in steps of 1, 2, 5,
    /// 10 ... 100 ms, and does not wake when the lock is freed: under load most of a write's latency was that
    /// sleeping (measured with `callbridge-load`: 4,214 busy-handler sleeps averaging 4.1 ms in 8 s against 2,555
    /// commits). Queueing here wakes the next writer as soon as the previous one commits. The busy timeout still
    /// arbitrates between processes sharing one file.
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The private folder of an in-memory database's file, removed when the last clone of the store goes.
    _scratch: Option<tempfile::TempDir>,
}

/// Runs `$body` with `$pool` bound to the active back end's pool. The body is compiled once per back end, so
/// the same `sqlx::query(...)` code serves both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite { reads: $pool, .. } => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs `$body` with `$pool` bound to the pool that writes: on SQLite this process's one writer connection, its
/// turn taken first (see [`Store::sqlite_writer`]); hold it for one statement, never across a CRM call.
macro_rules! with_writer {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite { writes, .. } => {
                let _turn = writes.turn.lock().await;
                let $pool = &writes.writer;
                $body
            }
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_writer;

/// Runs `$body` inside a transaction bound to `$tx` (use `&mut *$tx` as the executor) and commits it; an early
/// return through `?` drops the transaction, which rolls it back. SQLite transactions start `IMMEDIATE`, taking
/// the write lock up front, so a writer waits for its turn (busy timeout) instead of failing when it upgrades.
macro_rules! with_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite { writes, .. } => {
                let _turn = writes.turn.lock().await;
                let mut $tx = writes.writer.begin_with("BEGIN IMMEDIATE").await?;
                let output = $body;
                $tx.commit().await?;
                output
            }
            $crate::store::Backend::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let output = $body;
                $tx.commit().await?;
                output
            }
        }
    };
}
pub(crate) use with_tx;

impl Store {
    /// Opens a pool for `database_url`: `postgres://...` (or `postgresql://`), `sqlite://path`, `sqlite:path`,
    /// `sqlite::memory:`, or a bare file path. SQLite files are created if missing and run in WAL mode with a busy
    /// timeout (concurrent writers wait their turn) and foreign keys on.
    pub async fn connect(database_url: &str) -> Result<Store, StoreError> {
        let url = database_url.trim();
        if url.is_empty() {
            return Err(StoreError::UnsupportedUrl(String::new()));
        }
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            // No ping before handing out a pooled connection: it would be one more round trip for every store
            // call. A connection the server dropped fails its next statement instead (the request answers
            // "Database operation failed"; a delivery job is retried). sqlx closes connections idle for ten
            // minutes, before most servers and proxies drop them.
            let pool = PgPoolOptions::new()
                .max_connections(POSTGRES_MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            Backend::Postgres(pool)
        } else if url.starts_with("sqlite:") || !url.contains("://") {
            connect_sqlite(url).await?
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        Ok(Store {
            backend,
            cipher: None,
            clock: Default::default(),
            admin_configs: admin_config_cache(),
            postgres_batches: Default::default(),
        })
    }

    /// Applies the embedded migrations that have not run yet. Safe to call from several instances at once: on
    /// PostgreSQL sqlx holds an advisory lock while migrating, and SQLite serialises the writers.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite { reads: pool, .. } => {
                // SQLite has no advisory lock: instances migrating one fresh file at the same moment collide, the
                // loser's migration transaction rolls back, and its next pass finds the migration applied.
                let mut attempt = 1;
                loop {
                    match SQLITE_MIGRATIONS.run(pool).await {
                        Ok(()) => break,
                        Err(MigrateError::Execute(_) | MigrateError::ExecuteMigration(..))
                            if attempt < SQLITE_MIGRATE_ATTEMPTS =>
                        {
                            tokio::time::sleep(Duration::from_millis(50) * attempt).await;
                            attempt += 1;
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
            }
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Sets the cipher that seals CRM tokens; without one, methods that store or read tokens fail with
    /// [`StoreError::NoCipher`].
    pub fn with_cipher(mut self, cipher: TokenCipher) -> Store {
        self.cipher = Some(cipher);
        self
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Checks the database answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        if let Backend::Sqlite { inline_reads, writes, .. } = &self.backend {
            inline_reads.close();
            writes.batches.close().await;
            writes.writer.close().await;
        }
        with_pool!(self, pool => pool.close().await);
    }

    /// Now, for times instances compare with each other's: see the module docs. On PostgreSQL this machine's clock
    /// plus the database clock's lead, sampled again when the last sample is [`CLOCK_SAMPLE_EVERY`] old (one round
    /// trip then, none otherwise); the sample's error is half the round trip's.
    /// Now on the clock the store's job, lease and expiry times are written in (see the module docs): compare
    /// those times with this, not with this machine's clock.
    pub async fn shared_now(&self) -> Result<DateTime<Utc>, StoreError> {
        from_ms("shared clock", self.shared_now_ms().await?)
    }

    async fn shared_now_ms(&self) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => self.clock.now_ms(pool).await,
            Backend::Sqlite { .. } => Ok(now_ms()),
        }
    }

    fn cipher(&self) -> Result<&TokenCipher, StoreError> {
        self.cipher.as_ref().ok_or(StoreError::NoCipher)
    }
}

/// Every call a CRM sees reads its account's admin configuration; admins change it rarely. Kept this long, a change
/// made through another instance reaches this one's logs within [`ADMIN_CONFIG_TTL`]; one made through this
/// instance at once.
fn admin_config_cache() -> moka::future::Cache<String, Option<AdminConfig>> {
    moka::future::Cache::builder().max_capacity(10_000).time_to_live(ADMIN_CONFIG_TTL).build()
}

/// The pool for reads and the writers. An in-memory database (`sqlite::memory:`) is a file in a private temporary
/// folder, removed when the store goes: SQLite shares a database in memory between connections only in shared-cache
/// mode, whose table locks fail a reader beside a writer instead of making it wait, and the store reads, writes and
/// runs batches on connections of their own.
async fn connect_sqlite(url: &str) -> Result<Backend, StoreError> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let scratch = in_memory.then(scratch_folder).transpose()?;
    let options = match &scratch {
        Some(folder) => SqliteConnectOptions::new().filename(folder.path().join("callbridge.db")),
        None if url.starts_with("sqlite:") => SqliteConnectOptions::from_str(url)?,
        None => SqliteConnectOptions::new().filename(url),
    };
    restrict_database_files(options.get_filename())?;
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL syncs every commit: a queued or logged call survives a power cut too, not only a crash, which is
        // what the one-record-per-call promise needs. Call logging writes are few; the fsync is cheap next to a
        // CRM round trip.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .pragma("cache_size", (-SQLITE_CACHE_KIB).to_string())
        .foreign_keys(true);
    // No ping before handing out a pooled connection: a connection to a local file does not break, and the ping
    // is one more round trip to the connection's thread for every statement (about a third of them, before).
    let reads = SqlitePoolOptions::new()
        .max_connections(SQLITE_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    // The pools made the file and put it in WAL mode.
    let turn = std::sync::Arc::default();
    let batches = sqlite_batches::BatchWriter::open(options.get_filename(), std::sync::Arc::clone(&turn))?;
    let inline_reads = std::sync::Arc::new(sqlite_reads::InlineReads::new(options.get_filename()));
    let writes = SqliteWrites { writer, batches, turn, _scratch: scratch };
    Ok(Backend::Sqlite { reads, inline_reads, writes: std::sync::Arc::new(writes) })
}

/// A new private temporary folder (0700) for an in-memory database's file.
fn scratch_folder() -> std::io::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("callbridge-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder.tempdir()
}

/// Creates the database file readable by its owner only (0600) before SQLite opens it, and narrows an existing
/// file and its `-wal` and `-shm` companions to that. SQLite gives the companions it creates the database file's
/// mode, so they stay private too. The file holds users' settings, hashed ids and sealed tokens: nobody else on
/// the machine has any business reading it.
fn restrict_database_files(path: &std::path::Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        match created {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(StoreError::Io(error)),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let Ok(metadata) = std::fs::metadata(&file) else { continue };
            if metadata.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                tracing::warn!(file = %std::path::Path::new(&file).display(), "Narrowed a database file to mode 0600.");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The URL without its password, for error messages.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Setting a password fails only for URLs that cannot have one, and this one has one.
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// Now, as stored: UTC epoch milliseconds.
fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A duration in milliseconds, saturating instead of overflowing for absurd values.
fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn to_ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

fn from_ms(column: &'static str, ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or(StoreError::CorruptValue(column))
}

fn parse_json<T: serde::de::DeserializeOwned>(column: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Json { column, source })
}

fn to_json<T: serde::Serialize>(column: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Json { column, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQLite pools' memory is bounded by their number of connections and each one's page cache.
    #[tokio::test]
    async fn sqlite_connections_are_few_and_their_page_caches_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&dir.path().join("bounded.db").display().to_string()).await.unwrap();
        let Backend::Sqlite { reads: pool, writes, .. } = &store.backend else {
            unreachable!("a file path opens SQLite")
        };
        assert_eq!(pool.options().get_max_connections(), SQLITE_MAX_CONNECTIONS);
        // Hold every connection at once, so each one's own setting is read rather than the first one's again.
        let mut held = Vec::new();
        for _ in 0..SQLITE_MAX_CONNECTIONS {
            let mut connection = pool.acquire().await.unwrap();
            let cache_size: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&mut *connection).await.unwrap();
            assert_eq!(cache_size, -SQLITE_CACHE_KIB);
            held.push(connection);
        }
        drop(held);
        assert_eq!(writes.writer.options().get_max_connections(), 1);
        let cache_size: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&writes.writer).await.unwrap();
        assert_eq!(cache_size, -SQLITE_CACHE_KIB);
        assert_eq!(writes.batches.cache_size().await, Some(-SQLITE_CACHE_KIB));
        store.close().await;
    }

    /// An in-memory database lives in a private folder of its own (mode 0700, the file 0600), gone with the store.
    #[tokio::test]
    async fn an_in_memory_database_is_a_private_file_removed_with_the_store() {
        use std::os::unix::fs::PermissionsExt as _;
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let Backend::Sqlite { writes, .. } = &store.backend else { unreachable!("sqlite::memory: opens SQLite") };
        let folder = writes._scratch.as_ref().expect("an in-memory database has a scratch folder").path().to_owned();
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&folder.join("callbridge.db")), 0o600);
        store.close().await;
        drop(store);
        assert!(!folder.exists(), "{} is left behind", folder.display());
    }
}
