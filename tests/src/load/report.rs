//! The load report: latency histograms per operation, error counts by kind, the server's resources and the
//! exactly-once verdict, printed as a table or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::load::metrics::ServerTiming;
use crate::load::recovery::DeliveryReport;
use crate::load::verify::ExactlyOnceReport;

/// The operations the load mixes, each with its own latency figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// `GET /oauth-callback`, before the measured phase.
    #[default]
    Login,
    /// `GET /contact`.
    Contact,
    /// `POST /callLog` for a fresh session.
    Create,
    /// A create that must be refused: the same fresh session created twice at once, or an earlier session again.
    DuplicateCreate,
    /// `PATCH /callLog` on a session created earlier.
    Update,
    /// `GET /callLog?sessionIds=` for up to 5 sessions created earlier.
    Get,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Login => "login",
            OpKind::Contact => "contact",
            OpKind::Create => "create",
            OpKind::DuplicateCreate => "duplicate_create",
            OpKind::Update => "update",
            OpKind::Get => "get",
        }
    }
}

/// How one operation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An error, keyed by kind: `http 500`, `successful:false: <message>`, `transport: timeout`, ...
    Error(String),
}

/// Latency histograms in microseconds, 1 µs to 10 minutes at 3 significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX).clamp(1, 600_000_000)
}

/// Figures for one operation while the load runs.
#[derive(Debug)]
pub struct OpStats {
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    pub crm_calls: u64,
    /// End to end, as the client saw it (in rate mode from the scheduled start).
    pub latency: Histogram<u64>,
    /// End to end minus the time the CRM spent on the operation's calls.
    pub server: Histogram<u64>,
}

impl Default for OpStats {
    fn default() -> Self {
        Self { requests: 0, ok: 0, failed: 0, crm_calls: 0, latency: new_histogram(), server: new_histogram() }
    }
}

/// Collects every measured operation.
#[derive(Debug, Default)]
pub struct Recorder {
    pub ops: BTreeMap<OpKind, OpStats>,
    /// `<operation>: <error kind>` -> count.
    pub errors: BTreeMap<String, u64>,
}

impl Recorder {
    pub fn record(&mut self, op: OpKind, latency: Duration, server: Duration, crm_calls: u64, outcome: &Outcome) {
        let stats = self.ops.entry(op).or_default();
        stats.requests += 1;
        stats.crm_calls += crm_calls;
        stats.latency.saturating_record(micros(latency));
        stats.server.saturating_record(micros(server));
        match outcome {
            Outcome::Ok => stats.ok += 1,
            Outcome::Error(kind) => {
                stats.failed += 1;
                *self.errors.entry(format!("{}: {kind}", op.name())).or_default() += 1;
            }
        }
    }

    pub fn merge(&mut self, other: Recorder) {
        for (op, theirs) in other.ops {
            let ours = self.ops.entry(op).or_default();
            ours.requests += theirs.requests;
            ours.ok += theirs.ok;
            ours.failed += theirs.failed;
            ours.crm_calls += theirs.crm_calls;
            // Both histograms have the same bounds, so adding cannot fail.
            let _ = ours.latency.add(&theirs.latency);
            let _ = ours.server.add(&theirs.server);
        }
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
            mean: histogram.mean() / 1000.0,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OpReport {
    pub operation: OpKind,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    /// Requests per second over the measured window.
    pub throughput_rps: f64,
    pub latency_ms: Percentiles,
    /// The server's own share: end to end minus the CRM's time on the operation's calls.
    pub server_ms: Percentiles,
    pub crm_calls_per_request: f64,
}

impl OpReport {
    pub fn from_stats(operation: OpKind, stats: &OpStats, window: Duration) -> Self {
        let seconds = window.as_secs_f64().max(f64::EPSILON);
        Self {
            operation,
            requests: stats.requests,
            ok: stats.ok,
            failed: stats.failed,
            throughput_rps: stats.requests as f64 / seconds,
            latency_ms: Percentiles::of(&stats.latency),
            server_ms: Percentiles::of(&stats.server),
            crm_calls_per_request: if stats.requests == 0 {
                0.0
            } else {
                stats.crm_calls as f64 / stats.requests as f64
            },
        }
    }
}

/// What was measured against what.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunSettings {
    pub server_url: String,
    /// `callbridge` when this tool started the server, else `external`.
    pub server: String,
    /// `sqlite`, `postgres` or `unknown` (an external server).
    pub database: String,
    /// `closed` (C clients back to back) or `open` (a fixed request rate).
    pub mode: String,
    pub users: usize,
    pub concurrency: usize,
    pub target_rate_rps: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub crm_delay_ms: f64,
}

/// The machine the run happened on, so figures can be compared honestly.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MachineInfo {
    pub cpus: usize,
    /// `/proc/loadavg` before the run (1, 5 and 15 minutes); other work on the machine skews the figures.
    pub load_average_before: Option<[f64; 3]>,
}

/// The server process's resources (only when its pid is known), or the total of several instances'.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServerResources {
    /// `None` for the total of several instances.
    pub pid: Option<u32>,
    /// Peak resident memory over the process's life (`VmHWM`); for several instances the sum of their peaks, an upper
    /// bound of their peak together.
    pub peak_rss_mib: Option<f64>,
    /// CPU time (user + system) during the measured window.
    pub cpu_seconds: Option<f64>,
    pub cpu_ms_per_request: Option<f64>,
    /// Average CPU use during the window, in cores (2.0 = both cores of a 2-core machine).
    pub cpu_cores_used: Option<f64>,
}

impl ServerResources {
    /// The server's figures from its instances' (pid, peak RSS and CPU seconds each), and the instances' own when
    /// there are several: CPU and memory add up, and a figure unknown for one instance is unknown in total. CPU per
    /// request is given in total only (the tool does not count which instance served which measured request).
    pub fn total(mut instances: Vec<Self>, requests: u64, window: Duration) -> (Option<Self>, Vec<Self>) {
        if instances.is_empty() {
            return (None, Vec::new());
        }
        let window_s = window.as_secs_f64().max(f64::EPSILON);
        for instance in &mut instances {
            instance.cpu_cores_used = instance.cpu_seconds.map(|cpu| cpu / window_s);
        }
        let sum = |figure: fn(&Self) -> Option<f64>| instances.iter().map(figure).sum::<Option<f64>>();
        let cpu = sum(|it| it.cpu_seconds);
        let total = Self {
            pid: if instances.len() == 1 { instances[0].pid } else { None },
            peak_rss_mib: sum(|it| it.peak_rss_mib),
            cpu_seconds: cpu,
            cpu_ms_per_request: cpu.filter(|_| requests > 0).map(|cpu| cpu * 1000.0 / requests as f64),
            cpu_cores_used: sum(|it| it.cpu_cores_used),
        };
        (Some(total), if instances.len() > 1 { instances } else { Vec::new() })
    }
}

/// The open TCP connections to the server during the measured window, counted at the client ends on this machine
/// every [`ConnectionCounts::INTERVAL`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConnectionCounts {
    pub min: usize,
    pub max: usize,
    pub samples: usize,
}

impl ConnectionCounts {
    pub const INTERVAL: Duration = Duration::from_millis(250);

    /// Adds one sample.
    pub fn add(counts: Option<Self>, open: usize) -> Self {
        match counts {
            None => Self { min: open, max: open, samples: 1 },
            Some(counts) => Self { min: counts.min.min(open), max: counts.max.max(open), samples: counts.samples + 1 },
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CrmReport {
    pub calls_by_endpoint: BTreeMap<&'static str, u64>,
    /// Requests to endpoints the mock does not serve.
    pub unexpected: BTreeMap<String, u64>,
    pub unauthorized: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LoadReport {
    pub settings: RunSettings,
    pub machine: MachineInfo,
    /// The measured window (warm-up excluded).
    pub measured_s: f64,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    pub throughput_rps: f64,
    pub login: OpReport,
    pub operations: Vec<OpReport>,
    pub errors: BTreeMap<String, u64>,
    pub server_resources: Option<ServerResources>,
    /// Each instance's resources when several served the run (`server_resources` is then their total).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instance_resources: Vec<ServerResources>,
    /// Open connections to the server during the window (unknown where `/proc/net/tcp` is not readable).
    pub connections: Option<ConnectionCounts>,
    /// The server's own timings from its `/metrics` over the window (empty when it exports none).
    pub server_timings: Vec<ServerTiming>,
    /// The load generator's own CPU time (it shares the machine with the server).
    pub driver_cpu_seconds: Option<f64>,
    pub crm: CrmReport,
    pub exactly_once: ExactlyOnceReport,
    pub delivery: DeliveryReport,
}

impl LoadReport {
    /// Whether the run proves what it must: every session logged exactly once.
    pub fn passed(&self) -> bool {
        self.exactly_once.passed() && self.delivery.passed()
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let s = &self.settings;
        let mode = match s.target_rate_rps {
            Some(rate) => format!("open loop at {rate} requests/s"),
            None => format!("closed loop, {} concurrent clients", s.concurrency),
        };
        let _ = writeln!(
            out,
            "callbridge-load: {} ({}, {}), {mode}, {} users, {:.1} s measured after {:.1} s warm-up, CRM delay {} ms",
            s.server_url, s.server, s.database, s.users, self.measured_s, s.warmup_s, s.crm_delay_ms
        );
        let load = self
            .machine
            .load_average_before
            .map(|[one, five, fifteen]| format!("load average before {one:.2} {five:.2} {fifteen:.2}"))
            .unwrap_or_else(|| "load average unknown".into());
        let _ = writeln!(out, "machine: {} CPUs, {load}", self.machine.cpus);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<17}{:>9}{:>8}{:>9} | {:>8}{:>8}{:>8}{:>9} | {:>8}{:>8}{:>8}{:>9} | {:>5}",
            "operation",
            "requests",
            "failed",
            "req/s",
            "p50",
            "p90",
            "p99",
            "max",
            "srv p50",
            "srv p90",
            "srv p99",
            "srv max",
            "CRM"
        );
        for op in std::iter::once(&self.login).chain(&self.operations) {
            if op.requests == 0 {
                continue;
            }
            let (l, v) = (&op.latency_ms, &op.server_ms);
            let _ = writeln!(
                out,
                "{:<17}{:>9}{:>8}{:>9.1} | {:>8.2}{:>8.2}{:>8.2}{:>9.2} | {:>8.2}{:>8.2}{:>8.2}{:>9.2} | {:>5.2}",
                op.operation.name(),
                op.requests,
                op.failed,
                op.throughput_rps,
                l.p50,
                l.p90,
                l.p99,
                l.max,
                v.p50,
                v.p90,
                v.p99,
                v.max,
                op.crm_calls_per_request
            );
        }
        let _ = writeln!(
            out,
            "{:<17}{:>9}{:>8}{:>9.1}   (latencies in ms; srv = the server's share, CRM time removed; CRM = calls per request)",
            "total", self.requests, self.failed, self.throughput_rps
        );
        let _ = writeln!(out);
        if self.errors.is_empty() {
            let _ = writeln!(out, "errors: none");
        } else {
            let _ = writeln!(out, "errors:");
            for (kind, count) in &self.errors {
                let _ = writeln!(out, "  {count:>7}  {kind}");
            }
        }
        let figure = |value: Option<f64>, unit: &str| match value {
            Some(value) => format!("{value:.2}{unit}"),
            None => "unknown".into(),
        };
        match &self.server_resources {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "{}: peak RSS {}, CPU {} in the window = {} per request, {} cores on average",
                    match r.pid {
                        Some(pid) => format!("server (pid {pid})"),
                        None => format!("{} instances together", self.instance_resources.len()),
                    },
                    figure(r.peak_rss_mib, " MiB"),
                    figure(r.cpu_seconds, " s"),
                    figure(r.cpu_ms_per_request, " ms"),
                    figure(r.cpu_cores_used, ""),
                );
                for (number, r) in self.instance_resources.iter().enumerate() {
                    let pid = r.pid.map_or_else(|| "unknown".into(), |pid| pid.to_string());
                    let _ = writeln!(
                        out,
                        "  instance {} (pid {pid}): peak RSS {}, CPU {} in the window, {} cores on average",
                        number + 1,
                        figure(r.peak_rss_mib, " MiB"),
                        figure(r.cpu_seconds, " s"),
                        figure(r.cpu_cores_used, ""),
                    );
                }
            }
            None => {
                let _ = writeln!(out, "server: resources unknown (no pid; pass --server-pid for an external server)");
            }
        }
        if let Some(c) = &self.connections {
            let _ = writeln!(
                out,
                "open connections to the server in the window: {} to {} ({} samples, every {} ms)",
                c.min,
                c.max,
                c.samples,
                ConnectionCounts::INTERVAL.as_millis()
            );
        }
        if !self.server_timings.is_empty() {
            let timings: Vec<String> = self
                .server_timings
                .iter()
                .map(|timing| format!("{} {:.2} ms x{}", timing.series, timing.mean_ms, timing.count))
                .collect();
            let _ = writeln!(out, "server-side means (/metrics): {}", timings.join(", "));
        }
        if let Some(cpu) = self.driver_cpu_seconds {
            let _ = writeln!(out, "load generator and mock CRM: CPU {cpu:.2} s (same machine)");
        }
        let calls = self.crm.calls_by_endpoint.iter().filter(|(_, n)| **n > 0);
        let calls: Vec<String> = calls.map(|(endpoint, n)| format!("{endpoint} {n}")).collect();
        let _ = writeln!(out, "CRM calls: {}", calls.join(", "));
        if !self.crm.unexpected.is_empty() || self.crm.unauthorized > 0 {
            let unexpected: Vec<String> = self.crm.unexpected.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(
                out,
                "CRM requests the mock does not serve: {}; bad tokens: {}",
                unexpected.join(", "),
                self.crm.unauthorized
            );
        }
        let e = &self.exactly_once;
        if e.passed() {
            let _ = writeln!(
                out,
                "exactly-once: PASSED: {} sessions ({} create requests): {} logged exactly once, {} never logged \
                 (every create failed)",
                e.sessions, e.create_attempts, e.logged_once, e.never_logged
            );
        } else {
            let _ = writeln!(out, "{}", e.failure_message());
        }
        let d = &self.delivery;
        let _ = writeln!(
            out,
            "delivery: {}: {} creates and {} updates accepted; undelivered {} creates, {} updates; {} updates applied \
             twice; longest answer-to-CRM time: create {:.2} s, update {:.2} s; waited {:.2} s after the load",
            if d.passed() { "PASSED" } else { "FAILED" },
            d.creates_accepted,
            d.updates_accepted,
            d.undelivered_creates,
            d.undelivered_updates,
            d.updates_applied_twice,
            d.max_create_lag_s,
            d.max_update_lag_s,
            d.settled_after_s
        );
        if let Some(o) = &d.outage {
            let _ = writeln!(
                out,
                "outage: {:.1} s from {:.1} s into the window, {} CRM requests refused with 503; last delivery {:.2} s \
                 after the outage ended",
                o.length_s, o.start_s, o.refused_requests, o.last_delivery_after_end_s
            );
        }
        out
    }
}
