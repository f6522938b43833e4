//! The load generator behind `cargo xtask load`: a mock Pipedrive, a driver that plays many browser extensions
//! against an App Connect-compatible server, and a report with latencies, errors, resources and the exactly-once
//! verdict.
//!
//! Flow: [`mock::MockPipedrive`] answers the CRM calls after a fixed delay and records every activity created;
//! [`server::SpawnedServer`] runs `callbridge serve` against it (or the driver targets a server already running);
//! [`driver::run`] logs users in, runs the operation mix and reads every session back; [`verify::check`] compares
//! what the driver was told, what the CRM received and what the server reports.

pub mod driver;
pub mod metrics;
pub mod mock;
pub mod process;
pub mod recovery;
pub mod report;
pub mod server;
pub mod verify;

#[cfg(test)]
mod tests;
