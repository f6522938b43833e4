//! Resource readings of a process (peak resident memory, CPU time) and of the machine (load average, open TCP
//! connections), taken from Linux's `/proc`; elsewhere they read as unknown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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

/// How many TCP connections to `server` are established from this network namespace: the client ends in
/// `/proc/net/tcp` and `/proc/net/tcp6` whose remote end is `server` (the server's own ends of them do not count,
/// their remote end is the client).
pub fn established_connections_to(server: SocketAddr) -> Option<usize> {
    let mut count = None;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            *count.get_or_insert(0) += count_established(&text, server);
        }
    }
    count
}

/// The `ESTABLISHED` rows (state `01`) of a `/proc/net/tcp` or `tcp6` table whose remote address is `server`.
pub fn count_established(table: &str, server: SocketAddr) -> usize {
    let server = SocketAddr::new(canonical(server.ip()), server.port());
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let mut fields = line.split_whitespace().skip(2);
            let (Some(remote), Some(state)) = (fields.next(), fields.next()) else { return false };
            state == "01" && parse_proc_address(remote).is_some_and(|remote| remote == server)
        })
        .count()
}

/// Reads an `ADDRESS:PORT` of the kernel's socket tables: the address as 32-bit words in hex, each printed as the
/// machine reads the network-order bytes (so they are taken back with native byte order), the port in plain hex.
fn parse_proc_address(text: &str) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |index: usize| -> Option<[u8; 4]> {
        let hex = address.get(index * 8..index * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = match address.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0_u8; 16];
            for (index, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(index)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(canonical(ip), port))
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}
