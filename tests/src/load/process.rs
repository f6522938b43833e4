//! Resource readings of a process (peak resident memory, CPU time) and of the machine (load average), taken from
//! Linux's `/proc`; elsewhere they read as unknown.

use std::time::Duration;

/// The kernel reports CPU times in clock ticks of 1/100 s (`USER_HZ`, 100 on every Linux architecture we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// A process to read: a pid, or this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proc {
    Pid(u32),
    Current,
}

impl Proc {
    fn path(self, file: &str) -> String {
        match self {
            Proc::Pid(pid) => format!("/proc/{pid}/{file}"),
            Proc::Current => format!("/proc/self/{file}"),
        }
    }

    /// The peak resident set size over the process's life (`VmHWM`), in KiB.
    pub fn peak_rss_kib(self) -> Option<u64> {
        status_field(&std::fs::read_to_string(self.path("status")).ok()?, "VmHWM:")
    }

    /// The current resident set size (`VmRSS`), in KiB.
    pub fn rss_kib(self) -> Option<u64> {
        status_field(&std::fs::read_to_string(self.path("status")).ok()?, "VmRSS:")
    }

    /// User plus system CPU time of all the process's threads so far.
    pub fn cpu_time(self) -> Option<Duration> {
        cpu_time_from_stat(&std::fs::read_to_string(self.path("stat")).ok()?)
    }
}

/// A `Name:   1234 kB` line of `/proc/<pid>/status`, in KiB.
fn status_field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// `utime + stime` from `/proc/<pid>/stat`: fields 14 and 15, counted after the parenthesised command name, which
/// may itself hold spaces and parentheses.
pub fn cpu_time_from_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come field 3 (state) onwards, so utime (14) is the 12th and stime (15) the 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) as f64 / TICKS_PER_SECOND))
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|field| field.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// The number of CPUs this process may use.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}
