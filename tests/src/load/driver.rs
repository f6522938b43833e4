//! The load driver: logs users in through the server's OAuth callback, runs the operation mix against the App
//! Connect HTTP API (closed loop with C clients, or open loop at a fixed rate; with several server instances each
//! request goes to the next), then reads every session back and hands the evidence to the exactly-once check.
//!
//! Each user has at most one request in flight (a user is taken from a pool for the length of one operation), as
//! one browser extension would, which lets the mock CRM attribute its time to the operation being measured.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::load::metrics;
use crate::load::mock::{MockPipedrive, SUBJECT_PREFIX, person_for_term};
use crate::load::process::{self, Proc};
use crate::load::recovery::{self, Accepted, OutageWindow};
use crate::load::report::{
    ConnectionCounts, CrmReport, LoadReport, MachineInfo, OpKind, OpReport, Outcome, Recorder, RunSettings,
    ServerResources,
};
use crate::load::verify::{self, SessionEvidence};

/// How much of each operation the load mixes, in relative weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    pub contact: u32,
    pub create: u32,
    pub update: u32,
    pub get: u32,
    pub duplicate: u32,
}

impl Default for Mix {
    /// Roughly what one extension does per call: look the number up, log it, read it back, update it; a few
    /// duplicate creates exercise the exactly-once claim.
    fn default() -> Self {
        Self { contact: 25, create: 25, update: 20, get: 25, duplicate: 5 }
    }
}

impl Mix {
    /// One cycle of operations in which each appears as often as its weight, spread evenly (smooth weighted
    /// round robin), so any window of the run sees the same mix.
    pub fn cycle(&self) -> Vec<OpKind> {
        let weights = [
            (OpKind::Contact, self.contact),
            (OpKind::Create, self.create),
            (OpKind::Update, self.update),
            (OpKind::Get, self.get),
            (OpKind::DuplicateCreate, self.duplicate),
        ];
        let total: i64 = weights.iter().map(|(_, weight)| i64::from(*weight)).sum();
        let mut current = [0_i64; 5];
        let mut cycle = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        for _ in 0..total {
            for (slot, (_, weight)) in current.iter_mut().zip(&weights) {
                *slot += i64::from(*weight);
            }
            let Some((best, _)) = current.iter().enumerate().max_by_key(|(index, value)| (**value, -(*index as i64)))
            else {
                break;
            };
            current[best] -= total;
            cycle.push(weights[best].0);
        }
        cycle
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub users: usize,
    /// Concurrent clients in closed-loop mode.
    pub concurrency: usize,
    /// The measured window.
    pub duration: Duration,
    /// Load before the measured window, not counted.
    pub warmup: Duration,
    /// Requests per second, open loop; `None` runs closed loop.
    pub rate: Option<f64>,
    pub request_timeout: Duration,
    pub mix: Mix,
    /// A CRM outage during the measured window.
    pub outage: Option<Outage>,
    /// How long to wait after the load for accepted work to reach the CRM.
    pub settle_timeout: Duration,
    /// Each user sends over a connection of its own, kept open between its requests, as each user's browser does;
    /// otherwise all users share one pool, which holds about as many connections as requests are in flight.
    pub connection_per_user: bool,
}

/// The mock CRM answers 503 (with `Retry-After`) to every data call for `length`, from `start` after the measured
/// window opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    pub start: Duration,
    pub length: Duration,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            users: 100,
            concurrency: 64,
            duration: Duration::from_secs(30),
            warmup: Duration::from_secs(2),
            rate: None,
            request_timeout: Duration::from_secs(30),
            mix: Mix::default(),
            outage: None,
            settle_timeout: Duration::from_secs(600),
            connection_per_user: false,
        }
    }
}

/// The server under load: one instance, or several sharing one database.
#[derive(Clone, Debug)]
pub struct Target {
    pub instances: Vec<Instance>,
    /// `callbridge` or `external`.
    pub server: String,
    /// `sqlite`, `postgres` or `unknown`.
    pub database: String,
}

/// One server instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `http://host:port`, no trailing slash.
    pub base_url: String,
    /// The server's process, for memory and CPU figures.
    pub pid: Option<u32>,
}

/// The instances' base URLs handed out in turn, one per request, as a round-robin load balancer sends requests: a
/// user's consecutive requests (and the two creates of a simultaneous duplicate) reach different instances, so
/// the exactly-once check covers state the instances share only through their database.
#[derive(Debug)]
pub struct RoundRobin {
    base_urls: Vec<String>,
    next: AtomicUsize,
}

impl RoundRobin {
    /// Panics on an empty list: a run has at least one instance.
    pub fn new(base_urls: Vec<String>) -> Self {
        assert!(!base_urls.is_empty(), "a round robin over no instance");
        Self { base_urls, next: AtomicUsize::new(0) }
    }

    /// The instance the next request goes to.
    pub fn pick(&self) -> &str {
        &self.base_urls[self.next.fetch_add(1, Ordering::Relaxed) % self.base_urls.len()]
    }

    pub fn all(&self) -> &[String] {
        &self.base_urls
    }
}

/// One session the load created, as the driver saw it.
#[derive(Clone, Debug, Default)]
struct SessionTrack {
    session: String,
    attempts: u32,
    acknowledged_log_ids: Vec<String>,
    /// Creates answered "saved, will be logged" (queued, no log id yet).
    queued_acknowledgements: u32,
    /// When the first create of the session was accepted.
    accepted_at: Option<Instant>,
}

/// A logged-in user and what it has logged; owned by one task at a time.
#[derive(Debug)]
struct UserState {
    /// The mock's user number (1-based).
    number: usize,
    jwt: String,
    /// Every session this user tried to create.
    sessions: Vec<SessionTrack>,
    /// Sessions acknowledged as logged, with their log ids (empty while queued), for updates and reads.
    logged: Vec<(String, String)>,
    /// Accepted updates: session, the subject that marks the update, when it was answered.
    updates: Vec<(String, String, Instant)>,
    /// Picks phone numbers and sessions for this user's next operations.
    sequence: u64,
    /// `rc-account-id` and `rc-extension-id`, which the extension sends on every request once RingCentral told it
    /// who is logged in (hashed ids; ten users share an account, as extensions of one company do).
    rc_headers: reqwest::header::HeaderMap,
    /// The client this user's requests go through: the shared pool, or a connection of its own
    /// ([`LoadConfig::connection_per_user`]).
    http: reqwest::Client,
}

/// The hashed RingCentral ids the extension would send for user `number`.
fn rc_headers(number: usize) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    let hashed = |kind: u64, id: u64| format!("{kind:08x}{id:056x}");
    for (name, value) in [
        ("rc-account-id", hashed(0xacc0, (number as u64 - 1) / 10)),
        ("rc-extension-id", hashed(0xe870, number as u64)),
    ] {
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

impl UserState {
    fn next_phone(&mut self) -> String {
        self.sequence += 1;
        // Spread numbers so lookups rarely repeat (a repeat may be answered from the server's cache).
        let local = (self.number as u64 * 7_919 + self.sequence * 104_729) % 10_000_000;
        format!("+1415{local:07}")
    }

    /// A logged session to update or re-create, cycling through the most recent ones.
    fn pick_logged(&mut self) -> Option<(String, String)> {
        if self.logged.is_empty() {
            return None;
        }
        self.sequence += 1;
        let recent = self.logged.len().min(32);
        let index = self.logged.len() - 1 - (self.sequence as usize % recent);
        self.logged.get(index).cloned()
    }

    fn track(&mut self, session: &str) -> usize {
        self.sessions.push(SessionTrack { session: session.to_owned(), attempts: 0, ..SessionTrack::default() });
        self.sessions.len() - 1
    }
}

/// Users not busy with a request; taking one waits until one is free.
struct UserPool {
    idle: Mutex<VecDeque<UserState>>,
    available: Semaphore,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl UserPool {
    fn new(users: Vec<UserState>) -> Self {
        let available = Semaphore::new(users.len());
        Self { idle: Mutex::new(users.into()), available }
    }

    async fn take(&self) -> Option<UserState> {
        self.available.acquire().await.ok()?.forget();
        lock(&self.idle).pop_front()
    }

    fn give_back(&self, user: UserState) {
        lock(&self.idle).push_back(user);
        self.available.add_permits(1);
    }

    fn drain(&self) -> Vec<UserState> {
        lock(&self.idle).drain(..).collect()
    }
}

/// Everything the operation tasks share.
struct Shared {
    instances: RoundRobin,
    mock: Arc<MockPipedrive>,
    cycle: Vec<OpKind>,
    next_op: AtomicU64,
    /// Makes session ids unique across runs against one database.
    session_nonce: u64,
    next_session: AtomicU64,
    /// The phase whose operations are counted.
    measure_from: Instant,
    measure_until: Instant,
    recorder: Mutex<Recorder>,
    duplicate_turn: AtomicU64,
}

/// The load generator's HTTP client: a plain keep-alive pool, no proxy from the environment.
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    client(timeout, usize::MAX)
}

/// A client with a single connection kept open between requests: one user's browser. A request made while that
/// connection is busy (the simultaneous duplicate create) opens a second one, which is closed when it is done
/// rather than kept, so a user holds one connection, as [`LoadConfig::connection_per_user`] promises.
pub fn user_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    client(timeout, 1)
}

fn client(timeout: Duration, idle_connections: usize) -> anyhow::Result<reqwest::Client> {
    #[expect(clippy::disallowed_methods, reason = "the load generator is a client of the server, not a connector")]
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(idle_connections)
        .tcp_nodelay(true)
        .build()?;
    Ok(client)
}

/// Runs the load and returns the report (the exactly-once verdict included; the caller decides what a failure
/// means for its exit code).
pub async fn run(config: &LoadConfig, target: &Target, mock: Arc<MockPipedrive>) -> anyhow::Result<LoadReport> {
    if config.users == 0 || config.concurrency == 0 {
        bail!("--users and --concurrency must be at least 1");
    }
    if target.instances.is_empty() {
        bail!("no server instance to drive");
    }
    if config.users > mock.users() {
        bail!("the mock CRM knows {} users but the load needs {}", mock.users(), config.users);
    }
    if let Some(rate) = config.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        bail!("--rate must be a positive number of requests per second");
    }
    let machine = MachineInfo { cpus: process::cpus(), load_average_before: process::load_average() };
    let http = http_client(config.request_timeout)?;
    let instances =
        RoundRobin::new(target.instances.iter().map(|it| it.base_url.trim_end_matches('/').to_owned()).collect());

    let login_started = Instant::now();
    let user_http = || -> anyhow::Result<reqwest::Client> {
        if config.connection_per_user { user_client(config.request_timeout) } else { Ok(http.clone()) }
    };
    let (users, login_recorder) = login_all(&user_http, &instances, &mock, config.users, config.concurrency).await?;
    let login_window = login_started.elapsed();

    let measure_from = Instant::now() + config.warmup;
    let shared = Arc::new(Shared {
        instances,
        mock: Arc::clone(&mock),
        cycle: config.mix.cycle(),
        next_op: AtomicU64::new(0),
        session_nonce: SystemTime::now().duration_since(UNIX_EPOCH).map(|it| it.as_millis() as u64).unwrap_or(0),
        next_session: AtomicU64::new(0),
        measure_from,
        measure_until: measure_from + config.duration,
        recorder: Mutex::new(Recorder::default()),
        duplicate_turn: AtomicU64::new(0),
    });
    if shared.cycle.is_empty() {
        bail!("the operation mix is empty");
    }
    let pool = Arc::new(UserPool::new(users));
    let outage = config.outage.map(|outage| {
        let start = measure_from + outage.start;
        mock.set_outage(start, outage.length);
        OutageWindow { start, end: start + outage.length, offset_s: outage.start.as_secs_f64() }
    });

    // Resource readings bracket the measured window (only when every instance's process is known).
    let server_pids: Vec<u32> = target.instances.iter().map(|it| it.pid).collect::<Option<_>>().unwrap_or_default();
    let resource_probe = {
        let (shared, pids) = (Arc::clone(&shared), server_pids.clone());
        tokio::spawn(async move {
            let read = || -> (Vec<Option<Duration>>, Option<Duration>) {
                (pids.iter().map(|pid| Proc::Pid(*pid).cpu_time()).collect(), Proc::Current.cpu_time())
            };
            tokio::time::sleep_until(shared.measure_from.into()).await;
            let at_start = read();
            tokio::time::sleep_until(shared.measure_until.into()).await;
            (at_start, read())
        })
    };

    let connection_probe = {
        let shared = Arc::clone(&shared);
        let mut server_addrs = Vec::new();
        for base_url in shared.instances.all() {
            server_addrs.push(server_address(base_url).await);
        }
        tokio::spawn(async move {
            let server_addrs: Vec<std::net::SocketAddr> = server_addrs.into_iter().collect::<Option<_>>()?;
            tokio::time::sleep_until(shared.measure_from.into()).await;
            let mut counts = None;
            let mut ticks = tokio::time::interval(ConnectionCounts::INTERVAL);
            while Instant::now() < shared.measure_until {
                ticks.tick().await;
                let open: Option<usize> =
                    server_addrs.iter().map(|addr| process::established_connections_to(*addr)).sum();
                counts = Some(ConnectionCounts::add(counts, open?));
            }
            counts
        })
    };

    let scrape_probe = {
        let (shared, http) = (Arc::clone(&shared), http.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(shared.measure_from.into()).await;
            let before = metrics::scrape_all(&http, shared.instances.all()).await;
            tokio::time::sleep_until(shared.measure_until.into()).await;
            (before, metrics::scrape_all(&http, shared.instances.all()).await)
        })
    };

    match config.rate {
        None => run_closed_loop(&shared, &pool, config.concurrency).await,
        Some(rate) => run_open_loop(&shared, &pool, rate).await,
    }
    let ((server_cpu_start, driver_cpu_start), (server_cpu_end, driver_cpu_end)) =
        resource_probe.await.context("the resource probe task failed")?;

    let connections = connection_probe.await.context("the connection probe task failed")?;
    let server_timings = match scrape_probe.await.context("the metrics probe task failed")? {
        (Some(before), Some(after)) => metrics::window(&before, &after),
        _ => Vec::new(),
    };

    let users = pool.drain();
    if users.len() != config.users {
        bail!("{} users were lost by failed tasks", config.users - users.len());
    }

    let window = shared.measure_until.saturating_duration_since(shared.measure_from);
    let recorder = std::mem::take(&mut *lock(&shared.recorder));
    let delivery = recovery::settle(&mock, &accepted(&users), outage, config.settle_timeout).await;
    let evidence = read_back_settled(&http, &shared.instances, &users, &mock, config.settle_timeout).await;
    let ledger = mock.ledger();
    let exactly_once = verify::check(&evidence, &ledger.creates_by_session, ledger.creates_without_session);

    let operations: Vec<OpReport> =
        recorder.ops.iter().map(|(op, stats)| OpReport::from_stats(*op, stats, window)).collect();
    let requests: u64 = operations.iter().map(|op| op.requests).sum();
    let ok: u64 = operations.iter().map(|op| op.ok).sum();
    let login = login_recorder
        .ops
        .get(&OpKind::Login)
        .map(|stats| OpReport::from_stats(OpKind::Login, stats, login_window))
        .unwrap_or_default();
    let mut errors = recorder.errors;
    for (kind, count) in login_recorder.errors {
        *errors.entry(kind).or_default() += count;
    }
    let seconds_between = |start: Option<Duration>, end: Option<Duration>| match (start, end) {
        (Some(start), Some(end)) => Some(end.saturating_sub(start).as_secs_f64()),
        _ => None,
    };
    let each_instance =
        server_pids.iter().zip(server_cpu_start.into_iter().zip(server_cpu_end)).map(|(pid, (start, end))| {
            ServerResources {
                pid: Some(*pid),
                peak_rss_mib: Proc::Pid(*pid).peak_rss_kib().map(|kib| kib as f64 / 1024.0),
                cpu_seconds: seconds_between(start, end),
                ..ServerResources::default()
            }
        });
    let (server_resources, instance_resources) = ServerResources::total(each_instance.collect(), requests, window);
    let driver_cpu_seconds = seconds_between(driver_cpu_start, driver_cpu_end);

    Ok(LoadReport {
        settings: RunSettings {
            server_url: shared.instances.all().join(", "),
            server: target.server.clone(),
            database: target.database.clone(),
            mode: if config.rate.is_some() { "open" } else { "closed" }.into(),
            users: config.users,
            concurrency: config.concurrency,
            target_rate_rps: config.rate,
            duration_s: config.duration.as_secs_f64(),
            warmup_s: config.warmup.as_secs_f64(),
            crm_delay_ms: mock.delay().as_secs_f64() * 1000.0,
        },
        machine,
        measured_s: window.as_secs_f64(),
        requests,
        ok,
        failed: requests - ok,
        throughput_rps: requests as f64 / window.as_secs_f64().max(f64::EPSILON),
        login,
        operations,
        errors,
        server_resources,
        instance_resources,
        connections,
        server_timings,
        driver_cpu_seconds,
        crm: CrmReport {
            calls_by_endpoint: ledger.calls_by_endpoint,
            unexpected: ledger.unexpected,
            unauthorized: ledger.unauthorized,
        },
        exactly_once,
        delivery,
    })
}

/// The server's socket address, for counting the connections to it; `None` when the URL names none.
async fn server_address(base_url: &str) -> Option<std::net::SocketAddr> {
    let url = reqwest::Url::parse(base_url).ok()?;
    let authority = format!("{}:{}", url.host_str()?, url.port_or_known_default()?);
    tokio::net::lookup_host(authority).await.ok()?.next()
}

/// Every create and update the server accepted, for the delivery check.
fn accepted(users: &[UserState]) -> Accepted {
    let creates = users
        .iter()
        .flat_map(|user| &user.sessions)
        .filter_map(|track| Some((track.session.clone(), track.accepted_at?)))
        .collect();
    let updates = users.iter().flat_map(|user| user.updates.iter().cloned()).collect();
    Accepted { creates, updates }
}

/// C clients, each running one operation after another until the window closes.
async fn run_closed_loop(shared: &Arc<Shared>, pool: &Arc<UserPool>, concurrency: usize) {
    let mut clients = JoinSet::new();
    for _ in 0..concurrency {
        let (shared, pool) = (Arc::clone(shared), Arc::clone(pool));
        clients.spawn(async move {
            loop {
                let scheduled = Instant::now();
                if scheduled >= shared.measure_until {
                    break;
                }
                let Some(mut user) = pool.take().await else { break };
                let op = shared.cycle[shared.next_op.fetch_add(1, Ordering::Relaxed) as usize % shared.cycle.len()];
                measure(&shared, &mut user, op, scheduled).await;
                pool.give_back(user);
            }
        });
    }
    while clients.join_next().await.is_some() {}
}

/// Requests started on a fixed schedule, whether or not earlier ones have finished; each one's latency counts from
/// its scheduled start, so a slow server cannot hide its queue (no coordinated omission).
async fn run_open_loop(shared: &Arc<Shared>, pool: &Arc<UserPool>, rate: f64) {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut in_flight = JoinSet::new();
    let mut sequence: u32 = 0;
    loop {
        let scheduled = start + interval.mul_f64(f64::from(sequence));
        if scheduled >= shared.measure_until {
            break;
        }
        sequence = sequence.saturating_add(1);
        tokio::time::sleep_until(scheduled.into()).await;
        let (shared, pool) = (Arc::clone(shared), Arc::clone(pool));
        in_flight.spawn(async move {
            let Some(mut user) = pool.take().await else { return };
            let op = shared.cycle[shared.next_op.fetch_add(1, Ordering::Relaxed) as usize % shared.cycle.len()];
            measure(&shared, &mut user, op, scheduled).await;
            pool.give_back(user);
        });
        // Reap finished requests so the set stays small.
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
}

/// Runs one operation and records it if it was scheduled inside the measured window.
async fn measure(shared: &Shared, user: &mut UserState, op: OpKind, scheduled: Instant) {
    let crm_before = shared.mock.usage(user.number);
    let sent = Instant::now();
    let (op, outcome) = perform(shared, user, op).await;
    let done = Instant::now();
    let crm = shared.mock.usage(user.number).since(crm_before);
    if scheduled >= shared.measure_from && scheduled < shared.measure_until {
        let latency = done.saturating_duration_since(scheduled);
        let server = done.saturating_duration_since(sent).saturating_sub(crm.busy);
        lock(&shared.recorder).record(op, latency, server, crm.calls, &outcome);
    }
}

/// Runs `op` for `user`; returns the operation actually run (a user with nothing logged yet creates instead of
/// updating or reading).
async fn perform(shared: &Shared, user: &mut UserState, op: OpKind) -> (OpKind, Outcome) {
    match op {
        OpKind::Contact => (op, contact(shared, user).await),
        OpKind::Update => match user.pick_logged() {
            Some((session, _)) => (op, update(shared, user, &session).await),
            None => (OpKind::Create, create_fresh(shared, user).await),
        },
        OpKind::Get if user.logged.is_empty() => (OpKind::Create, create_fresh(shared, user).await),
        OpKind::Get => (op, get(shared, user).await),
        OpKind::DuplicateCreate => (op, duplicate(shared, user).await),
        OpKind::Create | OpKind::Login => (OpKind::Create, create_fresh(shared, user).await),
    }
}

/// A response judged: the JSON body of a 2xx answer with `successful:true`, else the error's kind.
async fn call(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(|error| transport_kind(&error))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|error| transport_kind(&error))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(80).collect();
        return Err(normalise(&format!("http {}: {}", status.as_u16(), text.trim())));
    }
    let json: Value = serde_json::from_slice(&body).map_err(|_| "response is not JSON".to_owned())?;
    if json.get("successful").and_then(Value::as_bool) == Some(true) {
        Ok(json)
    } else {
        Err(normalise(&format!("successful:false: {}", return_message(&json))))
    }
}

fn transport_kind(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    };
    format!("transport: {kind}")
}

/// The message of a `returnMessage` (object or string), for grouping errors.
fn return_message(json: &Value) -> String {
    match json.get("returnMessage") {
        Some(Value::Object(message)) => message.get("message").and_then(Value::as_str).unwrap_or("(no message)").into(),
        Some(Value::String(message)) => message.clone(),
        _ => json.get("message").and_then(Value::as_str).unwrap_or("(no message)").into(),
    }
}

/// Replaces long digit runs (session ids, numbers) with `<n>`, so errors group by kind.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    for character in text.chars().chain(std::iter::once('\0')) {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        if digits.len() >= 5 {
            out.push_str("<n>");
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if character != '\0' {
            out.push(character);
        }
    }
    out
}

fn log_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

async fn contact(shared: &Shared, user: &mut UserState) -> Outcome {
    let phone = user.next_phone();
    let request =
        user.http.get(format!("{}/contact", shared.instances.pick())).headers(user.rc_headers.clone()).query(&[
            ("jwtToken", user.jwt.as_str()),
            ("phoneNumber", phone.as_str()),
            ("overridingFormat", ""),
            ("isExtension", "false"),
        ]);
    match call(request).await {
        Ok(body) if body.get("contact").and_then(Value::as_array).is_some_and(|list| !list.is_empty()) => Outcome::Ok,
        Ok(_) => Outcome::Error("successful:true without contacts".into()),
        Err(kind) => Outcome::Error(kind),
    }
}

/// The create body the extension sends for an inbound call from `phone` answered by `user`.
fn create_body(user: &UserState, session: &str, phone: &str) -> Value {
    let person = person_for_term(phone);
    let started_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|it| it.as_millis() as u64).unwrap_or(0);
    json!({
        "logInfo": {
            "id": format!("call-{session}"),
            "sessionId": session,
            "telephonySessionId": format!("s-{session}"),
            "direction": "Inbound",
            "type": "Voice",
            "action": "Phone Call",
            "result": "Call connected",
            "startTime": started_ms.saturating_sub(120_000),
            "duration": 67,
            "from": { "phoneNumber": phone, "name": format!("Person {person}"), "location": "San Francisco, CA" },
            "to": { "phoneNumber": "+16505550100", "extensionNumber": "101", "name": format!("Load User {}", user.number) },
            "customSubject": format!("{SUBJECT_PREFIX} {session} inbound call"),
        },
        "note": "Customer asked about the renewal; follow up next week.",
        "additionalSubmission": {},
        "overridingFormat": [],
        "contactId": person,
        "contactType": "contact",
        "contactName": format!("Person {person}"),
    })
}

impl Shared {
    fn new_session(&self) -> String {
        format!("{}{:07}", self.session_nonce, self.next_session.fetch_add(1, Ordering::Relaxed))
    }

    async fn send_create(&self, user: &UserState, body: &Value) -> Result<Value, String> {
        let request = user
            .http
            .post(format!("{}/callLog", self.instances.pick()))
            .headers(user.rc_headers.clone())
            .query(&[("jwtToken", user.jwt.as_str())])
            .json(body);
        call(request).await
    }
}

/// Records a create's answer on the session; `Ok(log id)` when it was acknowledged.
fn note_create(user: &mut UserState, track: usize, answer: &Result<Value, String>) -> Result<String, String> {
    let session = &mut user.sessions[track];
    session.attempts += 1;
    match answer {
        Ok(body) => match log_id(body.get("logId")) {
            Some(id) => {
                session.acknowledged_log_ids.push(id.clone());
                session.accepted_at.get_or_insert_with(Instant::now);
                Ok(id)
            }
            // The CRM is unreachable: the server saved the create and will log it (an empty id stands for it).
            None if return_message(body).starts_with("Saved.") => {
                session.queued_acknowledgements += 1;
                session.accepted_at.get_or_insert_with(Instant::now);
                Ok(String::new())
            }
            None => Err("successful:true without a logId".into()),
        },
        Err(kind) => Err(kind.clone()),
    }
}

async fn create_fresh(shared: &Shared, user: &mut UserState) -> Outcome {
    let session = shared.new_session();
    let phone = user.next_phone();
    let body = create_body(user, &session, &phone);
    let track = user.track(&session);
    let answer = shared.send_create(&*user, &body).await;
    match note_create(user, track, &answer) {
        Ok(id) => {
            user.logged.push((session, id));
            Outcome::Ok
        }
        Err(kind) => Outcome::Error(kind),
    }
}

fn is_existing_log_refusal(kind: &str) -> bool {
    kind.starts_with("successful:false: Existing log for session")
}

/// A create that must be refused: alternately two simultaneous creates of a fresh session (exactly one may win)
/// and a repeat of a session logged earlier (must be refused).
async fn duplicate(shared: &Shared, user: &mut UserState) -> Outcome {
    let turn = shared.duplicate_turn.fetch_add(1, Ordering::Relaxed);
    if turn % 2 == 1
        && let Some((session, logged_id)) = user.pick_logged()
    {
        let Some(track) = user.sessions.iter().position(|it| it.session == session) else {
            return Outcome::Error("internal: logged session not tracked".into());
        };
        let phone = user.next_phone();
        let answer = shared.send_create(&*user, &create_body(user, &session, &phone)).await;
        return match note_create(user, track, &answer) {
            // Its create was queued: the repeat merged into it, and is told the one record's id once there is one
            // (the exactly-once check compares that id with the CRM's).
            Ok(_) if logged_id.is_empty() => Outcome::Ok,
            Ok(_) => Outcome::Error("a repeated create was accepted".into()),
            Err(kind) if is_existing_log_refusal(&kind) => Outcome::Ok,
            Err(kind) => Outcome::Error(kind),
        };
    }
    let session = shared.new_session();
    let phone = user.next_phone();
    let body = create_body(user, &session, &phone);
    let track = user.track(&session);
    let (first, second) = tokio::join!(shared.send_create(&*user, &body), shared.send_create(&*user, &body));
    let answers = [note_create(user, track, &first), note_create(user, track, &second)];
    let accepted: Vec<&String> = answers.iter().filter_map(|it| it.as_ref().ok()).collect();
    if let Some(id) = accepted.first() {
        user.logged.push((session, (*id).clone()));
    }
    match (&answers[0], &answers[1]) {
        // Merged into one queued create: both are told the one record's id.
        (Ok(first), Ok(second)) if first == second => Outcome::Ok,
        // One told the record, the other that it will be logged (an empty id): the record was made, yet one request
        // was told it is still to come (as two instances' clocks once made it).
        (Ok(first), Ok(second)) if first.is_empty() || second.is_empty() => Outcome::Error(
            "of two simultaneous creates, one was told the record and the other \"will be logged\"".into(),
        ),
        (Ok(_), Ok(_)) => Outcome::Error("both simultaneous creates were accepted with different records".into()),
        (Ok(_), Err(kind)) | (Err(kind), Ok(_)) if is_existing_log_refusal(kind) => Outcome::Ok,
        (Ok(_), Err(kind)) | (Err(kind), Ok(_)) => Outcome::Error(kind.clone()),
        (Err(first), Err(second)) if is_existing_log_refusal(first) && is_existing_log_refusal(second) => {
            Outcome::Error("both simultaneous creates were refused as existing".into())
        }
        (Err(first), Err(second)) => {
            Outcome::Error(if is_existing_log_refusal(first) { second.clone() } else { first.clone() })
        }
    }
}

async fn update(shared: &Shared, user: &mut UserState, session: &str) -> Outcome {
    user.sequence += 1;
    // Unique per update, so the mock's record tells whether (and how often) this update reached the CRM.
    let subject = format!("{SUBJECT_PREFIX} {session} inbound call (update {})", user.sequence);
    let phone = user.next_phone();
    let started_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|it| it.as_millis() as u64).unwrap_or(0);
    let body = json!({
        "sessionId": session,
        "subject": subject,
        "note": format!("Customer asked about the renewal; follow up next week. Update {}.", user.sequence),
        "recordingLink": format!("https://media.example.com/recordings/{session}"),
        "startTime": started_ms.saturating_sub(120_000),
        "duration": 94,
        "result": "Call connected",
        "direction": "Inbound",
        "from": { "phoneNumber": phone },
        "to": { "phoneNumber": "+16505550100", "extensionNumber": "101" },
    });
    let request = user
        .http
        .patch(format!("{}/callLog", shared.instances.pick()))
        .headers(user.rc_headers.clone())
        .query(&[("jwtToken", user.jwt.as_str())])
        .json(&body);
    match call(request).await {
        Ok(_) => {
            user.updates.push((session.to_owned(), subject, Instant::now()));
            Outcome::Ok
        }
        Err(kind) => Outcome::Error(kind),
    }
}

async fn get(shared: &Shared, user: &mut UserState) -> Outcome {
    let recent: Vec<(String, String)> = user.logged.iter().rev().take(5).cloned().collect();
    let ids: Vec<&str> = recent.iter().map(|(session, _)| session.as_str()).collect();
    match get_logs(&user.http, shared.instances.pick(), user, &ids).await {
        Ok(records) => {
            for (session, expected) in &recent {
                match records.iter().find(|(id, _, _)| id == session) {
                    Some((_, true, Some(id))) if id == expected => {}
                    // Queued when it was answered: any record it has now is the one.
                    Some((_, true, _)) if expected.is_empty() => {}
                    Some((_, true, _)) => return Outcome::Error("a logged session reads back another logId".into()),
                    _ => return Outcome::Error("a logged session reads back as not matched".into()),
                }
            }
            Outcome::Ok
        }
        Err(kind) => Outcome::Error(kind),
    }
}

/// `GET /callLog?sessionIds=...` (at most 5): `(sessionId, matched, logId)` per returned entry.
async fn get_logs(
    http: &reqwest::Client,
    base_url: &str,
    user: &UserState,
    sessions: &[&str],
) -> Result<Vec<(String, bool, Option<String>)>, String> {
    let joined = sessions.join(",");
    let request = http.get(format!("{base_url}/callLog")).headers(user.rc_headers.clone()).query(&[
        ("jwtToken", user.jwt.as_str()),
        ("sessionIds", joined.as_str()),
        ("requireDetails", "false"),
    ]);
    let body = call(request).await?;
    let logs = body.get("logs").and_then(Value::as_array).ok_or("successful:true without logs")?;
    Ok(logs
        .iter()
        .filter_map(|log| {
            let session = match log.get("sessionId")? {
                Value::String(id) => id.clone(),
                other => other.to_string(),
            };
            let matched = log.get("matched").and_then(Value::as_bool).unwrap_or(false);
            Some((session, matched, log_id(log.get("logId"))))
        })
        .collect())
}

/// Logs users 1..=n in through `GET /oauth-callback`, the way the extension calls it: the redirect URL unencoded,
/// so the provider's `code` and `state` arrive as top-level parameters. Each user logs in through the client
/// `user_http` gives it, which its later requests use too.
async fn login_all(
    user_http: &(impl Fn() -> anyhow::Result<reqwest::Client> + Sync),
    instances: &RoundRobin,
    mock: &MockPipedrive,
    users: usize,
    concurrency: usize,
) -> anyhow::Result<(Vec<UserState>, Recorder)> {
    let recorder = Mutex::new(Recorder::default());
    let results: Vec<anyhow::Result<UserState>> = futures::stream::iter(1..=users)
        .map(|number| {
            let recorder = &recorder;
            async move {
                let base_url = instances.pick();
                let url = format!(
                    "{base_url}/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/\
                     redirect.html?code=user-{number}&state=platform=pipedrive&hostname=load-company-{number}.\
                     pipedrive.com&rcAccountId=load-account-{number}"
                );
                let http = user_http()?;
                let crm_before = mock.usage(number);
                let started = Instant::now();
                let response = async {
                    let response = http.get(&url).send().await.map_err(|error| transport_kind(&error))?;
                    let status = response.status();
                    let body = response.bytes().await.map_err(|error| transport_kind(&error))?;
                    let json: Value = serde_json::from_slice(&body).map_err(|_| {
                        let text: String = String::from_utf8_lossy(&body).chars().take(120).collect();
                        format!("http {}: {}", status.as_u16(), text.trim())
                    })?;
                    match json.get("jwtToken").and_then(Value::as_str) {
                        Some(jwt) if status.is_success() && !jwt.is_empty() => Ok(jwt.to_owned()),
                        _ => Err(format!("http {}: no jwtToken: {}", status.as_u16(), return_message(&json))),
                    }
                }
                .await;
                let elapsed = started.elapsed();
                let crm = mock.usage(number).since(crm_before);
                let outcome = match &response {
                    Ok(_) => Outcome::Ok,
                    Err(kind) => Outcome::Error(kind.clone()),
                };
                lock(recorder).record(OpKind::Login, elapsed, elapsed.saturating_sub(crm.busy), crm.calls, &outcome);
                let jwt = response.map_err(|kind| anyhow::anyhow!("login of user {number} failed: {kind}"))?;
                Ok(UserState {
                    number,
                    jwt,
                    sessions: Vec::new(),
                    logged: Vec::new(),
                    updates: Vec::new(),
                    sequence: 0,
                    rc_headers: rc_headers(number),
                    http,
                })
            }
        })
        .buffer_unordered(concurrency.clamp(1, 32))
        .collect()
        .await;
    let mut logged_in = Vec::with_capacity(users);
    for result in results {
        logged_in.push(result?);
    }
    logged_in.sort_by_key(|user| user.number);
    Ok((logged_in, recorder.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)))
}

/// Reads every session back with the CRM's records beside it; a session whose recording may still follow (see
/// [`SessionEvidence::recording_may_follow`]: under overload a client gives up on creates the server then
/// finishes) is read again until the server reports it or `timeout` passes.
async fn read_back_settled(
    http: &reqwest::Client,
    instances: &RoundRobin,
    users: &[UserState],
    mock: &MockPipedrive,
    timeout: Duration,
) -> Vec<SessionEvidence> {
    let with_crm_ids = |mut evidence: Vec<SessionEvidence>| {
        let ledger = mock.ledger();
        for session in &mut evidence {
            if let Some(ids) = ledger.creates_by_session.get(&session.session) {
                session.crm_activity_ids = ids.clone();
            }
        }
        evidence
    };
    let mut evidence = with_crm_ids(read_back(http, instances, users, |_| true).await);
    let deadline = Instant::now() + timeout;
    loop {
        let pending: HashSet<String> =
            evidence.iter().filter(|it| it.recording_may_follow()).map(|it| it.session.clone()).collect();
        if pending.is_empty() || Instant::now() >= deadline {
            return evidence;
        }
        // sleep-ok: the poll interval of a wait with a deadline
        tokio::time::sleep(Duration::from_millis(200)).await;
        let again = with_crm_ids(read_back(http, instances, users, |session| pending.contains(session)).await);
        let mut again: HashMap<String, SessionEvidence> =
            again.into_iter().map(|it| (it.session.clone(), it)).collect();
        for session in &mut evidence {
            if let Some(fresh) = again.remove(&session.session) {
                *session = fresh;
            }
        }
    }
}

/// Reads the sessions the load tried to create (those `wanted` accepts) back from the server, 5 per request as the
/// API allows.
async fn read_back(
    http: &reqwest::Client,
    instances: &RoundRobin,
    users: &[UserState],
    wanted: impl Fn(&str) -> bool,
) -> Vec<SessionEvidence> {
    let wanted = &wanted;
    let batches: Vec<(&UserState, Vec<&SessionTrack>)> = users
        .iter()
        .flat_map(|user| {
            let tracks: Vec<&SessionTrack> = user.sessions.iter().filter(|it| wanted(&it.session)).collect();
            tracks.chunks(5).map(|chunk| (user, chunk.to_vec())).collect::<Vec<_>>()
        })
        .collect();
    let answered: Vec<Vec<SessionEvidence>> = futures::stream::iter(batches)
        .map(|(user, tracks)| async move {
            let ids: Vec<&str> = tracks.iter().map(|track| track.session.as_str()).collect();
            let mut records = Err(String::new());
            for _ in 0..3 {
                records = get_logs(http, instances.pick(), user, &ids).await;
                if records.is_ok() {
                    break;
                }
            }
            tracks
                .iter()
                .map(|track| SessionEvidence {
                    session: track.session.clone(),
                    attempts: track.attempts,
                    acknowledged_log_ids: track.acknowledged_log_ids.clone(),
                    queued_acknowledgements: track.queued_acknowledgements,
                    crm_activity_ids: Vec::new(),
                    server_record: records.as_ref().ok().and_then(|records| {
                        records.iter().find(|(id, _, _)| *id == track.session).map(|(_, m, id)| (*m, id.clone()))
                    }),
                })
                .collect()
        })
        .buffer_unordered(16)
        .collect()
        .await;
    answered.into_iter().flatten().collect()
}
